#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// How a child process ended.
public enum TerminationStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    /// Decodes a waitpid(2) status word (the W* macros are not imported).
    public init(waitStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signalled(low)
        }
    }

    /// "exit status 23" or "killed by SIGTERM".
    public var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let sig): return "killed by \(Signals.name(sig))"
        }
    }

    public var isSuccess: Bool { self == .exited(0) }
}

/// What a finished child produced.
public struct ProcessResult: Sendable {
    /// The command line, bytes as given (paths in it may not be UTF-8).
    public var argv: [FilePath]
    public var status: TerminationStatus
    /// Captured stdout; empty unless `captureOutput` was set.
    var standardOutput: [UInt8]
    /// Captured stderr, decoded as UTF-8 (invalid bytes repaired).
    public var standardError: String

    public init(argv: [FilePath], status: TerminationStatus, standardOutput: [UInt8], standardError: String) {
        self.argv = argv
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// Captured stdout as text.
    public var outputText: String { String(decoding: standardOutput, as: UTF8.self) }
}

/// Why a program could not be run at all.
public enum SubprocessFailure: Error, Equatable, Sendable {
    /// The caller gave no program (a bug of the caller).
    case emptyCommandLine
    /// A step of starting the child failed, e.g. the program is not on PATH.
    case cannotStart(operation: String, path: FilePath, errno: Errno)
}

/// Where the child's stdin comes from.
public enum StandardInput: Sendable, Equatable {
    /// /dev/null (the default: a child never waits for a terminal).
    case nullDevice
    /// Our own stdin.
    case inherit
    /// A file opened read-only.
    case file(FilePath)
    /// An open descriptor of ours (not closed by the runner).
    case fileDescriptor(Int32)
}

/// Runs programs with posix_spawnp(3) (not Foundation.Process): the child
/// stays in our process group, gets a clean signal mask and default signal
/// dispositions, and no descriptors but 0, 1 and 2.
public enum Subprocess {
    /// Runs `argv` to completion. argv[0] is looked up on PATH (of
    /// `environment` when given, else ours). stdout is discarded unless
    /// `captureOutput` (collected) or `outputPassthrough` (goes straight to
    /// our stdout, e.g. rsync progress); stderr is always captured. Both
    /// pipes are drained with poll(2) before waitpid(2), so a chatty child
    /// never blocks. A signal recorded by `Signals` while the child runs is
    /// sent on to it with kill(2).
    ///
    /// Throws `SubprocessFailure` when the program cannot be started (e.g.
    /// not found); the child's own failure is in the returned status.
    public static func execute(
        _ argv: [FilePath],
        standardInput: StandardInput = .nullDevice,
        captureOutput: Bool = false,
        outputPassthrough: Bool = false,
        environment: [String: String]? = nil
    ) throws(SubprocessFailure) -> ProcessResult {
        try execute(
            argv, standardInput: standardInput, captureOutput: captureOutput,
            outputPassthrough: outputPassthrough, environment: environment, signals: .process)
    }

    public static func execute(
        _ argv: [FilePath],
        standardInput: StandardInput,
        captureOutput: Bool,
        outputPassthrough: Bool,
        environment: [String: String]?,
        signals: SignalSource
    ) throws(SubprocessFailure) -> ProcessResult {
        guard let program = argv.first, !program.isEmpty else { throw .emptyCommandLine }
        let output: ChildOutput = captureOutput ? .capture : (outputPassthrough ? .inherit : .discard)
        do throws(SpawnFailure) {
            let child = try SpawnedChild.spawn(
                argv: argv, input: standardInput, output: output, environment: environment)
            let (out, err, status) = child.collect(signals: signals)
            return ProcessResult(
                argv: argv, status: status, standardOutput: out,
                standardError: String(decoding: err, as: UTF8.self))
        } catch {
            throw .cannotStart(operation: error.operation, path: error.path, errno: error.errno)
        }
    }

    /// PATH lookup like the shell's: the first executable regular file named
    /// `name` in `path` (default: our PATH), or nil. A name containing '/'
    /// is checked as given.
    public static func which(_ name: String, path: String? = nil) -> String? {
        guard !name.isEmpty else { return nil }
        if name.contains("/") { return isExecutableFile(name) ? name : nil }
        let search = path ?? ProcessEnvironment.current()["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in search.split(separator: ":", omittingEmptySubsequences: false) {
            let base = dir.isEmpty ? "." : String(dir)
            let candidate = base.hasSuffix("/") ? base + name : base + "/" + name
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    /// stat(2) says regular file and access(2) says X_OK.
    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
