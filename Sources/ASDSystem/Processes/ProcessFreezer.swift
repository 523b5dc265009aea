#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Stops processes for a moment without job-control side effects: every
/// thread is attached with PTRACE_SEIZE and stopped with PTRACE_INTERRUPT, so
/// no SIGSTOP is sent and no shell sees "Stopped". If asd dies, even by
/// SIGKILL, the kernel detaches every tracee and it runs on: nothing can stay
/// stopped (doc/DESIGN.md, "Consistent write-back").
/// ptrace(2) ties a tracee to the thread that attached it: one freezer is
/// used from one thread, start to end.
public final class ProcessFreezer {
    /// Threads attached (and, after `stop`, stopped).
    public private(set) var threads: [Int32] = []
    /// A signal a thread was about to receive when it stopped: given back on detach.
    private var pendingSignals: [Int32: Int32] = [:]

    public init() {}

    deinit { release() }

    static let seize: Int32 = 0x4206, interrupt: Int32 = 0x4207, detach: Int32 = 17
    static let eventStop: Int32 = 128
    static let waitAll: Int32 = 0x4000_0000  // __WALL

    /// Stops every thread of `pids` (`deadline`: `Clock.monotonicMicroseconds`). Returns false (and releases those stopped
    /// so far) when one cannot be stopped before `deadline`: it is traced by
    /// another program, ptrace is refused (Yama), or it sleeps uninterruptibly.
    public func stop(_ pids: [Int32], deadline: Int64) -> Bool {
        var seen = Set<Int32>()
        for pid in pids {
            // Threads started meanwhile are found by listing again once all are stopped.
            while case let new = OpenFiles.threads(of: pid).filter({ !seen.contains($0) }), !new.isEmpty {
                for tid in new {
                    seen.insert(tid)
                    guard Self.call(Self.seize, tid) == 0 else {
                        if errno == ESRCH { continue }
                        release()
                        return false
                    }
                    threads.append(tid)
                    _ = Self.call(Self.interrupt, tid)
                }
                guard waitForStops(deadline: deadline) else {
                    release()
                    return false
                }
            }
        }
        return true
    }

    private var stoppedThreads = Set<Int32>()

    /// Waits until every attached thread reports its stop (or has exited).
    private func waitForStops(deadline: Int64) -> Bool {
        while true {
            var waiting = false
            for tid in threads where !stoppedThreads.contains(tid) {
                var status: Int32 = 0
                let result = waitpid(tid, &status, Self.waitAll | WNOHANG)
                if result == 0 { waiting = true; continue }
                if result < 0 || (status & 0x7f) != 0x7f {
                    // Gone (exited or killed): nothing to detach.
                    stoppedThreads.insert(tid)
                    threads.removeAll { $0 == tid }
                    continue
                }
                let signal = (status >> 8) & 0xff
                if status >> 16 != Self.eventStop && signal != SIGTRAP { pendingSignals[tid] = signal }
                stoppedThreads.insert(tid)
            }
            if !waiting { return true }
            if Clock.monotonicMicroseconds() >= deadline { return false }
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000)
            nanosleep(&pause, nil)
        }
    }

    /// Lets every thread run again (a pending signal is delivered). Threads
    /// still running toward their stop are detached as soon as they reach it.
    public func release() {
        for tid in threads {
            if !stoppedThreads.contains(tid) {
                var status: Int32 = 0
                // Interrupted but not yet reported: PTRACE_DETACH needs the stop.
                _ = waitpid(tid, &status, Self.waitAll)
            }
            _ = Self.call(Self.detach, tid, data: Int(pendingSignals[tid] ?? 0))
        }
        threads = []
        stoppedThreads = []
        pendingSignals = [:]
    }

    /// ptrace(2) through the C shim (glibc declares it variadic).
    private static func call(_ request: Int32, _ tid: Int32, data: Int = 0) -> Int {
        casd_ptrace(request, tid, 0, data)
    }
}
