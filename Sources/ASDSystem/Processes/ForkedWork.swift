#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Runs work in a forked child and hands its result back through a pipe
/// (doc/DESIGN.md §12). `asd watch` writes back this way: the resident
/// process never starts libdispatch's worker pool, whose monitor would wake
/// it every second for good, and never keeps a write-back's memory peak.
/// Call only while the process has one thread (fork(2) copies just the caller).
public enum ForkedWork {
    /// fork(2); the child runs `body`, writes what it returns into the pipe
    /// and _exit(2)s; the parent reads until the child closes the pipe and
    /// reaps it. nil when the child could not be started or died without
    /// finishing (a signal, a crash).
    /// The pid of the latest child.
    nonisolated(unsafe) public private(set) static var lastChild: Int32 = 0

    /// `started` gets the child's pid at once. `meanwhile`: a descriptor the
    /// parent serves while it waits (`read` runs whenever it is readable), so a
    /// change queue the child fills is drained as it goes, not left to grow.
    public static func run(
        meanwhile: (descriptor: Int32, read: () -> Void)? = nil, _ body: () -> [UInt8], started: (Int32) -> Void = { _ in }
    ) -> [UInt8]? {
        var fds: [Int32] = [-1, -1]
        guard casd_pipe_cloexec(&fds) == 0 else { return nil }
        let pid = fork()
        if pid < 0 {
            close(fds[0]); close(fds[1])
            return nil
        }
        if pid == 0 {
            close(fds[0])
            var bytes = body() + [0x0a, 0x2e, 0x0a]  // "\n.\n": the child got to the end
            var written = 0
            while written < bytes.count {
                let count = bytes.withUnsafeMutableBytes { write(fds[1], $0.baseAddress! + written, $0.count - written) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                written += count
            }
            _exit(0)
        }
        lastChild = pid
        started(pid)
        close(fds[1])
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let meanwhile {
                var ready = Readiness.wait([fds[0], meanwhile.descriptor], milliseconds: nil)
                if ready[1] {
                    meanwhile.read()
                    // Lets the queue gather for 20 ms (thousands of events per read,
                    // not a few); the child's end still wakes the wait at once.
                    if !ready[0] { ready[0] = Readiness.wait([fds[0]], milliseconds: 20)[0] }
                }
                if !ready[0] { continue }
            }
            let count = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            result += buffer[..<count]
        }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard result.count >= 3, result.suffix(3).elementsEqual([0x0a, 0x2e, 0x0a]) else { return nil }
        return Array(result.dropLast(3))
    }
}
