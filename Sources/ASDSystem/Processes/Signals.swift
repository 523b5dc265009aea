#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// Records termination signals so long operations can stop between steps
/// instead of dying half-way, and so the subprocess runner can pass them on
/// to the running child.
///
/// The handler is async-signal-safe: it only stores into two lock-free atomics.
public enum Signals {
    /// The signals asd treats as "please stop": SIGTERM (systemd stop),
    /// SIGINT (Ctrl-C), SIGHUP (terminal gone).
    public static let termination: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    /// Number of the most recently received signal, 0 when none yet.
    private static let lastSignal = Atomic<Int32>(0)
    /// How many recorded signals have arrived in total; lets the runner see
    /// a *new* signal even when its number repeats.
    private static let deliveryCount = Atomic<Int>(0)

    /// Installs recording handlers with sigaction(2) (SA_RESTART, so other
    /// blocking calls are not disturbed; poll(2) still returns EINTR).
    /// Call once, early, from the main thread before starting work.
    public static func install(_ signals: [Int32] = termination) {
        // Touch the atomics so their one-time initialisation never runs
        // inside the handler.
        _ = lastSignal.load(ordering: .relaxed)
        _ = deliveryCount.load(ordering: .relaxed)
        setHandler({ sig in Signals.record(sig) }, for: signals)
    }

    /// sigaction(2) `handler` for `signals` (SA_RESTART, so other blocking
    /// calls are not disturbed; poll(2) still returns EINTR), then unblocks
    /// them: a parent may have started us with them blocked (they would then
    /// never arrive).
    static func setHandler(_ handler: @convention(c) (Int32) -> Void, for signals: [Int32]) {
        for sig in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = handler
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            _ = sigaction(sig, &action, nil)
        }
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in signals { sigaddset(&unblock, sig) }
        _ = sigprocmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The handler body: two atomic stores, nothing else.
    public static func record(_ sig: Int32) {
        lastSignal.store(sig, ordering: .sequentiallyConsistent)
        deliveryCount.add(1, ordering: .sequentiallyConsistent)
    }

    /// The last signal received since `install`, or nil. Long operations
    /// check this between steps and stop (rolling back) when it is set.
    public static var pending: Int32? {
        let sig = lastSignal.load(ordering: .sequentiallyConsistent)
        return sig == 0 ? nil : sig
    }

    /// Snapshot of the delivery counter and the last signal number.
    static var deliveries: (count: Int, signal: Int32) {
        let count = deliveryCount.load(ordering: .sequentiallyConsistent)
        return (count, lastSignal.load(ordering: .sequentiallyConsistent))
    }

    /// "SIGTERM", "SIGKILL", ... or "signal 42" for the rest.
    public static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGUSR1: return "SIGUSR1"
        case SIGSEGV: return "SIGSEGV"
        case SIGUSR2: return "SIGUSR2"
        case SIGPIPE: return "SIGPIPE"
        case SIGALRM: return "SIGALRM"
        case SIGTERM: return "SIGTERM"
        case SIGCHLD: return "SIGCHLD"
        case SIGCONT: return "SIGCONT"
        case SIGSTOP: return "SIGSTOP"
        case SIGTSTP: return "SIGTSTP"
        case SIGXCPU: return "SIGXCPU"
        case SIGXFSZ: return "SIGXFSZ"
        default: return "signal \(sig)"
        }
    }
}

/// Where the runner learns about signals to forward. The process-wide
/// `Signals` record in production; tests inject their own.
public struct SignalSource: Sendable {
    /// Returns (delivery count, last signal).
    let poll: @Sendable () -> (count: Int, signal: Int32)

    public static let process = SignalSource { Signals.deliveries }
}
