@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// Crash recovery (doc/DESIGN.md §5): the archive holds the sync-time tree exactly, even
/// after metadata-only changes were written back through inodes shared with the
/// hardlink snapshot; BACKUP_LIMIT, USE_BACKUPS=no and `asd clean`; power loss while
/// recovery itself runs.
@Suite(.privileged) struct RecoveryTests {
    /// Metadata-only changes on files whose content stays as synced: on disk these
    /// files share their inode with the snapshot, so writing the change in place would
    /// alter the snapshot too. Plus an mtime set back in time without a content change.
    static func metadataOnlyChanges(in root: String) -> String {
        """
        (
            cd "\(root)"
            chmod 0600 a/hello.txt
            chown 65534:65534 a/b/4k.bin
            setfattr -n user.leak -v changed empty.txt
            setfattr -x user.test a/hello.txt
            setfacl -m u:daemon:rw acl-file
            setfacl -b owned-daemon
            chmod 0700 "dir with space/file with space.txt"
            touch -m -d @1400000000.5 a/b/c/1M.bin
            touch -m -d @1600000000.000000001 empty.txt
        )
        """
    }

    @Test(arguments: [false, true])
    func archiveHoldsTheSyncTimeTreeExactly(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let result = try await Scenario(sandbox)
            .shell(Fixture.rich(at: target))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .shell(Self.metadataOnlyChanges(in: target))
            .shell(Fixture.changes(in: target))
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync")
            .snapshotTree(paths.snapshot, as: "snapshot-after-resync")
            .reboot()
            .snapshotTree(target, as: "disk")
            .asd("sync", as: "recover")
            .inspectArchives(of: paths, as: "crash", tree: true)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "recover", "unsync"])
        #expect(try result.command("recover").output.contains("Ungraceful state"))
        #expect(sandbox.archiveNames("crash").count == 1, "\(sandbox.archiveNames("crash"))")
        let initial = try result.tree("initial")
        try expectSameTree(initial, result.tree("snapshot-after-resync"), .strict, "snapshot after resync")
        try expectSameTree(initial, result.tree("crash-archive"), .strict, "crash archive vs sync-time tree")
        try expectSameTree(result.tree("changed"), result.tree("disk"), .lifecycle, "disk after reboot vs changes")
        let disk = try result.tree("disk")
        #expect(disk["a/hello.txt"]?.modeText == "0600" && disk["a/b/4k.bin"]?.uid == 65534)
    }

    /// BACKUP_LIMIT=3 with four older archives: two crashes in a row (within a second,
    /// so the second needs another name) leave the newest three; a leftover temp archive
    /// goes; `asd clean` then deletes and lists every archive.
    @Test func backupLimitAndClean() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], extra: "BACKUP_LIMIT=3")
        let paths = sandbox.paths(target)
        let prefix = paths.parent + "/" + paths.archivePrefix
        let fakes = (1...4).map { "\(prefix)2020010\($0)_000000.tar.zstd" }
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("touch " + fakes.map { "\"\($0)\"" }.joined(separator: " ") + " \"\(prefix)20200105_000000.tar.zstd.partial-99\"")
            .asd("sync", as: "sync")
            .reboot()
            .asd("sync", as: "recover1")
            .reboot()
            .asd("sync", as: "recover2")
            .capture("cd \"$DATA\" && ls -A | grep crashrecovery", as: "kept")
            .asd("clean", as: "clean")
            .capture("cd \"$DATA\" && ls -A | grep crashrecovery || true", as: "after-clean")
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "recover1", "recover2", "clean", "unsync"])
        let kept = try result.command("kept").stdout.split(separator: "\n").map(String.init)
        #expect(kept.count == 3, "BACKUP_LIMIT=3 kept \(kept)")
        let real = kept.filter { !$0.contains("-2020010") }
        #expect(real.count == 2, "both crash archives must be kept: \(kept)")
        #expect(kept.contains(paths.archivePrefix + "20200104_000000.tar.zstd"), "newest old archive dropped: \(kept)")
        #expect(!kept.contains { $0.contains(".partial-") }, "temp archive kept: \(kept)")
        let clean = try result.command("clean")
        for name in kept {
            #expect(clean.output.contains(paths.parent + "/" + name), "clean does not list \(name):\n\(clean.output)")
        }
        #expect(try result.command("after-clean").stdout.isEmpty)
    }

    /// USE_BACKUPS=no: no archive, and the sync-time snapshot is gone after recovery (in
    /// full mode none is made at all; in overlay mode it is the lower layer).
    @Test(arguments: [false, true])
    func noBackups(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay, backups: false)
        let paths = sandbox.paths(target)
        var scenario = Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
        scenario = overlay
            ? scenario.expectExists(paths.snapshot)
            : scenario.expectAbsent(paths.snapshot).expectAbsent(paths.snapshot + ".partial")
        let result = try await scenario
            .shell("echo changed >>\"\(target)/one.txt\"")
            .asd("resync", as: "resync")
            .reboot()
            .shell(overlay ? "touch \"\(paths.snapshot)/old-snapshot-marker\"" : "true")
            .asd("sync", as: "recover")
            .expectAbsent(paths.snapshot + "/old-snapshot-marker")
            .asd("unsync", as: "unsync")
            .expect("[[ -z \"$(find \"$DATA\" -maxdepth 1 -name '.t-backup_asd*')\" ]]", "left: $(ls -A \"$DATA\")")
            .capture("cat \"\(target)/one.txt\"", as: "one")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "recover", "unsync"])
        #expect(try result.command("recover").output.contains("Ungraceful state"))
        #expect(try result.command("one").stdout == "one\nchanged\n")
    }

    /// Power loss while recovery writes the archive, and while it deletes the snapshot:
    /// the next run still ends with exactly one complete archive of the sync-time tree
    /// and no temp archive.
    @Test(arguments: ["archive being written", "snapshot being deleted"])
    func powerLossDuringRecovery(point: String) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let paths = sandbox.paths(target)
        let trigger: Scenario.Trigger = point == "archive being written"
            ? .when("compgen -G \"\(paths.parent)/\(paths.archivePrefix)*.partial-*\" >/dev/null")
            : .whenExists(paths.snapshot + ".partial")
        let result = try await Scenario(sandbox, volatileSize: "512m")
            .shell(BigTree.create(at: target, bigFiles: 100, smallDirs: 10))
            .recordContent(target, as: "initial")
            .asd("sync", as: "sync")
            .shell("rm -rf \"\(target)/small/d1\" && head -c 1M /dev/urandom >\"\(target)/big/f.aaa\"")
            .asd("resync", as: "resync")
            .reboot()
            .powerLoss(run: "asd_as recover1 sync", when: trigger, as: "kill")
            .asd("sync", as: "recover2")
            .expect("[[ -z \"$(find \"$DATA\" -maxdepth 1 -name '*.partial*')\" ]]", "temp files left: $(ls -A \"$DATA\")")
            .inspectArchives(of: paths, as: "crash")
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        let recover2 = try result.command("recover2")
        #expect(recover2.status == 0, "\(recover2.output)")
        let archives = sandbox.archiveNames("crash")
        #expect(archives.count == 1, "\(archives)")
        if archives.count == 1 {
            let initial = try ContentManifest(sandbox: sandbox, label: "initial")
            expectNoProblems(try ContentManifest(sandbox: sandbox, label: "crash-archive").differences(from: initial), "archive")
        }
    }
}
