#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// clock_gettime(2) readings in microseconds, the unit systemd reports in.
public enum Clock {
    /// CLOCK_REALTIME: microseconds since the epoch.
    public static func realtimeMicroseconds() -> Int64 { read(CLOCK_REALTIME) }

    /// CLOCK_MONOTONIC: microseconds since boot (excluding suspend), as
    /// systemd's `*Monotonic` timer properties count.
    public static func monotonicMicroseconds() -> Int64 { read(CLOCK_MONOTONIC) }

    private static func read(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }
}
