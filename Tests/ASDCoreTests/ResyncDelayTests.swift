import Testing
@testable import ASDCore
@testable import ASDSystem
import ASDTestSupport

/// RESYNC_DELAY in the config (doc/DESIGN.md §12): seconds, optionally with a
/// unit; empty or 0 is off; anything else is refused naming file and line.
@Suite("RESYNC_DELAY")
struct ResyncDelayTests {
    static let config: FilePath = "/etc/asd.conf"

    static func delay(_ line: String) -> Result<Int?, ASDError> {
        let text = "WHATTOSYNC=('/srv/http')\n# continuous write-back\n" + line + "\n"
        return Result { () throws(ASDError) in
            let values = try ConfigFile.parse(Array(text.utf8), file: config, environment: ["D": "90"])
            return try Settings.from(values, file: config).resyncDelay
        }
    }

    @Test(arguments: [
        ("", nil), ("RESYNC_DELAY=", nil), ("RESYNC_DELAY=0", nil), ("RESYNC_DELAY=00s", nil),
        ("RESYNC_DELAY=60", 60), ("RESYNC_DELAY='10'", 10), ("RESYNC_DELAY=30s", 30), ("RESYNC_DELAY=2m", 120),
        ("RESYNC_DELAY=1H", 3600), ("RESYNC_DELAY=86400", 86400), ("RESYNC_DELAY=$D", 90),
    ] as [(String, Int?)])
    func accepted(line: String, seconds: Int?) throws {
        #expect(try Self.delay(line).get() == seconds, "\(line)")
    }

    @Test(arguments: ["RESYNC_DELAY=-5", "RESYNC_DELAY=1.5", "RESYNC_DELAY=soon", "RESYNC_DELAY=' 60'",
                      "RESYNC_DELAY=86401", "RESYNC_DELAY=25h", "RESYNC_DELAY=m", "RESYNC_DELAY=99999999999999999999"])
    func refusedNamingTheLine(line: String) {
        guard case .failure(let error) = Self.delay(line) else {
            Issue.record("accepted: \(line)")
            return
        }
        #expect(error.message.hasPrefix("/etc/asd.conf:3: RESYNC_DELAY="), "\(error.message)")
        #expect(error.message.contains("whole number of seconds"), "\(error.message)")
    }

    @Test func isAKnownKey() throws {
        let values = try ConfigFile.parse(Array("WHATTOSYNC=('/srv')\nRESYNC_DELAY=60\n".utf8), file: Self.config, environment: [:])
        #expect(Settings.warnings(for: values, file: Self.config).isEmpty)
    }

    @Test func watchStatusRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let daemonFile = FilePath(directory.path).appending("asd")
        // A live pid (ours) is a running watcher; a dead one is a killed watcher.
        var status = WatchStatus(pid: Int(ProcessIdentity.pid), source: "inotify", delaySeconds: 60, startedAt: 1)
        status.failing = [.init(target: "/srv/x", since: 2, message: "disk full", nextAttempt: 3)]
        try status.write(daemonFile: daemonFile)
        #expect(WatchStatus.read(daemonFile: daemonFile) == status)
        status.pid = Int(Int32.max)
        try status.write(daemonFile: daemonFile)
        #expect(WatchStatus.read(daemonFile: daemonFile) == nil)
        WatchStatus.remove(daemonFile: daemonFile)
        #expect(!FileOps.exists(WatchStatus.path(daemonFile: daemonFile)))
    }
}
