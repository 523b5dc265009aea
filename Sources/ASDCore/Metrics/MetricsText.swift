import ASDSystem
/// `asd.prom`: the metrics in Prometheus' text exposition format, as
/// node_exporter's textfile collector reads them. Base units (`_seconds`,
/// `_bytes`), counters end in `_total`; per target the label `target`, per host
/// `config` (the config file, so that two instances of asd on one host give
/// distinct series). See asd(1), METRICS.
struct MetricsSnapshot: Equatable, Sendable {
    struct Host: Equatable, Sendable {
        /// The config file (label `config`), not the snapshot in force.
        var config: FilePath
        /// For `asd_info`: asd's version, the copy engine, overlay mode.
        var version: String, engine: String, overlay: Bool
        var volatile: FilePath
        /// VOLATILE's file system: free for asd, and its size; nil when unknown.
        var volatileFreeBytes, volatileSizeBytes: UInt64?
        /// Crash archives of all targets together.
        var crashArchives: Int
    }

    struct Target: Equatable, Sendable {
        var path: FilePath
        var running: Bool
        /// RAM the tmpfs copy takes (overlay mode: its upper layer); 0 when not running.
        var ramBytes: UInt64?
        var state: MetricsState.Target
    }

    var host: Host
    /// In config order.
    var targets: [Target]

    /// The whole file.
    var text: String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            guard !samples.isEmpty else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name){\(sample.labels)} \(sample.value)\n" }
        }
        let config = "config=\"\(Self.escaped(host.config.description))\""
        let volatile = config + ",volatile=\"\(Self.escaped(host.volatile.description))\""
        family("asd_info", "gauge", "Version, copy engine and overlay mode of asd; always 1.", [(
            config + ",engine=\"\(Self.escaped(host.engine))\",overlay=\"\(host.overlay)\",version=\"\(Self.escaped(host.version))\"", "1")])
        family("asd_volatile_free_bytes", "gauge", "Bytes free for the RAM copies in VOLATILE.",
               host.volatileFreeBytes.map { [(volatile, "\($0)")] } ?? [])
        family("asd_volatile_size_bytes", "gauge", "Size of the file system of VOLATILE in bytes.",
               host.volatileSizeBytes.map { [(volatile, "\($0)")] } ?? [])
        family("asd_crash_archives", "gauge", "Crash-recovery archives present beside the targets (asd clean removes them).",
               [(config, "\(host.crashArchives)")])
        func perTarget(_ value: (Target) -> String?) -> [(labels: String, value: String)] {
            targets.compactMap { target in
                value(target).map { ("target=\"\(Self.escaped(target.path.description))\"", $0) }
            }
        }
        family("asd_target_running", "gauge", "1 while the target is kept in RAM by asd.",
               perTarget { $0.running ? "1" : "0" })
        family("asd_ram_bytes", "gauge", "RAM taken by the target's copy in VOLATILE (overlay mode: its upper layer).",
               perTarget { $0.ramBytes.map { "\($0)" } })
        family("asd_last_success_timestamp_seconds", "gauge",
               "When the disk copy last held everything in RAM: the end of the last successful write-back, or the sync.",
               perTarget { $0.state.lastSuccess.map(Self.number) })
        family("asd_last_attempt_timestamp_seconds", "gauge", "When the last write-back attempt began, successful or not.",
               perTarget { $0.state.lastAttempt.map(Self.number) })
        family("asd_last_writeback_duration_seconds", "gauge", "How long the last successful write-back took.",
               perTarget { $0.state.lastDuration.map(Self.number) })
        family("asd_written_bytes_total", "counter", "Bytes successful write-backs sent to the disk.",
               perTarget { "\($0.state.writtenBytes)" })
        family("asd_writebacks_total", "counter", "Successful write-backs.",
               perTarget { "\($0.state.successes)" })
        family("asd_writeback_failures_total", "counter", "Failed write-backs (the data stayed in RAM).",
               perTarget { "\($0.state.failures)" })
        family("asd_last_writeback_consistent", "gauge",
               "1 when the files of the last write-back existed together at one instant in RAM.",
               perTarget { $0.state.lastWriteBackConsistent.map { $0 ? "1" : "0" } })
        return out
    }

    /// A label value: backslash, double quote and newline escaped.
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A sample value: integers without a fraction, others to the microsecond.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let micro = (value * 1e6).rounded() / 1e6
        return "\(micro)"
    }
}
