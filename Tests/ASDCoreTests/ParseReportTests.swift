import Foundation
import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

@Suite("parse report")
struct ParseReportTests {
    static let sample = ParseReport(
        version: "6.0.0", config: "/run/asd.conf", instance: "asd", daemonFile: "/run/asd", running: true, syncedAt: 1_764_490_000,
        engine: "built-in", overlay: true, backups: true, backupLimit: 5,
        volatile: .init(path: "/tmp", fsType: "tmpfs", freeBytes: 1 << 30, totalBytes: 2 << 30),
        metricsFile: "/var/lib/prometheus/node-exporter/asd.prom",
        watch: .init(resyncDelay: 60, running: true, pid: 812, source: "fanotify", failing: [
            .init(target: "/srv/http", since: 1_764_493_000, message: "disk full", nextAttempt: 1_764_493_300),
        ]),
        systemd: .init(
            service: .init(unit: "asd.service", activeState: "active", unitFileState: "enabled", nextRun: nil),
            timer: .init(unit: "asd-resync.timer", activeState: "active", unitFileState: "static", nextRun: 1_764_496_800)),
        cron: nil,
        targets: [
            .init(path: "/srv/http", state: "running", user: "www-data", gid: 33, diskCopy: "/srv/.http-backup_asd",
                  tmpfsCopy: "/tmp/asd-www-data/srv/http", sizeBytes: 40960, ramBytes: 8192,
                  lastWriteBack: 1_764_493_200,
                  recoveryArchives: [.init(path: "/srv/.http-backup_asd-crashrecovery-20261130_080000.tar.zstd", sizeBytes: nil)]),
            .init(path: "/srv/gone", state: "missing", user: "UNKNOWN", gid: nil, diskCopy: "/srv/.gone-backup_asd",
                  tmpfsCopy: "/tmp/asd-UNKNOWN/srv/gone", sizeBytes: nil, ramBytes: 0, lastWriteBack: nil,
                  recoveryArchives: []),
        ])

    @Test("JSON decodes back to the same report")
    func roundTrip() throws {
        #expect(try ParseReport.decode(json: Self.sample.json()) == Self.sample)
    }

    @Test("every key is present, nulls included, and the output is stable")
    func keysArePresent() throws {
        let json = Self.sample.json()
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["cron"] is NSNull)
        let targets = try #require(object["targets"] as? [[String: Any]])
        #expect(targets[1]["lastWriteBack"] is NSNull && targets[1]["gid"] is NSNull && targets[1]["sizeBytes"] is NSNull)
        #expect(Set(targets[0].keys) == Set(targets[1].keys))
        #expect(json == Self.sample.json())
    }

    /// The man page is the schema's documentation: every key the encoder writes
    /// must be described there (as `.B key` in section JSON).
    @Test("every JSON key is documented in asd(1)")
    func keysAreDocumented() throws {
        let manPage = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../doc/asd.1").standardized.path
        let text = try String(contentsOfFile: manPage, encoding: .utf8)
        let section = try #require(text.components(separatedBy: ".SH JSON").dropFirst().first?
            .components(separatedBy: "\n.SH ").first)
        var keys: Set<String> = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, inner) in object { keys.insert(key); collect(inner) }
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(try JSONSerialization.jsonObject(with: Data(Self.sample.json().utf8)))
        #expect(keys.count > 30)
        for key in keys.sorted() {
            #expect(section.contains(".B \(key)\n") || section.contains(".BR \(key) "), "asd(1) section JSON lacks key \(key)")
        }
    }

    @Test("systemctl show output becomes unit states and the timer's next run")
    func systemctlShow() throws {
        let output = """
            Id=asd.service
            LoadState=loaded
            ActiveState=active
            UnitFileState=enabled
            NextElapseUSecRealtime=
            NextElapseUSecMonotonic=0

            Id=asd-resync.timer
            LoadState=loaded
            ActiveState=active
            UnitFileState=static
            NextElapseUSecRealtime=
            NextElapseUSecMonotonic=1h 4min 28.5s

            """
        let now: Int64 = 1_764_493_200_000_000
        let state = try #require(SystemdState.parse(output, realtimeNow: now, monotonicNow: 60_000_000))
        #expect(state.service == .init(unit: "asd.service", activeState: "active", unitFileState: "enabled", nextRun: nil))
        // Fires at monotonic 1h 4min 28.5s; it is 1 min after boot now.
        #expect(state.timer.nextRun == 1_764_493_200 + 3_868 - 60)
        #expect(state.timer.unitFileState == "static")
        let realtime = "Id=asd.service\nLoadState=loaded\n\nId=asd-resync.timer\n"
            + "NextElapseUSecRealtime=@1764500000\nNextElapseUSecMonotonic=infinity\n"
        #expect(SystemdState.parse(realtime, realtimeNow: now, monotonicNow: 0)?.timer.nextRun == 1_764_500_000)
    }

    @Test("asd.service not installed: no systemd state (parse shows the cron line)")
    func notInstalled() {
        let output = "Id=asd.service\nLoadState=not-found\nActiveState=inactive\n\nId=asd-resync.timer\nLoadState=not-found\n"
        #expect(SystemdState.parse(output, realtimeNow: 0, monotonicNow: 0) == nil)
        #expect(SystemdState.parse("", realtimeNow: 0, monotonicNow: 0) == nil)
    }

    @Test("systemd timespans", arguments: [
        ("1h 4min 28.5s", Int64(3_868_500_000)), ("59min", 3_540_000_000), ("500ms", 500_000), ("12us", 12),
        ("2d 3h", 183_600_000_000), ("1month", 2_629_800_000_000), ("0", 0),
    ])
    func timespans(text: String, microseconds: Int64) {
        #expect(SystemdState.timespanMicroseconds(text) == microseconds)
    }

    @Test("not timespans", arguments: ["", "infinity", "n/a", "1 fortnight", "Mon 2026-11-30 09:10:00 UTC"])
    func notTimespans(text: String) {
        #expect(SystemdState.timespanMicroseconds(text) == nil)
    }

    @Test("the write-back record round-trips any target name")
    func writeBackRecord() {
        let record = WriteBackRecord(times: ["/srv/http": 1_764_493_200, "/srv/a b\\c\nd": 17, "/srv/x": 0])
        #expect(WriteBackRecord.parse(record.text) == record)
        #expect(record.text.contains("\n1764493200 /srv/http\n"))
        #expect(WriteBackRecord.parse("garbage\n12 /ok\nx /bad\n") == WriteBackRecord(times: ["/ok": 12]))
        // A letter after the time: consistent (c) or not (i); none: not known.
        let marked = WriteBackRecord(times: ["/c": 1, "/i": 2, "/u": 3], consistent: ["/c": true, "/i": false])
        #expect(marked.text == "1c /c\n2i /i\n3 /u\n")
        #expect(WriteBackRecord.parse(marked.text) == marked)
    }
}
