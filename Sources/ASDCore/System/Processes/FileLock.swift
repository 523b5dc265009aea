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
    /// with `ASDError.interrupted`.
    public static func acquire(path: FilePath, onWait: () -> Void) throws(ASDError) -> FileLock {
        let fd: Int32
        do throws(Errno) {
            fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) } }
        } catch {
            throw ASDError.system(operation: "open the lock file", path: path, errno: error)
        }
        var waited = false
        let signalsAtStart = Signals.deliveries.count
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, fd: fd) }
            let error = Errno.current
            if error == .interrupted { continue }
            guard error == .wouldBlock else {
                close(fd)
                throw ASDError.system(operation: "lock", path: path, errno: error)
            }
            if !waited {
                waited = true
                onWait()
            }
            let now = Signals.deliveries
            if now.count != signalsAtStart {
                close(fd)
                throw ASDError.interrupted(signal: Signals.name(now.signal), during: "the wait for the lock \(path)")
            }
            usleep(100_000)
        }
    }

    /// flock(2) LOCK_EX|LOCK_NB once: nil when someone else holds it.
    public static func tryAcquire(path: FilePath) throws(ASDError) -> FileLock? {
        let fd: Int32
        do throws(Errno) {
            fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) } }
        } catch {
            throw ASDError.system(operation: "open the lock file", path: path, errno: error)
        }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, fd: fd) }
        let error = Errno.current
        close(fd)
        if error == .wouldBlock { return nil }
        throw ASDError.system(operation: "lock", path: path, errno: error)
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
