import Foundation
import Testing

/// A write-back by `asd watch` that fails (doc/DESIGN.md §12): the target's
/// file system is remounted read-only. The failure is logged once (not once per
/// attempt), retried with a growing wait, shown by `asd parse --json`; once the
/// file system is writable again the change reaches the disk and the watcher
/// says so. It never exits meanwhile.
@Suite(.privileged) struct WatchFailureTests {
    @Test func aFailingWriteBackIsSaidOnceRetriedAndShown() async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/p/t"], extra: "RESYNC_DELAY=1")
        let disk = sandbox.paths("$DATA/p/t").diskCopy
        let result = try await Scenario(sandbox, timeoutSeconds: 240)
            .shell(WatchSupport.functions)
            .shell("mkdir -p \"$DATA/p\" && asd_mount_tmpfs \"$DATA/p\" 16m && mkdir \"$DATA/p/t\" && echo old >\"$DATA/p/t/a\"")
            .asd("sync", as: "sync")
            .shell("""
                watch_start fanotify
                mount -o remount,ro "$DATA/p"
                echo new >"$DATA/p/t/a"
                poll_until 60 grep -q '"failing":\\[{' "$DAEMON_FILE.watch"
                first=$(cat "$DAEMON_FILE.watch")
                # The next attempt (after the growing wait) rewrites the status.
                poll_until 60 bash -c '[ "$(cat "$DAEMON_FILE.watch")" != "$1" ]' _ "$first"
                """)
            .capture("\"$ASD_BIN\" parse --json", as: "parse")
            .shell("""
                kill -0 "$(cat "$OUT/watch.pid")"
                grep -c 'by the watcher failed' "$OUT/watch.log" >"$OUT/failures-said"
                mount -o remount,rw "$DATA/p"
                wait_on_disk "$DATA/p/t" "\(disk)" after-remount
                poll_until 60 grep -q 'succeeded again' "$OUT/watch.log"
                poll_until 10 grep -q '"failing":\\[\\]' "$DAEMON_FILE.watch"
                watch_stop
                """)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        let said = (try? String(contentsOfFile: sandbox.out + "/failures-said", encoding: .utf8)) ?? ""
        #expect(said.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "the failure was said \(said) times, not once")
        let parse = try result.command("parse").stdout
        #expect(parse.contains("\"resyncDelay\" : 1") && parse.contains("\"source\" : \"fanotify\""), "\(parse)")
        #expect(parse.contains("read-only"), "parse does not show the failure: \(parse)")
    }
}
