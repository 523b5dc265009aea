import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

#if canImport(Glibc)
import Glibc
#endif

@Suite("Subprocess")
struct SubprocessTests {
    @Test("exit codes of true and false")
    func exitCodes() throws {
        #expect(try Subprocess.run(["true"]).status == .exited(0))
        #expect(try Subprocess.run(["false"]).status == .exited(1))
        #expect(try Subprocess.run(["sh", "-c", "exit 23"]).status == .exited(23))
    }

    @Test("a child killed by a signal is reported as signalled")
    func signalled() throws {
        let result = try Subprocess.run(["sh", "-c", "kill -TERM $$"])
        #expect(result.status == .signalled(SIGTERM))
        #expect(result.status.description == "killed by SIGTERM")
        #expect(TerminationStatus.exited(23).description == "exit status 23")
    }

    @Test("stdout and stderr are captured separately")
    func capture() throws {
        let result = try Subprocess.run(
            ["sh", "-c", "printf out; printf 'err line\\n' >&2; exit 3"], captureOutput: true)
        #expect(result.outputText == "out")
        #expect(result.standardError == "err line\n")
        #expect(result.status == .exited(3))
    }

    @Test("stdout is discarded unless captured")
    func discarded() throws {
        let result = try Subprocess.run(["sh", "-c", "echo hidden; echo shown >&2"])
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError == "shown\n")
    }

    @Test("2 MiB on both stdout and stderr do not deadlock")
    func largeOutput() throws {
        // head writes 2 MiB to stdout first, then 2 MiB to stderr: a runner
        // that reads one pipe to EOF before the other would hang here.
        let script = "head -c 2097152 /dev/zero; head -c 2097152 /dev/zero | tr '\\0' e >&2; head -c 1000 /dev/zero"
        let result = try Subprocess.run(["sh", "-c", script], captureOutput: true)
        #expect(result.status == .exited(0))
        #expect(result.standardOutput.count == 2_097_152 + 1000)
        #expect(result.standardError.utf8.count == 2_097_152)
        #expect(result.standardError.utf8.allSatisfy { $0 == UInt8(ascii: "e") })
    }

    @Test("a program that is not on PATH is a clear error")
    func missingProgram() {
        #expect {
            try Subprocess.run(["asd-no-such-program-xyz", "--help"])
        } throws: { error in
            guard let error = error as? ASDError else { return false }
            return error == .system(operation: "start the program", path: "asd-no-such-program-xyz", errno: .noEntry)
                && error.message.contains("No such file or directory")
        }
    }

    @Test("requireSuccess accepts allowed codes and reports the command otherwise")
    func requireSuccess() throws {
        let vanished = try Subprocess.run(["sh", "-c", "exit 24"])
        try vanished.requireSuccess(allowing: [24])
        let failed = try Subprocess.run(["sh", "-c", "echo boom >&2; exit 5"])
        #expect(throws: ASDError.command(argv: ["sh", "-c", "echo boom >&2; exit 5"], status: "exit status 5", stderr: "boom\n")) {
            try failed.requireSuccess(allowing: [24])
        }
    }

    @Test("environment is replaced when given, and stdin is /dev/null")
    func environmentAndInput() throws {
        let result = try Subprocess.run(
            ["/bin/sh", "-c", "echo \"$ASD_TEST_VALUE\"; cat"], captureOutput: true,
            environment: ["ASD_TEST_VALUE": "forty two", "PATH": "/usr/bin:/bin"])
        #expect(result.outputText == "forty two\n")
    }

    @Test("stdin from a file")
    func inputFile() throws {
        let result = try Subprocess.run(["cat"], standardInput: .file("/proc/self/mountinfo"), captureOutput: true)
        #expect(result.status == .exited(0))
        #expect(result.outputText.contains(" - "))
    }

    @Test("the child gets default signal dispositions and an empty mask")
    func signalState() throws {
        // Ignore SIGPIPE (process-wide, harmless: writes then get EPIPE) and
        // block SIGUSR1 in this thread; posix_spawn would pass both on to the
        // child without SETSIGDEF/SETSIGMASK. SigIgn/SigBlk are hex masks.
        // Signals 32 and 33 are glibc's own (thread cancel, setxid) and
        // cannot be changed with sigaction; only the standard 1-31 count.
        signal(SIGPIPE, SIG_IGN)
        var block = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGUSR1)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let result = try Subprocess.run(["sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"], captureOutput: true)
        let lines = result.outputText.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let mask = try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16))
            #expect(mask & 0x7fff_ffff == 0, "\(line)")
        }
    }

    @Test("descriptors other than 0-2 do not leak into the child")
    func noLeakedDescriptors() throws {
        // Deliberately without O_CLOEXEC, and numbered >= 100 so it cannot be
        // confused with the descriptor ls opens for the listing itself.
        let low = open("/proc/self/status", O_RDONLY)
        let fd = fcntl(low, F_DUPFD, 100)
        close(low)
        defer { close(fd) }
        #expect(fd >= 100)
        let result = try Subprocess.run(["ls", "/proc/self/fd"], captureOutput: true)
        let fds = result.outputText.split(separator: "\n").compactMap { Int32($0) }
        #expect(!fds.contains(fd))
    }

    @Test("a recorded signal is forwarded to the running child")
    func forwardsSignals() throws {
        let start = SignalCounter()
        let source = SignalSource { start.next() }
        let result = try Subprocess.execute(
            ["sleep", "30"], standardInput: .nullDevice, captureOutput: false,
            outputPassthrough: false, environment: nil, signals: source)
        #expect(result.status == .signalled(SIGUSR2))
    }

    @Test("which finds programs on PATH and rejects the rest")
    func which() {
        #expect(Subprocess.which("sh", path: "/nonexistent:/bin") == "/bin/sh")
        #expect(Subprocess.which("asd-no-such-program-xyz", path: "/bin:/usr/bin") == nil)
        #expect(Subprocess.which("/bin/sh") == "/bin/sh")
        #expect(Subprocess.which("passwd", path: "/etc") == nil)  // not executable
        #expect(Subprocess.which("", path: "/bin") == nil)
    }

    @Test("wait status decoding", arguments: [
        (Int32(0), TerminationStatus.exited(0)),
        (Int32(0x1700), .exited(23)),
        (Int32(15), .signalled(15)),
        (Int32(0x80 | 9), .signalled(9)),  // core dumped bit
    ])
    func waitStatus(raw: Int32, expected: TerminationStatus) {
        #expect(TerminationStatus(waitStatus: raw) == expected)
    }
}

/// Reports "one SIGUSR2 arrived" from the third poll on, so the child is
/// already running when the runner sees it.
final class SignalCounter: Sendable {
    private let calls = Mutex(0)

    func next() -> (count: Int, signal: Int32) {
        let n = calls.withLock { value in
            value += 1
            return value
        }
        return n >= 3 ? (1, SIGUSR2) : (0, 0)
    }
}

import Synchronization

@Suite("Signals")
struct SignalsTests {
    @Test("names of common signals")
    func names() {
        #expect(Signals.name(SIGTERM) == "SIGTERM")
        #expect(Signals.name(SIGHUP) == "SIGHUP")
        #expect(Signals.name(SIGINT) == "SIGINT")
        #expect(Signals.name(42) == "signal 42")
    }

    /// A bug of ours (an empty command line) is an internal error, exit 1, not a usage error (64).
    @Test func emptyCommandLineIsAnInternalError() {
        #expect(throws: ASDError.internalError("an empty command line was given to the subprocess runner")) {
            try Subprocess.run([FilePath]())
        }
        #expect(ASDError.internalError("x").exitCode == 1)
    }
}
