/// When each target was last written back to disk, for `asd parse`: the file
/// `$DAEMON_FILE.last-writeback`, one line per target, `<unix seconds> <target>`
/// (a backslash in the target written `\\`, a newline `\n`).
///
/// resync and unsync rewrite it (atomically, under the instance lock) after each
/// durable write-back. It lives and dies with the daemon file: sync removes a
/// stale one before it starts, unsync removes it together with the daemon file,
/// so a stopped asd leaves none behind (and /run is empty after a crash anyway).
public struct WriteBackRecord: Equatable, Sendable {
    /// Target path → seconds since the epoch of its last successful write-back.
    public var times: [String: Int]

    public init(times: [String: Int] = [:]) { self.times = times }

    public static func path(daemonFile: String) -> String { daemonFile + ".last-writeback" }

    /// The record next to `daemonFile`; empty when there is none or it is unreadable.
    public static func read(daemonFile: String) -> WriteBackRecord {
        guard let text = try? readTextFile(path(daemonFile: daemonFile)) else { return WriteBackRecord() }
        return parse(text)
    }

    /// Lines that do not start with a number and a space are skipped.
    public static func parse(_ text: String) -> WriteBackRecord {
        var times: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let seconds = Int(line[..<space]) else { continue }
            times[unescape(line[line.index(after: space)...])] = seconds
        }
        return WriteBackRecord(times: times)
    }

    /// The file's text, sorted by target so that it is stable.
    public var text: String {
        times.keys.sorted().map { "\(times[$0]!) \(Self.escape($0))\n" }.joined()
    }

    static func escape(_ path: String) -> String {
        path.replacingAll("\\", with: "\\\\").replacingAll("\n", with: "\\n")
    }

    static func unescape(_ text: Substring) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

extension Engine {
    var writeBackRecordPath: String { WriteBackRecord.path(daemonFile: invocation.daemonFile) }

    /// Notes `targets` as written back now. A failure to note it is a warning:
    /// the data is on disk, only the report would be stale.
    func recordWriteBack(of targets: [String]) {
        guard !targets.isEmpty else { return }
        var record = WriteBackRecord.read(daemonFile: invocation.daemonFile)
        let now = LocalTime.now()
        for target in targets { record.times[target] = now }
        // Entries of targets no longer configured would only mislead.
        record.times = record.times.filter { settings.whatToSync.contains($0.key) }
        do throws(ASDError) {
            try writeAtomically(writeBackRecordPath, contents: record.text)
        } catch {
            log.warning("Could not note the time of the write-back for asd parse: \(error.message)")
        }
    }

    func removeWriteBackRecord() {
        try? FileOps.unlink(writeBackRecordPath)
    }
}
