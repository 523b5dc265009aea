import ASDCopy
import ASDSystem
/// The state of asd's units under systemd, for `asd parse`: one
/// `systemctl show` (through `Subprocess`) for asd.service and asd-resync.timer.
enum SystemdState {
    static let service = "asd.service"
    static let timer = "asd-resync.timer"
    static let properties = ["Id", "LoadState", "ActiveState", "UnitFileState",
                             "NextElapseUSecRealtime", "NextElapseUSecMonotonic"]

    /// `systemctl show`, timestamps as `@<seconds>` (systemd 251 and later).
    static var argv: [String] {
        ["systemctl", "show", "--timestamp=unix", "-p", properties.joined(separator: ","), service, timer]
    }

    /// nil when systemd is not the init system, or asd.service is not installed
    /// (then parse shows the daemon file and the cron job instead, as upstream).
    static func read() -> ParseReport.Systemd? {
        guard FileOps.isDirectory("/run/systemd/system") else { return nil }
        var result = try? Subprocess.run(argv.map { FilePath($0) }, captureOutput: true)
        if result.map({ !$0.status.isSuccess }) ?? true {
            // An older systemctl without --timestamp=unix: states still, times unknown.
            result = try? Subprocess.run(argv.filter { $0 != "--timestamp=unix" }.map { FilePath($0) }, captureOutput: true)
        }
        guard let result, result.status.isSuccess else { return nil }
        return parse(result.outputText, realtimeNow: Clock.realtimeMicroseconds(),
                     monotonicNow: Clock.monotonicMicroseconds())
    }

    /// Parses `systemctl show` output: one block of `Key=Value` lines per unit,
    /// blocks separated by an empty line. Times are turned into seconds since
    /// the epoch; a monotonic next elapse is placed on the wall clock via the
    /// two clocks' current readings (as `systemctl list-timers` does).
    static func parse(_ output: String, realtimeNow: Int64, monotonicNow: Int64) -> ParseReport.Systemd? {
        var units: [String: [String: String]] = [:]
        for block in output.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var values: [String: String] = [:]
            for line in block.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                values[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
            if let id = values["Id"] { units[id] = values }
        }
        guard let serviceValues = units[service], serviceValues["LoadState"] != "not-found" else { return nil }
        let timerValues = units[timer] ?? [:]
        var nextRun: Int64?
        if let realtime = timestampSeconds(timerValues["NextElapseUSecRealtime"]) {
            nextRun = realtime
        }
        if let monotonic = timespanMicroseconds(timerValues["NextElapseUSecMonotonic"]), monotonic > 0 {
            let wall = (realtimeNow + (monotonic - monotonicNow)) / 1_000_000
            nextRun = min(nextRun ?? wall, wall)
        }
        return ParseReport.Systemd(
            service: state(service, serviceValues, nextRun: nil),
            timer: state(timer, timerValues, nextRun: nextRun.map { Int($0) }))
    }

    private static func state(_ unit: String, _ values: [String: String], nextRun: Int?) -> ParseReport.UnitState {
        let unitFile = values["UnitFileState"].flatMap { $0.isEmpty ? nil : $0 }
        return ParseReport.UnitState(
            unit: unit, activeState: values["ActiveState"] ?? "unknown",
            unitFileState: values["LoadState"] == "not-found" ? "not-found" : (unitFile ?? "unknown"),
            nextRun: nextRun)
    }

    /// `@1764493200` (from --timestamp=unix) → seconds; nil for empty or `n/a`.
    static func timestampSeconds(_ value: String?) -> Int64? {
        guard let value, value.hasPrefix("@") else { return nil }
        return Int64(value.dropFirst())
    }

    /// systemd's timespan text (`1h 4min 28.354871s`, `59min`, `0`,
    /// `infinity`) → microseconds; nil when it is not one or is infinite.
    static func timespanMicroseconds(_ value: String?) -> Int64? {
        guard let value, !value.isEmpty, value != "infinity" else { return nil }
        let units: [(String, Double)] = [
            ("month", 2_629_800e6), ("min", 60e6), ("ms", 1e3), ("us", 1), ("y", 31_557_600e6),
            ("w", 604_800e6), ("d", 86_400e6), ("h", 3_600e6), ("s", 1e6),
        ]
        var total = 0.0
        for word in value.split(separator: " ") {
            guard let (suffix, scale) = units.first(where: { word.hasSuffix($0.0) }) ?? (word == "0" ? ("", 0) : nil),
                  let number = Double(word.dropLast(suffix.count)) else { return nil }
            total += number * scale
        }
        return Int64(total.rounded())
    }
}
