#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims
import Synchronization

/// SIGTERM, SIGINT and SIGHUP for a resident loop (`asd watch`): recorded
/// here, not in `Signals`, so a write-back that is running goes on to its
/// end (the copiers stop on `Signals.pending`); the loop then stops. The
/// handler also writes a byte to a pipe the loop polls, so a signal that
/// arrives just before poll(2) still wakes it (the self-pipe trick).
public enum StopRequest {
    private static let received = Atomic<Int32>(0)
    private static let pipeWriter = Atomic<Int32>(-1)
    private static let pipeReader = Atomic<Int32>(-1)

    /// Installs the handlers (once); returns the descriptor to poll.
    public static func install() throws(Errno) -> Int32 {
        if pipeReader.load(ordering: .relaxed) >= 0 { return pipeReader.load(ordering: .relaxed) }
        var fds: [Int32] = [-1, -1]
        _ = try retryingEINTR { casd_pipe_cloexec(&fds) }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        pipeReader.store(fds[0], ordering: .sequentiallyConsistent)
        pipeWriter.store(fds[1], ordering: .sequentiallyConsistent)
        _ = received.load(ordering: .relaxed)
        Signals.setHandler({ sig in StopRequest.record(sig) }, for: Signals.termination)
        return fds[0]
    }

    /// The handler: an atomic store and a write(2), both async-signal-safe.
    static func record(_ sig: Int32) {
        received.store(sig, ordering: .sequentiallyConsistent)
        var byte: UInt8 = 1
        _ = write(pipeWriter.load(ordering: .sequentiallyConsistent), &byte, 1)
    }

    /// The signal that asked to stop, or nil.
    public static var pending: Int32? {
        let sig = received.load(ordering: .sequentiallyConsistent)
        return sig == 0 ? nil : sig
    }
}

/// poll(2) for readability.
public enum Readiness {
    /// Waits until one of `fds` is readable, a signal arrives, or
    /// `milliseconds` pass (nil: no limit). Returns which are readable.
    public static func wait(_ fds: [Int32], milliseconds: Int?) -> [Bool] {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let timeout = milliseconds.map { Int32(clamping: max(0, $0)) } ?? -1
        let result = entries.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        if result <= 0 { return fds.map { _ in false } }
        return entries.map { $0.revents != 0 }
    }

    /// Reads and discards what is buffered in a non-blocking descriptor.
    public static func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}

