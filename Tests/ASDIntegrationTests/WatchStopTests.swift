import Foundation
import Testing
import ASDTestSupport

/// How `asd watch` ends (doc/DESIGN.md §12): SIGKILL at any point loses nothing
/// and leaves nothing behind; SIGTERM during a write-back lets it finish; a
/// failing write-back is said once, retried with backoff and shown by parse.
@Suite(.privileged) struct WatchStopTests {
    /// A writer changes the target all the time; the watcher (RESYNC_DELAY=1) is
    /// SIGKILLed at seeded random instants and once while its staging mount shows
    /// a write-back running. Then a resync (what the timer or unsync does) must
    /// succeed, leave no staging mount, temp directory or capture, and make the
    /// disk copy equal to the target.
    @Test func sigkillAtRandomPointsLosesNothing() async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"], extra: "RESYNC_DELAY=1")
        let disk = sandbox.paths("$DATA/t").diskCopy
        var rng = SplitMix64(seed: 21)
        let pauses = (0..<4).map { _ in String(format: "%.2f", Double(rng.next() % 2500) / 1000) }
        let result = try await Scenario(sandbox, timeoutSeconds: 300)
            .shell(WatchSupport.functions)
            .shell("mkdir -p \"$DATA/t/d\" && for i in $(seq 50); do echo $i >\"$DATA/t/d/f$i\"; done")
            .asd("sync", as: "sync")
            .shell("""
                ( i=0; while :; do i=$((i + 1)); echo "$i" >"$DATA/t/d/f$((i % 50))"; mkdir -p "$DATA/t/n$((i % 7))"
                  mv "$DATA/t/n$((i % 7))" "$DATA/t/m$i" 2>/dev/null || true; rm -rf "$DATA/t/m$((i - 5))"; sleep 0.01; done ) &
                writer=$!
                for pause in \(pauses.joined(separator: " ")) stage; do
                    watch_start fanotify
                    if [ "$pause" = stage ]; then
                        poll_until 60 mountpoint -q "$DAEMON_FILE.stage"
                    else
                        sleep "$pause"
                    fi
                    kill -KILL "$(cat "$OUT/watch.pid")"; wait "$(cat "$OUT/watch.pid")" || true
                done
                kill "$writer"; wait "$writer" || true
                """)
            .asd("resync", as: "resync")
            .shell("""
                no_leftovers "$DATA" t
                [ "$(tree_state "$DATA/t")" == "$(tree_state "\(disk)")" ]
                """)
            .capture("\"$ASD_BIN\" parse --json", as: "parse")
            .snapshotTree("$DATA/t", as: "running")
            .asd("unsync", as: "unsync")
            .snapshotTree("$DATA/t", as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync"])
        try expectSameTree(result.tree("running"), result.tree("final"), .lifecycle, "target after unsync")
        // A killed watcher's status file names a dead pid: parse says it is not running.
        let parse = try result.command("parse").stdout
        #expect(parse.contains("\"running\" : false"), "\(parse)")
    }

    /// SIGTERM while the watcher's write-back (in its child) is held inside
    /// syncfs(2) (strace delays its entry): the write-back ends, the change is
    /// on disk, then the watcher exits 0.
    @Test func stopDuringAWriteBackWaitsForIt() async throws {
        guard let strace = Executable.find("strace") else {
            throw HarnessError("strace is needed to hold the write-back; install it (apt-get install strace).")
        }
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"], extra: "RESYNC_DELAY=1")
        let disk = sandbox.paths("$DATA/t").diskCopy
        let result = try await Scenario(sandbox, timeoutSeconds: 240)
            .shell(WatchSupport.functions)
            .shell("mkdir -p \"$DATA/t\" && echo old >\"$DATA/t/a\"")
            .asd("sync", as: "sync")
            .shell("""
                echo new >"$DATA/t/a"   # before the watcher: its first write-back carries it
                ASD_WATCH_SOURCE=fanotify \(strace) -f -qq -o /dev/null -e trace=syncfs \
                    -e inject=syncfs:delay_enter=8000000 "$ASD_BIN" watch >"$OUT/watch.log" 2>&1 & tracer=$!
                # The write-back runs in the watcher's child: held once that is inside syncfs(2),
                # 8 s each time (a loaded machine's polls of pgrep must not miss it).
                wait_held_child $tracer
                kill -TERM $asd_pid
                # Bounded: a watcher that ignores SIGTERM fails here instead of hanging.
                for i in $(seq 1200); do kill -0 $tracer 2>/dev/null || break; sleep 0.1; done
                if kill -0 $tracer 2>/dev/null; then kill -KILL $tracer $asd_pid; echo "no exit 120 s after SIGTERM" >&2; exit 1; fi
                status=0; wait $tracer || status=$?
                echo "$status" >"$OUT/status"
                no_leftovers "$DATA" t
                [ "$(cat "\(disk)/a")" = new ]
                """)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        let log = (try? String(contentsOfFile: sandbox.out + "/watch.log", encoding: .utf8)) ?? ""
        #expect(log.contains("Stopped watching on SIGTERM"), "\(log)")
        let status = (try? String(contentsOfFile: sandbox.out + "/status", encoding: .utf8)) ?? ""
        #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "watcher exit status \(status)")
    }
}
