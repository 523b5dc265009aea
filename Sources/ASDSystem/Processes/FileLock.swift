#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// An exclusive flock(2) on a lock file, held until `release()` or deinit
/// (closing the descriptor drops the lock; so does the process dying).
/// Same protocol as upstream's `flock -e /run/asd-lock`, so an upstream
/// asd and this one exclude each other.
public final class FileLock: Sendable {
    public let path: FilePath
    private let fd: Int32
    private let released = Mutex(false)

    private init(path: FilePath, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// open(2) `path` (O_RDWR|O_CREAT|O_CLOEXEC, mode 0644), then
    /// flock(2) LOCK_EX. When another process holds the lock, calls `onWait`
    /// once (to print "Waiting for lock...") and keeps retrying with
    /// LOCK_NB every 100 ms rather than blocking in flock: a blocked flock
    /// restarts after our recording signal handlers (SA_RESTART), so
    /// SIGTERM could not stop the wait. A recorded signal ends the wait
    /// with `Failure.interrupted`.
    public static func acquire(path: FilePath, onWait: () -> Void) throws(Failure) -> FileLock {
        let fd = try open(path)
        var waited = false
        let signalsAtStart = Signals.deliveries.count
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, fd: fd) }
            let error = Errno.current
            if error == .interrupted { continue }
            guard error == .wouldBlock else {
                close(fd)
                throw Failure.lock(error)
            }
            if !waited {
                waited = true
                onWait()
            }
            let now = Signals.deliveries
            if now.count != signalsAtStart {
                close(fd)
                throw Failure.interrupted(signal: now.signal)
            }
            usleep(100_000)
        }
    }

    /// flock(2) LOCK_EX|LOCK_NB once: nil when someone else holds it.
    public static func tryAcquire(path: FilePath) throws(Failure) -> FileLock? {
        let fd = try open(path)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, fd: fd) }
        let error = Errno.current
        close(fd)
        if error == .wouldBlock { return nil }
        throw Failure.lock(error)
    }

    /// Why the lock could not be had.
    public enum Failure: Error, Equatable, Sendable {
        /// open(2) of the lock file failed.
        case open(Errno)
        /// flock(2) failed (not because someone else holds it).
        case lock(Errno)
        /// A termination signal (this number) arrived while waiting.
        case interrupted(signal: Int32)
    }

    /// open(2) O_RDWR|O_CREAT|O_CLOEXEC, mode 0644.
    private static func open(_ path: FilePath) throws(Failure) -> Int32 {
        do throws(Errno) {
            return try path.withCString { (c) throws(Errno) in
                try retryingEINTR { Glibc.open(c, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
            }
        } catch {
            throw Failure.open(error)
        }
    }

    /// Drops the lock (close(2)). The lock file stays, as with flock(1).
    public func release() {
        let first = released.withLock { done in
            defer { done = true }
            return !done
        }
        if first { close(fd) }
    }

    deinit { release() }
}
