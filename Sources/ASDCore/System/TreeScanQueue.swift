#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A directory opened by the scan (opendir via openat(2) + fdopendir(3)).
/// Subdirectories still waiting to be read are opened relative to it, so it
/// stays open until the last of them is taken; closedir(3) when released.
final class ScanDirectory: @unchecked Sendable {
    let stream: OpaquePointer
    let fd: Int32

    /// fdopendir(3) on `fd`; the stream owns it from then on.
    init(adopting fd: Int32) throws(Errno) {
        guard let stream = fdopendir(fd) else {
            let error = Errno.current
            close(fd)
            throw error
        }
        self.stream = stream
        self.fd = dirfd(stream)
    }

    deinit { closedir(stream) }
}

/// A subdirectory found but not read yet: its name (NUL-terminated) in `parent`.
struct PendingDirectory: @unchecked Sendable {
    let parent: ScanDirectory
    let name: [CChar]
}

/// The shared work list of a parallel scan: a stack (so open directories stay
/// few, about the tree's depth) guarded by a pthread mutex, with a condition
/// variable for idle workers. The scan is over when the stack is empty and no
/// worker is reading a directory (only a reading worker adds to it), or at the
/// first failure.
final class ScanQueue: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stack: [PendingDirectory] = []
    private var active = 0
    private var failure: Errno?

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Adds the subdirectories one worker just found.
    func push(_ items: [PendingDirectory]) {
        guard !items.isEmpty else { return }
        pthread_mutex_lock(mutex)
        stack.append(contentsOf: items)
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }

    /// The next directory to read, waiting while others may still add some;
    /// nil when the scan is over. A non-nil result must be followed by `done()`.
    func next() -> PendingDirectory? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while stack.isEmpty && active > 0 && failure == nil {
            pthread_cond_wait(condition, mutex)
        }
        guard failure == nil, let item = stack.popLast() else { return nil }
        active += 1
        return item
    }

    /// The directory taken with `next()` is read.
    func done() {
        pthread_mutex_lock(mutex)
        active -= 1
        let over = active == 0 && stack.isEmpty
        pthread_mutex_unlock(mutex)
        if over { pthread_cond_broadcast(condition) }
    }

    /// Records the first failure and stops every worker; drops the work left.
    func fail(_ error: Errno) {
        pthread_mutex_lock(mutex)
        if failure == nil { failure = error }
        stack.removeAll()
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }

    /// The first failure, if any.
    var error: Errno? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return failure
    }

    /// How many directories wait to be read.
    var pendingCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return stack.count
    }
}
