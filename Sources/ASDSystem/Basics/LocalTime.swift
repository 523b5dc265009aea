#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Wall-clock time as seconds since the epoch, formatted in local time.
public enum LocalTime {
    /// clock_gettime(2) CLOCK_REALTIME, whole seconds.
    public static func now() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int(spec.tv_sec)
    }

    /// localtime_r(3) + strftime(3) of `seconds` with `format`
    /// (e.g. "%Y%m%d_%H%M%S" → "20240131_235959").
    public static func format(_ seconds: Int, _ format: String) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return String(seconds) }
        var buffer = [CChar](repeating: 0, count: 128)
        let count = strftime(&buffer, buffer.count, format, &parts)
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
