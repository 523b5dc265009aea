import ASDCopy
import ASDSystem
/// When each target was last written back to disk, for `asd parse`: the file
/// `$DAEMON_FILE.last-writeback`, one line per target, `<unix seconds> <target>`
/// (a backslash in the target written `\\`, a newline `\n`).
///
/// resync and unsync rewrite it (atomically, under the instance lock) after each
/// durable write-back. It lives and dies with the daemon file: sync removes a
/// stale one before it starts, unsync removes it together with the daemon file,
/// so a stopped asd leaves none behind (and /run is empty after a crash anyway).
struct WriteBackRecord: Equatable, Sendable {
    /// Target path → seconds since the epoch of its last successful write-back.
    var times: [FilePath: Int]

    init(times: [FilePath: Int] = [:]) { self.times = times }

    static func path(daemonFile: FilePath) -> FilePath { daemonFile.suffixed(".last-writeback") }

    /// The record next to `daemonFile`; empty when there is none or it is unreadable.
    static func read(daemonFile: FilePath) -> WriteBackRecord {
        guard let bytes = try? readFile(path(daemonFile: daemonFile)) else { return WriteBackRecord() }
        return parse(bytes)
    }

    /// Lines that do not start with a number and a space are skipped. Target
    /// paths are bytes (they need not be UTF-8).
    static func parse(_ bytes: [UInt8]) -> WriteBackRecord {
        var times: [FilePath: Int] = [:]
        for line in bytes.split(separator: newline) {
            guard let space = line.firstIndex(of: UInt8(ascii: " ")),
                  let seconds = Int(String(decoding: line[..<space], as: UTF8.self)) else { continue }
            times[unescape(line[(space + 1)...])] = seconds
        }
        return WriteBackRecord(times: times)
    }

    static func parse(_ text: String) -> WriteBackRecord { parse(Array(text.utf8)) }

    /// The file's bytes, sorted by target so that they are stable.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        for target in times.keys.sorted() {
            out += Array("\(times[target]!) ".utf8) + Self.escape(target) + [Self.newline]
        }
        return out
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    static let newline = UInt8(ascii: "\n")
    static let backslash = UInt8(ascii: "\\")

    static func escape(_ path: FilePath) -> [UInt8] {
        var out: [UInt8] = []
        for byte in path.bytes {
            switch byte {
            case backslash: out += [backslash, backslash]
            case newline: out += [backslash, UInt8(ascii: "n")]
            default: out.append(byte)
            }
        }
        return out
    }

    static func unescape(_ bytes: ArraySlice<UInt8>) -> FilePath {
        var result: [UInt8] = []
        var escaped = false
        for byte in bytes {
            if escaped {
                result.append(byte == UInt8(ascii: "n") ? newline : byte)
                escaped = false
            } else if byte == backslash {
                escaped = true
            } else {
                result.append(byte)
            }
        }
        return FilePath(bytes: result)
    }
}

extension Engine {
    var writeBackRecordPath: FilePath { WriteBackRecord.path(daemonFile: invocation.daemonFile) }

    /// Notes `targets` as written back now. A failure to note it is a warning:
    /// the data is on disk, only the report would be stale.
    func recordWriteBack(of targets: [FilePath]) {
        guard !targets.isEmpty else { return }
        var record = WriteBackRecord.read(daemonFile: invocation.daemonFile)
        let now = LocalTime.now()
        for target in targets { record.times[target] = now }
        // Entries of targets no longer configured would only mislead.
        record.times = record.times.filter { settings.whatToSync.contains($0.key) }
        do throws(ASDError) {
            try writeAtomically(writeBackRecordPath, contents: record.bytes)
        } catch {
            log.warning("Could not note the time of the write-back for asd parse: \(error.message)")
        }
    }

    func removeWriteBackRecord() {
        try? FileOps.unlink(writeBackRecordPath)
    }
}
