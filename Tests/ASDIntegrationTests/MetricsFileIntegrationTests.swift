@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// The metrics file the real binary writes (METRICS_DIR in the sandbox) through a
/// life of sync, resyncs, a failed resync (read-only disk copy), unsync and sync again.
@Suite(.privileged) struct MetricsFileIntegrationTests {
    /// `name{labels}` → value, from the text format (comments skipped).
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            result[String(line[..<space])] = value
        }
        return result
    }

    @Test func countersFollowTheWriteBacks() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/fs/t"
        try sandbox.writeConfig(targets: [target], extra: "METRICS_DIR=\"\(sandbox.root)/metrics/\"")
        let file = "$SANDBOX/metrics/\(sandbox.instance).prom"
        let show = "cat \"\(file)\"; stat -c 'mode %a' \"\(file)\"; ls -A \"$SANDBOX/metrics\""
        let result = try await Scenario(sandbox)
            .shell("mkdir \"$SANDBOX/metrics\" && truncate -s 32M \"$SANDBOX/fs.img\" && mkfs.ext4 -q \"$SANDBOX/fs.img\"")
            .shell("mkdir -p \"$DATA/fs\" && mount -o loop \"$SANDBOX/fs.img\" \"$DATA/fs\"")
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .capture(show, as: "synced")
            .shell("head -c 200000 /dev/urandom >\"\(target)/new\"")
            .asd("resync", as: "resync1")
            .capture(show, as: "resynced")
            .shell("printf x >>\"\(target)/new\" && mount -o remount,ro \"$DATA/fs\"")
            .asd("resync", as: "failed")
            .capture(show, as: "failedShow")
            .shell("mount -o remount,rw \"$DATA/fs\"")
            .asd("unsync", as: "unsync")
            .capture(show + "; cat \"$DAEMON_FILE.metrics\"", as: "unsynced")
            .asd("sync", as: "sync2")
            .capture(show, as: "synced2")
            .asd("unsync", as: "unsync2")
            .shell("umount \"$DATA/fs\"")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync1", "unsync", "sync2", "unsync2"])
        #expect(try result.command("failed").status == 1)
        let path = sandbox.expand(target)
        let t = "{target=\"\(path)\"}"
        let syncedText = try result.command("synced").stdout, resyncedText = try result.command("resynced").stdout
        let synced = Self.samples(syncedText)
        let resynced = Self.samples(try result.command("resynced").stdout)
        let failed = Self.samples(try result.command("failedShow").stdout)
        let unsynced = Self.samples(try result.command("unsynced").stdout)
        let synced2 = Self.samples(try result.command("synced2").stdout)

        #expect(synced["asd_target_running" + t] == 1)
        #expect(synced["asd_last_success_timestamp_seconds" + t] != nil, "the sync counts as the disk holding everything")
        #expect(synced["asd_last_attempt_timestamp_seconds" + t] == nil)
        #expect(synced["asd_writebacks_total" + t] == 0 && synced["asd_writeback_failures_total" + t] == 0)
        #expect((synced["asd_ram_bytes" + t] ?? 0) > 0)
        #expect(synced["asd_info{config=\"\(sandbox.config)\",engine=\"\(TestEngine.current == .rsync ? "rsync" : "built-in")\",overlay=\"false\",version=\"\(Version.string)\"}"] == 1,
                "\(syncedText)")

        #expect(resynced["asd_writebacks_total" + t] == 1)
        #expect(resynced["asd_last_success_timestamp_seconds" + t]! > synced["asd_last_success_timestamp_seconds" + t]!)
        #expect(resynced["asd_last_attempt_timestamp_seconds" + t]! <= resynced["asd_last_success_timestamp_seconds" + t]!)
        #expect((resynced["asd_written_bytes_total" + t] ?? 0) >= 200_000, "\(resyncedText)")
        #expect(resynced["asd_last_writeback_duration_seconds" + t] != nil)

        // The failure: counted, the attempt time moves, nothing else does.
        #expect(failed["asd_writeback_failures_total" + t] == 1)
        #expect(failed["asd_last_attempt_timestamp_seconds" + t]! > resynced["asd_last_attempt_timestamp_seconds" + t]!)
        for name in ["asd_last_success_timestamp_seconds", "asd_writebacks_total", "asd_written_bytes_total",
                     "asd_last_writeback_duration_seconds"] {
            #expect(failed[name + t] == resynced[name + t], "\(name) moved on a failed write-back")
        }

        #expect(unsynced["asd_target_running" + t] == 0 && unsynced["asd_ram_bytes" + t] == 0)
        #expect(unsynced["asd_writebacks_total" + t] == 2 && unsynced["asd_writeback_failures_total" + t] == 1)
        // Counters outlive unsync and count on after the next sync.
        #expect(synced2["asd_writebacks_total" + t] == 2 && synced2["asd_writeback_failures_total" + t] == 1)
        #expect(synced2["asd_last_success_timestamp_seconds" + t]! > unsynced["asd_last_success_timestamp_seconds" + t]!)

        for label in ["synced", "resynced", "failedShow", "unsynced"] {
            let text = try result.command(label).stdout
            #expect(text.contains("mode 644\n\(sandbox.instance).prom\n"), "\(label): mode or leftovers:\n\(text)")
        }
    }

    /// Debian's layout: a root-owned directory inside one another user owns
    /// (/var/lib/prometheus is prometheus'): written. That user swapping it for a
    /// symlink: refused, nothing written where the symlink points.
    @Test(arguments: [false, true])
    func directoryInsideAUsersDirectory(swapped: Bool) async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"], extra: "METRICS_DIR=\"\(sandbox.root)/prom/node-exporter\"")
        let file = "\(sandbox.instance).prom"
        let swap = "mv \"$SANDBOX/prom/node-exporter\" \"$SANDBOX/prom/old\" && ln -s \"$SANDBOX/elsewhere\" \"$SANDBOX/prom/node-exporter\""
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: "$DATA/t"))
            .shell("mkdir -p \"$SANDBOX/prom/node-exporter\" \"$SANDBOX/elsewhere\" && chown 65534 \"$SANDBOX/prom\"")
            .shell(swapped ? swap : ":")
            .asd("sync", as: "sync")
            .asd("unsync", as: "unsync")
            .expect(swapped ? "[[ -z \"$(ls -A \"$SANDBOX/elsewhere\")\" ]]" : "[[ -f \"$SANDBOX/prom/node-exporter/\(file)\" ]]",
                    "metrics: $(ls -lA \"$SANDBOX/elsewhere\" \"$SANDBOX/prom/\"*)")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        let sync = try result.command("sync")
        #expect(sync.stderr.contains("Could not write the metrics file") == swapped, "\(sync.output)")
    }

    /// A METRICS_DIR that does not exist: a warning naming it; the commands succeed.
    @Test func missingDirectoryIsAWarning() async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"], extra: "METRICS_DIR=\"\(sandbox.root)/nowhere\"")
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: "$DATA/t"))
            .asd("sync", as: "sync")
            .asd("resync", as: "resync")
            .asd("parse", as: "parse")
            .asd("unsync", as: "unsync")
            .expectAbsent("$SANDBOX/nowhere")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "parse", "unsync"])
        let resync = try result.command("resync")
        #expect(resync.stderr.contains("Could not write the metrics file \(sandbox.root)/nowhere/\(sandbox.instance).prom"), "\(resync.output)")
        #expect(try result.command("parse").stdout.contains("Metrics are written to \(sandbox.root)/nowhere/\(sandbox.instance).prom"))
    }
}
