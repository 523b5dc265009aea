#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Where the child's stdout goes.
enum ChildOutput: Equatable {
    case discard, inherit, capture
    /// An open descriptor of ours (not closed by the runner), e.g. a file asd created.
    case fileDescriptor(Int32)
}

/// A failed step while starting a child (before it ran any code of its own).
struct SpawnFailure: Error {
    var operation: String
    var path: FilePath
    var errno: Errno
}

/// A child started with posix_spawnp(3) and the read ends of its pipes.
struct SpawnedChild {
    let pid: pid_t
    /// Read end of the stdout pipe, when capturing.
    let outputFD: Int32?
    /// Read end of the stderr pipe.
    let errorFD: Int32

    /// posix_spawnp(3) with file actions for fds 0-2, closefrom(3) for the
    /// rest, an empty signal mask (POSIX_SPAWN_SETSIGMASK) and every signal
    /// at its default (POSIX_SPAWN_SETSIGDEF), so SIG_IGN inherited by us
    /// does not leak into the child. No POSIX_SPAWN_SETPGROUP: the child
    /// stays in our process group.
    static func spawn(
        argv: [FilePath], input: StandardInput, output: ChildOutput, environment: [String: String]?,
        workingDirectory: Int32? = nil
    ) throws(SpawnFailure) -> SpawnedChild {
        var opened: [Int32] = []  // our fds to close whatever happens
        defer { for fd in opened { close(fd) } }

        var inputFD: Int32? = nil
        switch input {
        case .nullDevice, .inherit: break
        case .fileDescriptor(let fd): inputFD = fd
        case .file(let path):
            let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
            if fd < 0 { throw SpawnFailure(operation: "open the input file", path: path, errno: .current) }
            opened.append(fd)
            inputFD = fd
        }

        let errPipe = try makePipe()
        opened.append(errPipe.read)
        opened.append(errPipe.write)
        var outPipe: (read: Int32, write: Int32)? = nil
        if output == .capture {
            let pipe = try makePipe()
            opened.append(pipe.read)
            opened.append(pipe.write)
            outPipe = pipe
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch input {
        case .nullDevice: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .inherit: break
        case .file, .fileDescriptor: posix_spawn_file_actions_adddup2(&actions, inputFD!, 0)
        }
        switch output {
        case .discard: posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        case .inherit: break
        case .capture: posix_spawn_file_actions_adddup2(&actions, outPipe!.write, 1)
        case .fileDescriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, 1)
        }
        if let workingDirectory {
            let rc = casd_spawn_add_fchdir(&actions, workingDirectory)
            if rc != 0 {
                throw SpawnFailure(operation: "start (posix_spawn_file_actions_addfchdir_np failed)", path: argv[0], errno: Errno(rawValue: rc))
            }
        }
        posix_spawn_file_actions_adddup2(&actions, errPipe.write, 2)
        _ = casd_spawn_add_closefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let envWords = environment.map { $0.map { FilePath("\($0.key)=\($0.value)") }.sorted() }
        var pid: pid_t = 0
        let rc = FilePath.withCStrings(argv) { cArgv in
            if let envWords {
                return FilePath.withCStrings(envWords) { cEnv in
                    posix_spawnp(&pid, cArgv[0]!, &actions, &attributes, cArgv, cEnv)
                }
            }
            return posix_spawnp(&pid, cArgv[0]!, &actions, &attributes, cArgv, environ)
        }
        if rc != 0 {
            throw SpawnFailure(operation: "start the program", path: argv[0], errno: Errno(rawValue: rc))
        }
        // Keep the read ends; the defer closes the write ends and the input file.
        opened.removeAll { $0 == errPipe.read || $0 == outPipe?.read }
        return SpawnedChild(pid: pid, outputFD: outPipe?.read, errorFD: errPipe.read)
    }

    /// pipe2(2) with O_CLOEXEC: the ends never leak into other children.
    private static func makePipe() throws(SpawnFailure) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if casd_pipe_cloexec(&fds) != 0 {
            throw SpawnFailure(operation: "create a pipe for", path: "a subprocess", errno: .current)
        }
        return (fds[0], fds[1])
    }

    /// Drains stdout and stderr with poll(2) until both reach EOF, then
    /// reaps the child with waitpid(2). Signals recorded meanwhile are
    /// forwarded with kill(2). Returns (stdout, stderr, status).
    func collect(signals: SignalSource) -> ([UInt8], [UInt8], TerminationStatus) {
        var output: [UInt8] = []
        var errorText: [UInt8] = []
        var forwarded = signals.poll().count
        func forwardNewSignal() {
            let now = signals.poll()
            if now.count != forwarded {
                forwarded = now.count
                if now.signal != 0 { kill(pid, now.signal) }
            }
        }

        var open: [Int32] = [errorFD] + (outputFD.map { [$0] } ?? [])
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            forwardNewSignal()
            var pollSet = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            // A timeout so a signal arriving just before poll is seen soon.
            let ready = poll(&pollSet, nfds_t(pollSet.count), 100)
            if ready < 0 {
                if errno == EINTR { continue }
                for fd in open { close(fd) }
                break
            }
            for entry in pollSet where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == errorFD {
                        errorText.append(contentsOf: buffer[0..<count])
                    } else {
                        output.append(contentsOf: buffer[0..<count])
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }

        // Both pipes are closed: the child has exited or is about to.
        var status: Int32 = 0
        var pause: UInt32 = 1000
        while true {
            forwardNewSignal()
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR {
                // ECHILD: somebody else reaped it; nothing more to learn.
                return (output, errorText, .exited(255))
            }
            usleep(pause)
            pause = min(pause * 2, 50_000)
        }
        return (output, errorText, TerminationStatus(waitStatus: status))
    }
}
