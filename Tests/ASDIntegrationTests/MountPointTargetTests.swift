@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// doc/DESIGN.md §4: a target that is itself a mount point (its own file
/// system, a tmpfs, or a bind mount) works, and its mount survives unsync and crash
/// recovery: data is read from and written back to that mount, never to the
/// directory beneath it.
@Suite(.privileged) struct MountPointTargetTests {
    /// Bash that mounts the user's file system of `kind` at `$DATA/t`: an ext4 image
    /// (loop), a tmpfs, or a bind of `$DATA/src` (same file system as the parent).
    static func mountUsers(_ kind: String) -> String {
        switch kind {
        case "ext4": return "mount -o loop \"$SANDBOX/user.img\" \"$DATA/t\""
        case "tmpfs": return "mount -t tmpfs -o size=16m user-tmpfs \"$DATA/t\""
        default: return "mount --bind \"$DATA/src\" \"$DATA/t\""
        }
    }

    /// The fs type findmnt shows for the user's mount.
    static func fsType(_ kind: String) -> String { kind == "bind" ? "" : kind }

    static let cases: [(String, Bool)] = [("ext4", false), ("ext4", true), ("tmpfs", false), ("tmpfs", true),
                                          ("bind", false), ("bind", true)]

    @Test(arguments: cases)
    func userMountSurvivesUnsync(kind: String, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let userMount = "findmnt -rn -o FSTYPE --mountpoint \"\(target)\" | head -n 1"
        let result = try await Scenario(sandbox)
            .shell("mkdir -p \"$DATA/t\" \"$DATA/src\" \"$SANDBOX/peek\" && printf 'beneath\\n' >\"$DATA/t/beneath.txt\"")
            .shell(kind == "ext4" ? "truncate -s 32M \"$SANDBOX/user.img\" && mkfs.ext4 -q \"$SANDBOX/user.img\"" : "true")
            .shell(Self.mountUsers(kind))
            .capture(userMount, as: "user-fstype")
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .expectMounted(target, fstype: overlay ? "overlay" : "tmpfs")
            .shell("printf 'changed\\n' >>\"\(target)/one.txt\" && printf 'new\\n' >\"\(target)/new.txt\"")
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync")
            .asd("unsync", as: "unsync")
            .expectMounted(target)
            .capture(userMount, as: "user-fstype-after")
            .snapshotTree(target, as: "after")
            // The directory beneath the user's mount is untouched.
            .shell("mount --bind \"$DATA\" \"$SANDBOX/peek\"")
            .capture("ls -A \"$SANDBOX/peek/t\"", as: "beneath")
            .expect("[[ -z \"$(find \"$DATA\" -maxdepth 1 -name '.t-backup_asd*')\" ]]", "left: $(ls -A \"$DATA\")")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync"])
        let before = try result.command("user-fstype").stdout
        #expect(try result.command("user-fstype-after").stdout == before, "the user's mount at the target changed")
        #expect(try result.command("beneath").stdout == "beneath.txt\n", "the directory beneath the mount changed")
        try expectSameTree(result.tree("changed"), result.tree("after"), .lifecycle, "after unsync vs changes")
    }

    /// Power loss while running; after the "reboot" the user's mount is back (fstab),
    /// and the next sync recovers without touching it, then unsync keeps it too.
    @Test(arguments: [("ext4", false), ("ext4", true), ("bind", false), ("bind", true)])
    func crashRecoveryKeepsTheUserMount(kind: String, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let result = try await Scenario(sandbox)
            .shell("mkdir -p \"$DATA/t\" \"$DATA/src\" && printf 'beneath\\n' >\"$DATA/t/beneath.txt\"")
            .shell(kind == "ext4" ? "truncate -s 32M \"$SANDBOX/user.img\" && mkfs.ext4 -q \"$SANDBOX/user.img\"" : "true")
            .shell(Self.mountUsers(kind))
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .shell("printf 'changed\\n' >>\"\(target)/one.txt\" && printf 'new\\n' >\"\(target)/new.txt\"")
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync")
            .reboot()
            .shell(Self.mountUsers(kind))
            .asd("sync", as: "recover")
            .inspectArchives(of: paths, as: "crash")
            .expectMounted(target, fstype: overlay ? "overlay" : "tmpfs")
            .asd("unsync", as: "unsync")
            .expectMounted(target)
            .snapshotTree(target, as: "after")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "recover", "unsync"])
        #expect(try result.command("recover").output.contains("Ungraceful"))
        #expect(sandbox.archiveNames("crash").count == 1, "\(sandbox.archiveNames("crash"))")
        try expectSameTree(result.tree("changed"), result.tree("after"), .lifecycle, "after recovery vs changes")
    }

    /// Power loss in the middle of a resync of a target that is a mount point: its
    /// file system has no room outside the target, so the temp directory lies inside
    /// the disk copy's root; recovery removes it, and no temp file is left anywhere in
    /// the target. Every file is whole: old or new.
    @Test(arguments: [("ext4", false), ("ext4", true), ("bind", false), ("bind", true)])
    func powerLossDuringResyncLeavesNoTempFiles(kind: String, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let tempDir = "\(paths.diskCopy)/\(paths.diskCopy.split(separator: "/").last ?? "")-tmp"
        // The new content differs throughout, so every file is written whole through
        // the temp directory (a small change would take the delta write-back's journal).
        let files = "for i in $(seq 1 24); do { printf '%s\\n' \"$1\"; head -c 4M \"$2\"; } >\"\(target)/f$i\"; done"
        let noTemp = "[[ -z \"$(find \"\(target)\" -name '.asd-tmp-*' -o -name '*-backup_asd-tmp')\" ]]"
        let whole = "for f in \"\(target)\"/f*; do case $(head -n 1 \"$f\") in old|new) ;; *) exit 1 ;; esac; done"
        let result = try await Scenario(sandbox, volatileSize: "512m")
            .shell("mkdir -p \"$DATA/t\" \"$DATA/src\"")
            .shell(kind == "ext4" ? "truncate -s 256M \"$SANDBOX/user.img\" && mkfs.ext4 -q \"$SANDBOX/user.img\"" : "true")
            .shell(Self.mountUsers(kind))
            .shell("set -- old /dev/zero; " + files)
            .asd("sync", as: "sync")
            .shell("set -- new /dev/urandom; " + files)
            .powerLoss(run: "asd_as resync resync", when: .when("[[ -n \"$(ls -A \"\(tempDir)\" 2>/dev/null)\" ]]"), as: "kill")
            .shell(Self.mountUsers(kind))
            .asd("sync", as: "recover")
            .expect(noTemp, "temp files left after recovery: $(find \"\(target)\" -name '.asd-tmp-*' -o -name '*-backup_asd-tmp')")
            .asd("unsync", as: "unsync")
            .expectMounted(target)
            .expect(noTemp, "temp files left after unsync: $(find \"\(target)\" -name '.asd-tmp-*' -o -name '*-backup_asd-tmp')")
            .expect(whole, "a file is neither old nor new")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "recover", "unsync"])
        #expect(try result.command("kill").killed)
    }
}
