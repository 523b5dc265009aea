import Synchronization

/// Runs two independent steps at the same time and waits for both; throws
/// the failure of `first` if it failed, else that of `second`, once both have
/// ended, so nothing is still running when the caller cleans up.
public enum Concurrently {
    public static func run<Failure: Error>(
        _ first: @Sendable () throws(Failure) -> Void, and second: @Sendable () throws(Failure) -> Void
    ) throws(Failure) {
        let failures = Mutex<[Int: Failure]>([:])
        // Neither step's failure may keep the other from running: caught here, not by the stack.
        WorkStack<Int, Never>().run([1, 0], workers: 2) { index in
            do throws(Failure) {
                try index == 0 ? first() : second()
            } catch {
                failures.withLock { $0[index] = error }
            }
        }
        let all = failures.withLock { $0 }
        if let error = all[0] ?? all[1] { throw error }
    }
}
