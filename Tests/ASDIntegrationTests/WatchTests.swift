import Foundation
import ASDTestSupport
import Testing
import ASDTestSupport

/// `asd watch` (doc/DESIGN.md §12): with RESYNC_DELAY set, every kind of change
/// reaches the disk copy without a resync, whatever the change source, in full
/// and overlay mode (both copiers: the suite runs once per ASD_TEST_ENGINE).
/// The watcher's first write-back is waited for before the changes are made, so
/// only the events can carry them to the disk.
@Suite(.privileged) struct WatchTests {
    @Test(arguments: ["fanotify", "inotify"], [false, true])
    func everyKindOfChangeReachesTheDisk(source: String, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"], overlay: overlay, extra: "RESYNC_DELAY=1")
        let disk = sandbox.paths("$DATA/t").diskCopy
        let result = try await Scenario(sandbox, timeoutSeconds: 300)
            .shell(WatchSupport.functions)
            .shell("""
                cd "$DATA" && mkdir -p t/keep/deep t/gone t/dir2file/sub && echo a >t/a && echo b >t/keep/deep/b
                echo x >t/gone/x && echo y >t/dir2file/sub/y && echo r >t/ren
                """)
            .asd("sync", as: "sync")
            .shell("watch_start \(source)")
            .shell("""
                cd "$DATA/t" && echo more >>a && mkdir -p new/n1/n2 && echo n >new/n1/n2/f
                wait_on_disk "$DATA/t" "\(disk)" changed-and-new-tree
                """)
            .shell("""
                cd "$DATA/t" && rm keep/deep/b && mv ren renamed && mv gone moved && rm -r dir2file && echo f >dir2file
                chmod 600 a && ln -s a link && setfattr -n user.asd -v 1 renamed
                wait_on_disk "$DATA/t" "\(disk)" delete-rename-replace
                """)
            .shell("""
                cd "$DATA/t" && echo again >>a && echo z >moved/x && mkdir new/n1/n2/n3 && echo deep >new/n1/n2/n3/g
                truncate -s 5000 renamed
                wait_on_disk "$DATA/t" "\(disk)" in-renamed-and-new-directories
                """)
            .shell("watch_stop")
            .snapshotTree("$DATA/t", as: "running")
            .asd("unsync", as: "unsync")
            .snapshotTree("$DATA/t", as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        try expectSameTree(result.tree("running"), result.tree("final"), .lifecycle, "target after unsync")
        let log = (try? String(contentsOfFile: sandbox.out + "/watch.log", encoding: .utf8)) ?? ""
        #expect(log.contains("(\(source))"), "the watcher did not use \(source): \(log)")
        #expect(log.contains("Stopped watching on SIGTERM"), "\(log)")
    }

    /// A change seen while a write-back runs (its child held 5 s in each syncfs(2)
    /// by strace) is due RESYNC_DELAY (2 s) after that write-back began, so it is
    /// overdue when the write-back ends: counted from the end, the loss window
    /// would grow by the write-back's length (doc/DESIGN.md §12). The watcher's
    /// debug line says when it is due, by its own clock; then it reaches the disk.
    /// In overlay mode the change is an append to a file of the lower layer in a
    /// directory of the lower layer: both are copied up by the kernel first.
    @Test(arguments: [("fanotify", false), ("fanotify", true), ("inotify", true)])
    func aChangeDuringAWriteBackIsDueFromItsStart(source: String, overlay: Bool) async throws {
        let strace = try WatchSupport.strace(), sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/late"], overlay: overlay, extra: "RESYNC_DELAY=2")
        let change = overlay ? "echo c >>\"$DATA/late/sub/old\"" : "echo c >\"$DATA/late/c\""
        let result = try await Scenario(sandbox, timeoutSeconds: 300)
            .shell(WatchSupport.functions + "\nmkdir -p \"$DATA/late/sub\" && echo a >\"$DATA/late/a\" && echo o >\"$DATA/late/sub/old\"")
            .asd("sync", as: "sync")
            .shell("""
                export DEBUG=1
                watch_start \(source) \(strace) -f -qq -o /dev/null -e trace=syncfs -e inject=syncfs:delay_enter=5000000
                tracer=$(cat "$OUT/watch.pid")
                watcher=$(pgrep -P $tracer -x asd)
                echo b >"$DATA/late/b"
                # The next write-back (b's) is in its child, inside syncfs(2): c comes after its start.
                in_syncfs() { local c; c=$(pgrep -P $watcher -x asd) && [ "$(cut -d' ' -f1 /proc/$c/syscall)" = \(WatchSupport.syncfsNumber) ]; }
                poll_until 60 in_syncfs
                \(change)
                poll_until 120 grep -q 'Changed during the write-back' "$OUT/watch.log"
                wait_on_disk "$DATA/late" "\(sandbox.paths("$DATA/late").diskCopy)" late-change
                kill -TERM $watcher
                poll_until 120 eval '! kill -0 $tracer 2>/dev/null'
                """)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        let log = (try? String(contentsOfFile: sandbox.out + "/watch.log", encoding: .utf8)) ?? ""
        let due = log.split(separator: "\n").filter { $0.contains("Changed during the write-back") }
        #expect(!due.isEmpty && due.allSatisfy { $0.contains("due again in 0 ms") }, "\(log)")
    }

    /// More events than inotify's queue holds (fs.inotify.max_queued_events,
    /// 16384): the overflow makes every target due, so a change in the second
    /// target, whose events were dropped, is written back too. The watcher is
    /// held with SIGSTOP while the events pile up. (fanotify's queue has no
    /// limit: it cannot overflow.)
    @Test func anOverflowingQueueStillWritesEverything() async throws {
        let source = "inotify"
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/a", "$DATA/b"], extra: "RESYNC_DELAY=1")
        let diskA = sandbox.paths("$DATA/a").diskCopy, diskB = sandbox.paths("$DATA/b").diskCopy
        let result = try await Scenario(sandbox, timeoutSeconds: 300)
            .shell(WatchSupport.functions)
            .shell("mkdir -p \"$DATA/a\" \"$DATA/b\" && echo old >\"$DATA/b/f\"")
            .asd("sync", as: "sync")
            .shell("""
                watch_start \(source)
                pid=$(cat "$OUT/watch.pid")
                kill -STOP $pid
                poll_until 10 grep -q '^State:.*stopped' /proc/$pid/status
                (cd "$DATA/a" && seq -f 'f%g' 1 20000 | xargs touch)
                echo new >"$DATA/b/f"
                kill -CONT $pid
                wait_on_disk "$DATA/b" "\(diskB)" after-overflow
                wait_on_disk "$DATA/a" "\(diskA)" flood
                grep -q 'overflowed' "$OUT/watch.log"
                watch_stop
                """)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
    }

    /// Changes made while the watcher's write-back child ends (held by strace in
    /// exit_group(2), after its last look at the tree and its report),
    /// a new nested directory and a deletion, are read while it runs (doc/DESIGN.md
    /// §12) and written back by the next round, with no event after them.
    @Test func changesDuringAWriteBackAreWrittenBackNext() async throws {
        guard let strace = Executable.find("strace") else {
            throw HarnessError("strace is needed to hold the write-back; install it (apt-get install strace).")
        }
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"], extra: "RESYNC_DELAY=1")
        let disk = sandbox.paths("$DATA/t").diskCopy
        let result = try await Scenario(sandbox, timeoutSeconds: 300)
            .shell(WatchSupport.functions)
            .shell("mkdir -p \"$DATA/t/d\" && echo old >\"$DATA/t/a\"")
            .asd("sync", as: "sync")
            .shell("""
                echo new >"$DATA/t/d/c"   # before the watcher: its first write-back carries it
                ASD_WATCH_SOURCE=fanotify \(strace) -f -qq -o /dev/null -e trace=exit_group \
                    -e inject=exit_group:delay_enter=8000000 "$ASD_BIN" watch >"$OUT/watch.log" 2>&1 & tracer=$!
                trap 'kill -KILL $tracer $asd_pid 2>/dev/null || true' EXIT   # a failure must not wait for the timeout
                wait_held_child $tracer \(WatchSupport.exitGroupNumber)
                mkdir -p "$DATA/t/d/new/deeper" && echo during >"$DATA/t/d/new/deeper/b" && rm "$DATA/t/a"
                wait_on_disk "$DATA/t" "\(disk)" during
                kill -TERM $asd_pid
                poll_until 120 eval '! kill -0 $tracer 2>/dev/null'
                wait $tracer
                no_leftovers "$DATA" t
                """)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
    }
}
