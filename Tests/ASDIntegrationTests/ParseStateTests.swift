@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// `asd parse --json` against the real binary: state, RAM used, VOLATILE's free
/// space and the last write-back (recorded by resync, gone after unsync).
@Suite(.privileged) struct ParseStateTests {
    @Test(arguments: [false, true])
    func jsonFollowsTheLifecycle(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        let record = "$DAEMON_FILE.last-writeback"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let result = try await Scenario(sandbox, volatileSize: "64m")
            .shell(Fixture.small(at: target))
            .asd("parse", "--json", as: "stopped")
            // A stale record (a run that never reached unsync) must not survive a sync.
            .shell("mkdir -p \"$(dirname \"$DAEMON_FILE\")\"; echo \"1 \(target)\" >\"\(record)\"")
            .asd("sync")
            .shell("head -c 1000000 /dev/urandom >\"\(target)/new\"")
            .asd("parse", "--json", as: "synced")
            .expectAbsent(record)
            .capture("date +%s", as: "before")
            .asd("resync")
            .capture("date +%s", as: "after")
            .expectExists(record)
            .asd("parse", "--json", as: "resynced")
            .asd("unsync")
            .expectAbsent(record)
            .expectAbsent("$DAEMON_FILE")
            .asd("parse", "--json", as: "unsynced")
            .run()
        result.expectNoFailures()
        func report(_ label: String) throws -> ParseReport {
            let command = try result.command(label)
            #expect(command.status == 0, "\(command.output)")
            return try ParseReport.decode(json: command.stdout)
        }
        let path = sandbox.expand(target)
        let stopped = try report("stopped")
        #expect(!stopped.running && stopped.overlay == overlay && stopped.engine == (TestEngine.current == .rsync ? "rsync" : "built-in"))
        #expect(stopped.targets.map(\.path) == [path] && stopped.targets[0].state == "stopped")
        #expect(stopped.targets[0].ramBytes == 0 && stopped.targets[0].lastWriteBack == nil)
        #expect(stopped.volatile.path == sandbox.volatile && stopped.volatile.fsType == "tmpfs")
        #expect(stopped.volatile.totalBytes == 64 << 20)

        let synced = try report("synced")
        #expect(synced.running && synced.targets[0].state == "running")
        #expect(synced.targets[0].lastWriteBack == nil, "no write-back yet")
        let syncedAt = try #require(synced.syncedAt)
        #expect(stopped.syncedAt == nil && syncedAt > 1_700_000_000)
        // The new 1 MB file lives in RAM only (in overlay mode: in the upper layer).
        let ram = try #require(synced.targets[0].ramBytes)
        #expect(ram >= 1_000_000 && ram < 2_000_000 + (overlay ? 0 : 64 << 10), "ramBytes \(ram)")
        let free = try #require(synced.volatile.freeBytes)
        #expect(free <= (64 << 20) - 1_000_000, "freeBytes \(free) does not count the tmpfs copy")

        let resynced = try report("resynced")
        let before = try #require(Int(result.command("before").stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let after = try #require(Int(result.command("after").stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let written = try #require(resynced.targets[0].lastWriteBack)
        #expect(written >= before && written <= after && written >= syncedAt)

        let unsynced = try report("unsynced")
        #expect(!unsynced.running && unsynced.targets[0].state == "stopped" && unsynced.targets[0].lastWriteBack == nil)
    }

    @Test func textShowsTheNewLines() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync")
            .asd("resync")
            .asd("parse", as: "parse")
            .asd("parse", "--yaml", as: "bad")
            .asd("unsync")
            .run()
        result.expectNoFailures()
        let text = try result.command("parse").output
        for line in [TestEngine.current == .rsync ? "Copy engine in force: rsync (USE_RSYNC)." : "Copy engine in force: built-in.", "Volatile \(sandbox.volatile) (tmpfs):", "ram used:", "last write-back:"] {
            #expect(text.contains(line), "parse lacks '\(line)':\n\(text)")
        }
        #expect(!text.contains("none since sync"))
        #expect(try result.command("bad").status == 64)
    }
}
