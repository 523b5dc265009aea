@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// A sync that fails part-way rolls back (doc/DESIGN.md §4): every target is on disk as before
/// (with changes made meanwhile), nothing is mounted, nothing of asd's is left, there is
/// no daemon file, and the error says what happened.
@Suite(.privileged) struct RollbackTests {
    /// `count` files of 2 MiB of random data under `root/big`, plus a small tree.
    static func tree(at root: String, megabytes: Int) -> String {
        Fixture.small(at: root) + "\n" + BigTree.create(at: root, bigFiles: megabytes / 2, smallDirs: 1)
    }

    /// Steps checking that `target` is fully back on disk with nothing of asd's left.
    static func expectRolledBack(_ scenario: Scenario, _ paths: SandboxPaths) -> Scenario {
        scenario
            .expectNotMounted(paths.target)
            .expectAbsent(paths.diskCopy)
            .expectAbsent(paths.snapshot)
            .expectAbsent(paths.snapshot + ".partial")
            .expectAbsent(paths.diskCopy + "-tmp")
    }

    static func expectNothingRunning(_ scenario: Scenario) -> Scenario {
        scenario
            .expectEmptyDirectory("$VOLATILE")
            .expectAbsent("$DAEMON_FILE")
            .expectAbsent("$DAEMON_FILE.conf")
            .expectAbsent("$DAEMON_FILE.stage")
            .expect("[[ -z \"$(findmnt -rn -o TARGET | grep -F \"$DATA\")\" ]]", "mounts left: $(findmnt -rn -o TARGET | grep -F \"$DATA\")")
    }

    /// "VOLATILE /x has 7.9 MiB free but /y needs 20 MiB"-like: both paths, two sizes.
    static func expectNoSpaceMessage(_ output: String, sandbox: Sandbox, target: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(output.contains("VOLATILE"), "no mention of VOLATILE:\n\(output)", sourceLocation: sourceLocation)
        #expect(output.contains(sandbox.volatile), "VOLATILE's path missing:\n\(output)", sourceLocation: sourceLocation)
        #expect(output.contains(sandbox.expand(target)), "target missing:\n\(output)", sourceLocation: sourceLocation)
        let size = try! Regex("[0-9]+(\\.[0-9]+)? ?([KMGT]i?B|bytes|B)\\b")
        #expect(output.matches(of: size).count >= 2, "two sizes expected:\n\(output)", sourceLocation: sourceLocation)
        #expect(output.lowercased().contains("rolled back"), "rollback not reported:\n\(output)", sourceLocation: sourceLocation)
    }

    @Test func volatileTooSmall() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let paths = sandbox.paths(target)
        let result = try await Self.expectNothingRunning(Self.expectRolledBack(
            Scenario(sandbox, volatileSize: "8m")
                .shell(Self.tree(at: target, megabytes: 20))
                .snapshotTree(target, as: "before")
                .asd("sync", as: "sync"),
            paths))
            .snapshotTree(target, as: "after")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        Self.expectNoSpaceMessage(sync.output, sandbox: sandbox, target: target)
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "target after the failed sync")
    }

    /// The first target syncs, the second does not fit: the first goes back to disk too.
    @Test func secondTargetTooBig() async throws {
        let sandbox = try Sandbox()
        let first = "$DATA/t1", second = "$DATA/t2"
        try sandbox.writeConfig(targets: [first, second])
        let result = try await Self.expectNothingRunning(Self.expectRolledBack(Self.expectRolledBack(
            Scenario(sandbox, volatileSize: "8m")
                .shell(Fixture.rich(at: first))
                .shell(Self.tree(at: second, megabytes: 20))
                .snapshotTree(first, as: "first-before")
                .snapshotTree(second, as: "second-before")
                .asd("sync", as: "sync"),
            sandbox.paths(first)), sandbox.paths(second)))
            .snapshotTree(first, as: "first-after")
            .snapshotTree(second, as: "second-after")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        Self.expectNoSpaceMessage(sync.output, sandbox: sandbox, target: second)
        try expectSameTree(result.tree("first-before"), result.tree("first-after"), .lifecycle, "first target")
        try expectSameTree(result.tree("second-before"), result.tree("second-after"), .strict, "second target")
    }

    /// Copying the second target into tmpfs fails part-way (asd runs without
    /// CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, and the second target holds a mode-000 file of
    /// another user among readable ones), after a program wrote into the first target's
    /// tmpfs copy: the sync rolls back, the change reaches the disk, the error names the
    /// file and the reason. With the file made readable, the same binary then syncs.
    @Test func copyFailureOnSecondTargetKeepsChangesToTheFirst() async throws {
        let sandbox = try Sandbox()
        let first = "$DATA/t1", second = "$DATA/t2"
        try sandbox.writeConfig(targets: [first, second])
        let firstPaths = sandbox.paths(first)
        // Each mount(2) of asd returns 0.5 s late: between the first target's bind (it is
        // then in tmpfs) and the second target's copy lie at least two of them (the
        // first's target bind, the second's disk-copy bind), time for the writer below.
        let slowed = try sandbox.asdWithoutDACOverride(named: "nodac-slow-asd", mountDelay: 0.5)
        let binary = try sandbox.asdWithoutDACOverride()
        let unreadable = "\(second)/big/unreadable.bin"
        let result = try await Self.expectNothingRunning(Self.expectRolledBack(Self.expectRolledBack(
            Scenario(sandbox)
                .shell(Fixture.small(at: first))
                .shell(Self.tree(at: second, megabytes: 4))
                .shell("head -c 100000 /dev/urandom >\"\(unreadable)\" && chown 4321:4321 \"\(unreadable)\" && chmod 000 \"\(unreadable)\"")
                .snapshotTree(first, as: "first-before")
                .snapshotTree(second, as: "second-before")
                // A program writing into the first target once it is in tmpfs; through the
                // tmpfs copy's own path, so a write after the roll-back fails instead of
                // landing on disk directly.
                .shell("""
                    (
                        until mountpoint -q "\(first)"; do
                            [[ -e "$OUT/asd/sync.status" ]] && exit 0
                            sleep 0.005
                        done
                        printf 'written while t1 was in tmpfs\\n' >>"\(firstPaths.tmpfsCopy)/one.txt" &&
                            echo written >"$OUT/asd/writer"
                    ) &
                    echo $! >"$SANDBOX/writer.pid"
                    """)
                .asd("sync", as: "sync", binary: slowed)
                .shell("wait \"$(cat \"$SANDBOX/writer.pid\")\" || true"),
            firstPaths), sandbox.paths(second)))
            .snapshotTree(first, as: "first-after")
            .snapshotTree(second, as: "second-after")
            .capture("cat \"\(first)/one.txt\"", as: "one")
            .shell("chmod 644 \"\(unreadable)\"")
            .asd("sync", as: "sync-readable", binary: binary)
            .expectMounted(second, fstype: "tmpfs")
            .asd("unsync", as: "unsync", binary: binary)
            .expectNotMounted(second)
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        #expect(FileManager.default.fileExists(atPath: sandbox.out + "/asd/writer"), "the first target was never seen in tmpfs")
        #expect(sync.output.contains(sandbox.expand(second)), "failing target not named:\n\(sync.output)")
        #expect(sync.output.contains("unreadable.bin"), "failing file not named:\n\(sync.output)")
        #expect(sync.output.contains("Permission denied"), "reason not given:\n\(sync.output)")
        #expect(sync.output.lowercased().contains("rolled back"), "rollback not reported:\n\(sync.output)")
        #expect(try result.command("one").stdout == "one\nwritten while t1 was in tmpfs\n", "change made while in tmpfs lost")
        let firstBefore = try result.tree("first-before").removing(["one.txt"])
        try expectSameTree(firstBefore, result.tree("first-after").removing(["one.txt"]), .lifecycle, "first target")
        try expectSameTree(result.tree("second-before"), result.tree("second-after"), .strict, "second target")
        let again = try result.command("sync-readable"), unsync = try result.command("unsync")
        #expect(again.status == 0, "sync with the file readable: \(again.output)")
        #expect(unsync.status == 0, "\(unsync.output)")
    }

    /// SIGTERM or SIGINT to asd while the tmpfs is being filled (some files copied, the
    /// target not yet bound): the copy stops, the sync rolls back, exit 1, and the
    /// message names the signal.
    @Test(arguments: ["TERM", "INT"])
    func signalDuringSync(signal: String) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let paths = sandbox.paths(target)
        let label = "sig\(signal)"
        let filling = paths.fillingTmpfs + " && ! mountpoint -q \"\(target)\""
        let result = try await Self.expectNothingRunning(Self.expectRolledBack(
            Scenario(sandbox, volatileSize: "512m")
                .shell(Self.tree(at: target, megabytes: 200))
                .capture("grep -E 'SigBlk|SigIgn' /proc/self/status", as: "mask")
                .snapshotTree(target, as: "before")
                .shell(Self.signalling(signal, command: "sync", label: label, when: filling, delay: "0")),
            paths))
            .snapshotTree(target, as: "after")
            .run()
        result.expectNoFailures()
        // The harness spawns scenarios with an empty signal mask (else asd could not see the signal).
        #expect(try result.command("mask").stdout.contains("SigBlk:\t0000000000000000"), "blocked signals in the scenario")
        let run = try result.command(label)
        #expect(run.status == 1, "\(run.output)")
        // Named by asd itself, not only by a copying child (rsync says "received SIGINT, SIGTERM, or SIGHUP").
        let own = run.output.split(separator: "\n").filter { !$0.contains("rsync error") }
        #expect(own.contains { $0.contains("SIG" + signal) }, "signal not named:\n\(run.output)")
        #expect(FileManager.default.fileExists(atPath: sandbox.out + "/asd/\(label).seen"), "the tmpfs was never seen half-filled")
        #expect(run.output.lowercased().contains("rolled back"), "\(run.output)")
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "target after the interrupted sync")
    }

    /// Bash that starts `asd COMMAND` in the background, sends SIG`signal` `delay` seconds after
    /// bash `condition` first holds, and records the run under `label` (status file
    /// `$OUT/asd/LABEL.seen` says whether the condition held while asd ran).
    static func signalling(_ signal: String, command: String, label: String, when condition: String, delay: String = "0.1") -> String {
        """
        "$ASD_BIN" \(command) >"$OUT/asd/\(label).stdout" 2>"$OUT/asd/\(label).stderr" &
        pid=$!
        until \(condition); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.005
        done
        kill -0 "$pid" 2>/dev/null && \(condition) && echo seen >"$OUT/asd/\(label).seen"
        sleep \(delay)
        kill -\(signal) "$pid" 2>/dev/null || true
        rc=0
        wait "$pid" || rc=$?
        echo "$rc" >"$OUT/asd/\(label).status"
        """
    }

    /// SIGTERM during unsync's write-back: asd either finishes (exit 0, target on disk
    /// with every change) or stops with the target still in tmpfs (exit 1, still
    /// running); never half-unmounted. A second unsync then finishes the job.
    /// Where the signal lands: copies of rewritten files under way (temp dir made, full
    /// mode), copies of added files under way (full mode), the overlay write-back.
    @Test(arguments: ["temp dir made", "added files", "overlay"])
    func signalDuringUnsync(phase: String) async throws {
        let overlay = phase == "overlay"
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let result = try await Scenario(sandbox, volatileSize: "1g")
            .shell(BigTree.create(at: target, bigFiles: 100, smallDirs: 10))
            .asd("sync", as: "sync")
            .shell(BigTree.modify(in: target, round: 0))
            .recordContent(target, as: "changed")
            .shell(phase == "added files"
                ? Self.signalling("TERM", command: "unsync", label: "unsync1", when: paths.arriving("added0.*", in: "big"), delay: "0")
                : Self.signalling("TERM", command: "unsync", label: "unsync1", when: "[[ -d \"\(paths.tempDirectory)\" ]]"))
            .capture("if mountpoint -q \"\(target)\"; then echo mounted; else echo unmounted; fi; "
                + "[[ -e \"$DAEMON_FILE\" ]] && echo running || echo stopped", as: "state")
            .shell("if mountpoint -q \"\(target)\"; then "
                + "mountpoint -q \"\(paths.diskCopy)\" && [[ -e \"\(paths.flag)\" ]]; fi")
            .asd("unsync", as: "unsync2")
            .expectNotMounted(target)
            .expectAbsent(paths.diskCopy)
            .expectAbsent("$DAEMON_FILE")
            .expectEmptyDirectory("$VOLATILE")
            .recordContent(target, as: "final")
            .run()
        result.expectNoFailures()
        let first = try result.command("unsync1"), state = try result.command("state").stdout
        if first.status == 0 {
            #expect(state == "unmounted\nstopped\n", "unsync said success but: \(state)")
        } else {
            #expect(first.status == 1, "\(first.output)")
            #expect(state == "mounted\nrunning\n", "interrupted unsync left: \(state)\n\(first.output)")
        }
        #expect(try result.command("unsync2").status == 0)
        let changed = try ContentManifest(sandbox: sandbox, label: "changed").withoutFlag
        expectNoProblems(try ContentManifest(sandbox: sandbox, label: "final").differences(from: changed), "after the second unsync")
        print("asd-itest SIGTERM during unsync (\(phase)): first unsync exit \(first.status.map(String.init) ?? "?"): \(first.output.split(separator: "\n").last ?? "")")
    }
}
