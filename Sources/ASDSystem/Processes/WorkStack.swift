#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Dispatch

/// The shared work list of a parallel tree walk (parse's `TreeScan`, the
/// copier's `TreeMirror`): a stack, so few directories are open at once
/// (about the tree's depth), guarded by a pthread mutex, with a condition
/// variable for idle workers. Work adds work (a directory finds its
/// subdirectories). The walk is over when the stack is empty and no worker
/// holds an item (only a working worker adds items), or at the first
/// failure: from then on `next()` hands out nothing and the rest is dropped.
public final class WorkStack<Item, Failure: Error>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stack: [Item] = []
    private var active = 0
    private var failure: Failure?

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Adds items; callable while working on one.
    public func push(_ items: [Item]) {
        guard !items.isEmpty else { return }
        pthread_mutex_lock(mutex)
        stack.append(contentsOf: items)
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }

    /// The next item, waiting while others may still add some; nil when the
    /// walk is over. A non-nil result must be followed by `done()`.
    public func next() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while stack.isEmpty && active > 0 && failure == nil {
            pthread_cond_wait(condition, mutex)
        }
        guard failure == nil, let item = stack.popLast() else { return nil }
        active += 1
        return item
    }

    /// The item taken with `next()` is finished (successfully or not).
    public func done() {
        pthread_mutex_lock(mutex)
        active -= 1
        let over = active == 0 && stack.isEmpty
        pthread_mutex_unlock(mutex)
        if over { pthread_cond_broadcast(condition) }
    }

    /// Records the first failure and stops every worker; drops the work left.
    public func fail(_ error: Failure) {
        pthread_mutex_lock(mutex)
        if failure == nil { failure = error }
        stack.removeAll()
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }

    /// The first failure, if any.
    public var firstFailure: Failure? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return failure
    }

    /// How many items wait.
    var pendingCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return stack.count
    }

    /// Runs `body` on every item, `workers` threads at a time
    /// (DispatchQueue.concurrentPerform), until none is left; throws the
    /// first failure once every worker has stopped.
    public func run(_ initial: [Item], workers: Int, _ body: @Sendable (Item) throws(Failure) -> Void) throws(Failure) {
        push(initial)
        let faults = SyscallFaults.inherited
        DispatchQueue.concurrentPerform(iterations: max(1, workers)) { _ in
            SyscallFaults.adopting(faults) {
                while let item = next() {
                    do throws(Failure) {
                        try body(item)
                    } catch {
                        fail(error)
                    }
                    done()
                }
            }
        }
        if let failure = firstFailure { throw failure }
    }
}
