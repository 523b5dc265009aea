import ASDCore
import Foundation
import Testing

/// A sync that fails part-way rolls back (SPEC §5.2): every target is on disk as before
/// (with changes made meanwhile), nothing is mounted, nothing of asd's is left, there is
/// no daemon file, and the error says what happened.
@Suite(.privileged) struct RollbackTests {
    /// `count` files of 2 MiB of random data under `root/big`, plus a small tree.
    static func tree(at root: String, megabytes: Int) -> String {
        Fixture.small(at: root) + "\n" + BigTree.create(at: root, bigFiles: megabytes / 2, smallDirs: 1)
    }

    /// Steps checking that `target` is fully back on disk with nothing of asd's left.
    static func expectRolledBack(_ scenario: Scenario, _ paths: TargetPaths) -> Scenario {
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

    /// rsync fails (exit 23 after a partial copy) on the second target, after a program
    /// wrote into the first target's tmpfs copy: the change reaches the disk.
    @Test func rsyncFailureOnSecondTargetKeepsChangesToTheFirst() async throws {
        let sandbox = try Sandbox()
        let first = "$DATA/t1", second = "$DATA/t2"
        try sandbox.writeConfig(targets: [first, second])
        let firstPath = sandbox.expand(first)
        let path = try sandbox.fakeRsync("""
            for last; do :; done
            if [[ $last == */t2/ ]]; then
                printf 'written while t1 was in tmpfs\\n' >>\(shellQuote(firstPath + "/one.txt"))
                /usr/bin/rsync --max-size=1k "$@" || true
                echo 'rsync: injected failure' >&2
                exit 23
            fi
            exec /usr/bin/rsync "$@"
            """)
        let result = try await Self.expectNothingRunning(Self.expectRolledBack(Self.expectRolledBack(
            Scenario(sandbox)
                .shell(Fixture.small(at: first))
                .shell(Self.tree(at: second, megabytes: 4))
                .snapshotTree(first, as: "first-before")
                .snapshotTree(second, as: "second-before")
                .asd("sync", as: "sync", environment: ["PATH": path]),
            sandbox.paths(first)), sandbox.paths(second)))
            .snapshotTree(first, as: "first-after")
            .snapshotTree(second, as: "second-after")
            .capture("cat \"\(first)/one.txt\"", as: "one")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        #expect(sync.output.contains("rsync") && sync.output.contains("23"), "command and status not named:\n\(sync.output)")
        #expect(sync.output.contains("injected failure"), "rsync's stderr not shown:\n\(sync.output)")
        #expect(try result.command("one").stdout == "one\nwritten while t1 was in tmpfs\n", "change made while in tmpfs lost")
        let firstBefore = try result.tree("first-before").removing(["one.txt"])
        try expectSameTree(firstBefore, result.tree("first-after").removing(["one.txt"]), .lifecycle, "first target")
        try expectSameTree(result.tree("second-before"), result.tree("second-after"), .strict, "second target")
    }

    /// SIGTERM or SIGINT to asd while rsync fills the tmpfs: rsync is stopped, the
    /// sync rolls back, exit 1, and the message names the signal.
    @Test(arguments: ["TERM", "INT"])
    func signalDuringSync(signal: String) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let label = "sig\(signal)"
        let result = try await Self.expectNothingRunning(Self.expectRolledBack(
            Scenario(sandbox, volatileSize: "512m")
                .shell(Self.tree(at: target, megabytes: 200))
                .capture("grep -E 'SigBlk|SigIgn' /proc/self/status", as: "mask")
                .snapshotTree(target, as: "before")
                .shell(Self.signalling(signal, command: "sync", label: label, root: sandbox.root, delay: "0")),
            sandbox.paths(target)))
            .snapshotTree(target, as: "after")
            .run()
        result.expectNoFailures()
        // The harness spawns scenarios with an empty signal mask (else asd could not see the signal).
        #expect(try result.command("mask").stdout.contains("SigBlk:\t0000000000000000"), "blocked signals in the scenario")
        let run = try result.command(label)
        #expect(run.status == 1, "\(run.output)")
        // Named by asd itself, not only inside rsync's "received SIGINT, SIGTERM, or SIGHUP".
        let own = run.output.split(separator: "\n").filter { !$0.contains("rsync error") }
        #expect(own.contains { $0.contains("SIG" + signal) }, "signal not named:\n\(run.output)")
        #expect(FileManager.default.fileExists(atPath: sandbox.out + "/asd/\(label).rsync"), "rsync never ran")
        #expect(run.output.lowercased().contains("rolled back"), "\(run.output)")
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "target after the interrupted sync")
    }

    /// Bash that starts `asd COMMAND` in the background, sends SIG`signal` `delay` seconds after
    /// this sandbox's rsync appears, and records the run under `label` (status file
    /// `$OUT/asd/LABEL.rsync` says whether rsync was seen).
    static func signalling(_ signal: String, command: String, label: String, root: String, delay: String = "0.1") -> String {
        """
        "$ASD_BIN" \(command) >"$OUT/asd/\(label).stdout" 2>"$OUT/asd/\(label).stderr" &
        pid=$!
        until pgrep -f 'rsync .*\(root)/' >/dev/null; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.005
        done
        pgrep -f 'rsync .*\(root)/' >/dev/null && echo seen >"$OUT/asd/\(label).rsync"
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
    /// Where the signal lands: the link breaker (in-process copies, full mode), rsync
    /// (full mode), the overlay write-back.
    @Test(arguments: ["link breaker", "rsync", "overlay"])
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
            .shell(phase == "rsync"
                ? Self.signalling("TERM", command: "unsync", label: "unsync1", root: sandbox.root, delay: "0")
                : Self.signalling("TERM", command: "unsync", label: "unsync1", root: sandbox.root)
                    .replacingOccurrences(of: "pgrep -f 'rsync .*\(sandbox.root)/'", with: "[[ -d \"\(paths.diskCopy)-tmp\" ]]"))
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
