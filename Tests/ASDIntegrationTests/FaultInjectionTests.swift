@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// Power loss at many instants of sync, resync and unsync (doc/DESIGN.md §6), full and overlay
/// mode, on a 300 MiB tree (150 files of 2 MiB and 3000 of 1000 B) so kills land
/// mid-copy. Each kill point is one round of one scenario: change the tmpfs copy, run
/// the command in a child PID namespace, SIGKILL the whole tree when the trigger holds,
/// "reboot" (mounts and tmpfs gone), then check the disk: every file that was there
/// is there whole (old or new version), nothing else exists (no temp files), and the
/// next `asd sync` recovers, archiving the sync-time snapshot exactly when one existed.
@Suite(.privileged) struct FaultInjectionTests {
    struct KillPoint: Sendable, CustomStringConvertible {
        let name: String
        let trigger: Scenario.Trigger
        /// The trigger is an event the command must reach (else a delay that may miss).
        let mustKill: Bool
        /// Run asd under `strace -e inject=...:delay_exit=` so that each mount(2) and
        /// rename(2) of asd itself (not of its children) takes 0.15 s longer: the steps
        /// between them otherwise take microseconds and no trigger could catch them.
        var slowed = false
        /// Run asd under strace delaying the exit of each syncfs(2) by 0.5 s: the last
        /// renames of a write-back then stay visible that long before it returns.
        var slowFlush = false
        var description: String { name }
    }

    /// The asd command of a power-loss round, optionally slowed (see `KillPoint.slowed`).
    static func command(_ arguments: String, label: String, slowed: Bool, slowFlush: Bool = false) -> String {
        (slowed ? "ASD_BIN=\"$SANDBOX/slow-asd\" " : slowFlush ? "ASD_BIN=\"$SANDBOX/slow-flush-asd\" " : "")
            + "asd_as \(label) \(arguments)"
    }

    /// Writes `$SANDBOX/slow-asd`: the binary under test run by strace, which delays
    /// the exit of each of its mount(2) and rename(2) calls by 0.15 s.
    static func writeSlowAsd(_ sandbox: Sandbox) throws {
        guard let strace = Executable.find("strace") else {
            throw HarnessError("strace is needed to slow asd down between steps; install it (apt-get install strace).")
        }
        let calls = "mount,rename,renameat,renameat2"
        let script = """
            #!/bin/bash
            exec \(strace) -qq -o /dev/null -e trace=\(calls) -e inject=\(calls):delay_exit=150000 \(shellQuote(try Executable.asd())) "$@"

            """
        try script.write(toFile: sandbox.root + "/slow-asd", atomically: false, encoding: .utf8)
        chmod(sandbox.root + "/slow-asd", 0o755)
        let flush = """
            #!/bin/bash
            exec \(strace) -qq -o /dev/null -e trace=syncfs -e inject=syncfs:delay_exit=500000 \(shellQuote(try Executable.asd())) "$@"

            """
        try flush.write(toFile: sandbox.root + "/slow-flush-asd", atomically: false, encoding: .utf8)
        chmod(sandbox.root + "/slow-flush-asd", 0o755)
    }

    /// Kill points, each the trigger of one round. Triggers are states of the file
    /// system (whatever does the copying); they may use `$asd_round` (the round's number,
    /// set by `powerLoss(during:)` before each kill) and record the number of files in the
    /// tmpfs copy at the kill in `$OUT/asd/r$asd_round-filled` (sync; for the printout).
    static func killPoints(_ command: String, overlay: Bool, paths: SandboxPaths) -> [KillPoint] {
        let temp = "[[ -d \"\(paths.tempDirectory)\" ]]"
        let filled = "{ find \"\(paths.tmpfsCopy)\" -type f | wc -l >\"$OUT/asd/r$asd_round-filled\"; }"
        // The round's added files (BigTree.modify): new inodes, copied after or among the rewritten ones.
        let added = paths.arriving("added$asd_round.*", in: "big")
        switch (command, overlay) {
        case ("sync", false):
            return [
                KillPoint(name: "building the snapshot", trigger: .whenExists(paths.snapshot + ".partial"), mustKill: true),
                KillPoint(name: "copy started", trigger: .when("\(paths.fillingTmpfs) && \(filled)"), mustKill: true),
                KillPoint(name: "copy + 0.3 s", trigger: .when("\(paths.fillingTmpfs) && sleep 0.3 && \(filled)"), mustKill: false),
                KillPoint(name: "tmpfs filled, flag written", trigger: .whenExists(paths.flag), mustKill: true, slowed: true),
            ]
        case ("sync", true):
            return [
                KillPoint(name: "building the snapshot", trigger: .whenExists(paths.snapshot + ".partial"), mustKill: true),
                KillPoint(name: "snapshot renamed", trigger: .whenExists(paths.snapshot), mustKill: true, slowed: true),
                KillPoint(name: "overlay dirs made", trigger: .whenExists(paths.overlayWork), mustKill: true, slowed: true),
                // The overlay is mounted only in asd's namespace: the flag shows in the upper dir.
                KillPoint(name: "flag written", trigger: .whenExists(paths.overlayUpper + "/.flagged"), mustKill: true, slowed: true),
            ]
        case (_, false):
            // The temp dir appears when the write-back writes its first file; rewritten and
            // added files go through it (the current engine copies the rewritten ones first).
            // The added files are renamed in at the end, right before the final syncfs,
            // which is slowed so that their arrival can be seen before asd returns.
            var points = [
                KillPoint(name: "temp dir + 0.05 s", trigger: .when("\(temp) && sleep 0.05"), mustKill: false),
                KillPoint(name: "temp dir + 0.2 s", trigger: .when("\(temp) && sleep 0.2"), mustKill: false),
                KillPoint(name: "added files arriving", trigger: .when(added), mustKill: true, slowFlush: true),
                KillPoint(name: "added files + 0.1 s", trigger: .when("\(added) && sleep 0.1"), mustKill: false),
            ]
            if command == "unsync" {
                points.append(KillPoint(name: "discarding the snapshot", trigger: .whenExists(paths.snapshot + ".partial"), mustKill: true))
            }
            return points
        case (_, true):
            var points = [
                KillPoint(name: "temp dir made", trigger: .when(temp), mustKill: true),
                KillPoint(name: "temp dir + 0.1 s", trigger: .when("\(temp) && sleep 0.1"), mustKill: false),
                KillPoint(name: "temp dir + 0.4 s", trigger: .when("\(temp) && sleep 0.4"), mustKill: false),
            ]
            if command == "unsync" {
                points.append(KillPoint(name: "discarding the snapshot", trigger: .whenExists(paths.snapshot + ".partial"), mustKill: true))
            }
            return points
        }
    }

    @Test(arguments: [false, true])
    func powerLossDuringSync(overlay: Bool) async throws {
        try await powerLoss(during: "sync", overlay: overlay)
    }

    @Test(arguments: [false, true])
    func powerLossDuringResync(overlay: Bool) async throws {
        try await powerLoss(during: "resync", overlay: overlay)
    }

    @Test(arguments: [false, true])
    func powerLossDuringUnsync(overlay: Bool) async throws {
        try await powerLoss(during: "unsync", overlay: overlay)
    }

    func powerLoss(during command: String, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let points = Self.killPoints(command, overlay: overlay, paths: paths)
        try Self.writeSlowAsd(sandbox)
        var scenario = Scenario(sandbox, volatileSize: "1g", timeoutSeconds: 500)
            .shell(BigTree.create(at: target))
            .recordContent(target, as: "initial")
        if command != "sync" {
            scenario = scenario.asd("sync", as: "sync").expectMounted(target)
        }
        for (k, point) in points.enumerated() {
            let round = "r\(k)"
            if command != "sync" {
                scenario = scenario.shell(BigTree.modify(in: target, round: k)).recordContent(target, as: "\(round)-tmpfs")
            }
            scenario = scenario
                .shell("asd_round=\(k)")
                .powerLoss(run: Self.command(command, label: "\(round)-\(command)", slowed: point.slowed, slowFlush: point.slowFlush), when: point.trigger, as: "\(round)-kill", mustKill: point.mustKill)
                .expectNotMounted(target)
                .capture("[[ -d \"\(paths.snapshot)\" ]] && echo yes || echo no", as: "\(round)-snapshot")
                .recordContent(target, as: "\(round)-disk")
                .asd("sync", as: "\(round)-recover")
                .expectMounted(target, fstype: overlay ? "overlay" : "tmpfs")
                .expectAbsent(paths.tempDirectory)
                .expectAbsent(paths.snapshot + ".partial")
                .expectAbsent("$DAEMON_FILE.stage")
                .inspectArchives(of: paths, as: round)
            if command == "sync" {
                scenario = scenario.asd("unsync", as: "\(round)-unsync").expectNotMounted(target)
            }
        }
        let result = try await scenario
            .asd("unsync", as: "final-unsync")
            .expectNotMounted(target)
            .expect("[[ -z \"$(find \"$DATA\" -maxdepth 1 -name '.t-backup_asd*')\" ]]", "leftovers: $(ls -A \"$DATA\")")
            .expectEmptyDirectory("$VOLATILE")
            .recordContent(target, as: "final")
            .run()
        result.expectNoFailures()

        var syncTime = try ContentManifest(sandbox: sandbox, label: "initial")
        #expect(syncTime.files.count == 3150, "tree generation")
        var outcomes: [String] = []
        for (k, point) in points.enumerated() {
            let round = "r\(k)", what = "\(command) \(overlay ? "overlay" : "full") killed at '\(point.name)'"
            let killed = try result.command("\(round)-kill").killed
            let snapshotExisted = try result.command("\(round)-snapshot").stdout.hasPrefix("yes")
            let archives = sandbox.archiveNames(round)
            let after = command == "sync" ? syncTime : try ContentManifest(sandbox: sandbox, label: "\(round)-tmpfs").withoutFlag
            let disk = try ContentManifest(sandbox: sandbox, label: "\(round)-disk")
            // How far the write-back had come: changed files already in their new version.
            let changed = after.files.filter { syncTime.files[$0.key] != nil && syncTime.files[$0.key] != $0.value }
            let written = changed.filter { disk.files[$0.key] == $0.value }.count
            let added = after.files.filter { syncTime.files[$0.key] == nil }
            let addedThere = added.filter { disk.files[$0.key] != nil }.count
            let filled = (try? String(contentsOfFile: sandbox.out + "/asd/\(round)-filled", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            outcomes.append("\(point.name): \(killed ? "killed" : "finished first")"
                + (command != "sync" ? ", rewritten \(written)/\(changed.count) added \(addedThere)/\(added.count) on disk"
                    : filled.map { ", \($0)/\(syncTime.files.count) files in tmpfs" } ?? "")
                + (snapshotExisted ? ", archived" : ""))
            expectNoProblems(disk.problems(before: syncTime, after: after), "\(what): disk after reboot")
            if command == "sync" {
                expectNoProblems(disk.differences(from: syncTime), "\(what): sync must not change the disk")
            }
            let recover = try result.command("\(round)-recover")
            #expect(recover.status == 0, "\(what): asd sync after reboot: \(recover.output)")
            if snapshotExisted {
                #expect(archives.count == 1, "\(what): a snapshot existed, so one crash archive was expected: \(archives)")
                if archives.count == 1 {
                    let archived = try ContentManifest(sandbox: sandbox, label: "\(round)-archive")
                    expectNoProblems(archived.differences(from: syncTime), "\(what): crash archive vs sync-time tree")
                }
            } else {
                #expect(archives.isEmpty, "\(what): no snapshot existed, yet archives: \(archives)")
            }
            if command != "sync" { syncTime = disk }
        }
        let final = try ContentManifest(sandbox: sandbox, label: "final")
        expectNoProblems(final.differences(from: syncTime), "\(command): final unsync vs last recovered state")
        print("asd-itest power loss during \(command) (\(overlay ? "overlay" : "full")): \(outcomes.joined(separator: "; "))")
    }
}
