import Dispatch
import Synchronization

/// A pool of worker threads draining a queue of jobs that may add more jobs
/// (a tree walk: a directory job finds subdirectories). `run` returns when the
/// queue is empty and no job is running, or after the first failure: the other
/// workers then stop taking jobs, and that failure is thrown.
final class WorkQueue<Job: Sendable>: Sendable {
    private struct State {
        var jobs: [Job] = []
        var running = 0
        var sleeping = 0
        var failure: ASDError?
        var finished = false
    }

    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)
    let workers: Int

    init(workers: Int) { self.workers = max(1, workers) }

    /// Adds jobs; callable from inside a job.
    func add(_ jobs: [Job]) {
        guard !jobs.isEmpty else { return }
        let wake = state.withLock { state -> Int in
            state.jobs.append(contentsOf: jobs)
            let wake = min(state.sleeping, jobs.count)
            state.sleeping -= wake
            return wake
        }
        for _ in 0..<wake { wakeUp.signal() }
    }

    /// Runs `body` on every job, `workers` at a time, until none is left.
    func run(_ initial: [Job], _ body: @Sendable (Job) throws(ASDError) -> Void) throws(ASDError) {
        add(initial)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let job = next() {
                do throws(ASDError) {
                    try body(job)
                    done()
                } catch {
                    fail(error)
                }
            }
        }
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    private enum Step { case job(Job), sleep, stop }

    private func next() -> Job? {
        while true {
            let step = state.withLock { state -> Step in
                if state.finished { return .stop }
                if let job = state.jobs.popLast() {
                    state.running += 1
                    return .job(job)
                }
                if state.running == 0 {
                    finish(&state)
                    return .stop
                }
                state.sleeping += 1
                return .sleep
            }
            switch step {
            case .job(let job): return job
            case .stop: return nil
            case .sleep: wakeUp.wait()
            }
        }
    }

    private func done() {
        state.withLock { state in
            state.running -= 1
            if state.running == 0 && state.jobs.isEmpty { finish(&state) }
        }
    }

    private func fail(_ error: ASDError) {
        state.withLock { state in
            state.running -= 1
            if state.failure == nil { state.failure = error }
            state.jobs.removeAll()
            finish(&state)
        }
    }

    /// Marks the queue finished and wakes every sleeper (called under the lock).
    private func finish(_ state: inout State) {
        guard !state.finished else { return }
        state.finished = true
        for _ in 0..<state.sleeping { wakeUp.signal() }
        state.sleeping = 0
    }
}

/// Runs two independent steps at the same time and waits for both; throws
/// the failure of `first` if it failed, else that of `second`, once both have
/// ended, so nothing is still running when the caller cleans up.
enum Concurrently {
    static func run(
        _ first: @Sendable () throws(ASDError) -> Void, and second: @Sendable () throws(ASDError) -> Void
    ) throws(ASDError) {
        let failures = Mutex<[Int: ASDError]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do throws(ASDError) {
                try index == 0 ? first() : second()
            } catch {
                failures.withLock { $0[index] = error }
            }
        }
        let all = failures.withLock { $0 }
        if let error = all[0] ?? all[1] { throw error }
    }
}
