import ASDSystem
/// The per-target figures behind the metrics, kept across runs of asd in
/// `$DAEMON_FILE.metrics` (under /run, beside the daemon file, so each
/// instance has its own; doc/DESIGN.md §10). Unlike the daemon file
/// it outlives unsync: the counters keep counting over restarts of asd and
/// start again from zero at boot, as Prometheus counters may.
///
/// One line per target: `v1 <last success> <last attempt> <duration>
/// <bytes total> <successes> <failures> <consistent> <target>`, a `-` for
/// what is not known, the target escaped as in `WriteBackRecord`.
struct MetricsState: Equatable, Sendable {
    struct Target: Equatable, Sendable {
        /// Seconds since the epoch when the disk copy last held everything the
        /// RAM copy did: the end of the last successful write-back, or the sync.
        var lastSuccess: Double?
        /// When the last write-back attempt began, successful or not.
        var lastAttempt: Double?
        /// Duration of the last successful write-back.
        var lastDuration: Double?
        var writtenBytes: UInt64 = 0
        var successes: UInt64 = 0
        var failures: UInt64 = 0
        /// The hook for a consistent write-back: nil until it reports.
        var lastWriteBackConsistent: Bool?

        init() {}
    }

    var targets: [FilePath: Target]

    init(targets: [FilePath: Target] = [:]) { self.targets = targets }

    static func path(daemonFile: FilePath) -> FilePath { daemonFile.suffixed(".metrics") }

    /// Adds this run's attempts: a success moves every figure, a failure only
    /// the attempt time and the failure count.
    mutating func apply(_ outcomes: [WriteBackOutcomes.Outcome]) {
        for outcome in outcomes {
            var entry = targets[outcome.target] ?? Target()
            entry.lastAttempt = max(entry.lastAttempt ?? 0, outcome.startedAt)
            if let end = outcome.succeededAt {
                entry.lastSuccess = max(entry.lastSuccess ?? 0, end)
                entry.lastDuration = outcome.durationSeconds
                entry.writtenBytes &+= outcome.bytesWritten ?? 0
                entry.successes &+= 1
                entry.lastWriteBackConsistent = outcome.lastWriteBackConsistent
            } else {
                entry.failures &+= 1
            }
            targets[outcome.target] = entry
        }
    }

    /// A sync that moved `target` into RAM: disk and RAM hold the same now.
    mutating func noteSynced(_ target: FilePath, at time: Double) {
        var entry = targets[target] ?? Target()
        entry.lastSuccess = max(entry.lastSuccess ?? 0, time)
        targets[target] = entry
    }

    /// The file's bytes, sorted by target.
    var bytes: [UInt8] {
        func field(_ value: Double?) -> String { value.map { "\($0)" } ?? "-" }
        var out: [UInt8] = []
        for target in targets.keys.sorted() {
            let t = targets[target]!
            let consistent = t.lastWriteBackConsistent.map { $0 ? "1" : "0" } ?? "-"
            let line = "v1 \(field(t.lastSuccess)) \(field(t.lastAttempt)) \(field(t.lastDuration)) "
                + "\(t.writtenBytes) \(t.successes) \(t.failures) \(consistent) "
            out += Array(line.utf8) + WriteBackRecord.escape(target) + [WriteBackRecord.newline]
        }
        return out
    }

    /// Lines that are not version 1 with eight fields are skipped.
    static func parse(_ bytes: [UInt8]) -> MetricsState {
        var state = MetricsState()
        for line in bytes.split(separator: WriteBackRecord.newline) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 8, omittingEmptySubsequences: false)
            guard fields.count == 9, fields[0].elementsEqual("v1".utf8) else { continue }
            let text = fields[1...7].map { String(decoding: $0, as: UTF8.self) }
            func number(_ word: String) -> Double? { word == "-" ? nil : Double(word) }
            guard let bytes = UInt64(text[3]), let successes = UInt64(text[4]), let failures = UInt64(text[5]) else { continue }
            var entry = Target()
            entry.lastSuccess = number(text[0])
            entry.lastAttempt = number(text[1])
            entry.lastDuration = number(text[2])
            entry.writtenBytes = bytes
            entry.successes = successes
            entry.failures = failures
            entry.lastWriteBackConsistent = text[6] == "-" ? nil : text[6] == "1"
            state.targets[WriteBackRecord.unescape(fields[8])] = entry
        }
        return state
    }
}
