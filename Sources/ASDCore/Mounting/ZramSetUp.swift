import ASDSystem
import Dispatch
import Synchronization

/// The format and mount of a new zram device, on a thread of its own while
/// sync does the work that does not need the device: the first target's
/// disk side (its disk copy, the bind, the snapshot). The first step that
/// writes to the device waits for it (`wait`), and so does every way out of
/// sync before the device is removed, so nothing is still formatting or
/// mounting when a rollback removes it (doc/DESIGN.md §11).
final class ZramSetUp: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    /// nil while the work runs; its outcome once it ended.
    private let outcome = Mutex<Result<Void, ASDError>?>(nil)
    /// Set by the first `wait` that saw the end (the semaphore is signalled once).
    private let joined = Atomic<Bool>(false)

    /// Starts `work` on a thread of libdispatch's pool, with the syscall
    /// faults of the calling thread (tests inject them).
    static func start(_ work: @escaping @Sendable () throws(ASDError) -> Void) -> ZramSetUp {
        let setUp = ZramSetUp()
        let faults = SyscallFaults.inherited
        DispatchQueue.global().async {
            var result: Result<Void, ASDError> = .success(())
            SyscallFaults.adopting(faults) {
                do throws(ASDError) { try work() } catch { result = .failure(error) }
            }
            setUp.outcome.withLock { $0 = result }
            setUp.finished.signal()
        }
        return setUp
    }

    /// Waits until the work has ended; throws its failure (every call).
    func wait() throws(ASDError) {
        if !joined.load(ordering: .acquiring) {
            finished.wait()
            joined.store(true, ordering: .releasing)
        }
        if case .failure(let error) = outcome.withLock({ $0 }) { throw error }
    }
}
