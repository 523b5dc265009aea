import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

@Suite("CrashArchive")
struct ArchiveTests {
    static let toolsPresent = Subprocess.which("tar") != nil && Subprocess.which("zstd") != nil
    static let enabled = TestPrivilege.enabled(toolsPresent)

    @Test func stampFormat() {
        let stamp = CrashArchive.stamp(for: 1_700_000_000)
        let chars = Array(stamp)
        #expect(chars.count == 15)
        #expect(chars[8] == "_")
        #expect(chars.enumerated().allSatisfy { $0.offset == 8 || $0.element.isASCII && $0.element.isNumber })
        #expect(stamp.hasPrefix("2023111"))  // 2023-11-14 or -15 in any time zone
        #expect(CrashArchive.stamp(for: 1_700_000_000 + 86_400 * 400) > stamp)
        #expect(CrashArchive.stamp().hasPrefix("20"))
    }

    @Test func tarArgumentsKeepMetadataAndArchiveTheBaseName() {
        // No -C and no output path: tar runs in the snapshot's parent by descriptor and
        // writes to a descriptor asd created; no -h, so symlinks are never followed.
        let argv = CrashArchive.tarArguments(snapshotName: ".http-backup_asd-old")
        #expect(argv == [
            "tar", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner", "-I", "zstd -q -T0",
            "-cf", "-", "--", ".http-backup_asd-old",
        ])
        #expect(!argv.contains("-h") && !argv.contains("--dereference"))
    }

    @Test(.enabled(if: enabled, "needs tar and zstd")) func archiveRoundTripsContentAndMetadata() throws {
        try TestPrivilege.require(Self.toolsPresent, "tar and zstd")
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try SnapshotTests.makeTree(in: dir)
        try dir.write("src/nested/big", String(repeating: "zstd! ", count: 50_000))
        try FileOps.setXattr(dir["src/nested/big"], name: "user.bin", value: [0, 1, 2, 3, 255])
        let acl = Subprocess.which("setfacl") != nil
        if acl { try Subprocess.checked(["setfacl", "-m", "u:4321:r-x", dir["src/plain"]]) }
        let paths = TargetPaths(target: FilePath(dir["src"]), user: "root", volatile: "/tmp", instance: "asd")
        try Snapshot.create(of: FilePath(dir["src"]), at: paths.snapshot)
        let archive = paths.archive(stamp: CrashArchive.stamp(for: 1_700_000_000))

        try CrashArchive.create(snapshot: paths.snapshot, archivePath: archive, log: NullLog())

        #expect(try FileOps.status(archive).isRegular)
        #expect(Retention.partials(for: paths).isEmpty)
        #expect(Retention.archives(for: paths) == [archive])
        let listing = try Subprocess.checked(["tar", "-I", "zstd", "-tvf", archive], captureOutput: true).outputText
        #expect(listing.contains(".src-backup_asd-old/nested/deeper/leaf"))
        #expect(listing.contains(".src-backup_asd-old/ünicode ✓"))

        try dir.mkdir("out")
        try Subprocess.checked([
            "tar", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner", "-I", "zstd",
            "-xpf", archive.text, "-C", dir["out"],
        ])
        let extracted = dir["out/.src-backup_asd-old"]
        let original = try SnapshotTests.entries(paths.snapshot.text)
        let restored = try SnapshotTests.entries(extracted)
        let expectedNames = Set(original.filter { $0.value.type != FileType.socket }.keys)  // tar skips sockets
        #expect(Set(restored.keys) == expectedNames)
        for (path, before) in original where before.type != .socket {
            let after = try #require(restored[path], "\(path) missing from the archive")
            #expect(after.type == before.type, "\(path)")
            #expect((after.uid, after.gid) == (before.uid, before.gid), "\(path)")
            #expect(after.modificationTime.seconds == before.modificationTime.seconds, "\(path)")
            #expect(after.rdev == before.rdev, "\(path)")
            if !before.isSymlink { #expect(after.permissions == before.permissions, "\(path)") }
            if !before.isSymlink && before.type != FileType.fifo && before.type != FileType.charDevice {
                #expect(
                    try FileOps.xattrs(extracted + "/" + path) == FileOps.xattrs(paths.snapshot + "/" + path),
                    "\(path)")
            }
            if before.isRegular {
                #expect(dir.read("out/.src-backup_asd-old/" + path) == dir.read("src/" + path), "\(path)")
            }
            if before.isSymlink {
                #expect(try FileOps.readSymlink(extracted + "/" + path) == FileOps.readSymlink(dir["src/" + path]))
            }
        }
        #expect(try FileOps.getXattr(extracted + "/nested/big", name: "user.bin") == [0, 1, 2, 3, 255])
        if acl {
            #expect(try FileOps.xattrs(extracted + "/plain")["system.posix_acl_access"] != nil)
        }
    }

    @Test(.enabled(if: enabled, "needs tar and zstd")) func failureLeavesNoTempFileAndNoArchive() throws {
        try TestPrivilege.require(Self.toolsPresent, "tar and zstd")
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let archive = dir[".x-backup_asd-crashrecovery-20240101_000000.tar.zstd"]
        // tar creates its output, then cannot find the snapshot: exit 2.
        #expect {
            try CrashArchive.create(snapshot: FilePath(dir["missing-snapshot"]), archivePath: FilePath(archive), log: NullLog())
        } throws: { error in
            guard case .archiveFailed(_, _, let reason)? = error as? ASDError else { return false }
            return reason.contains("tar") && reason.contains("exit status 2")
        }
        #expect(try FileOps.listDirectory(dir.path).isEmpty)
    }

    @Test(.enabled(if: enabled, "needs tar and zstd")) func unwritableDestinationFailsCleanly() throws {
        try TestPrivilege.require(Self.toolsPresent, "tar and zstd")
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("snap")
        try dir.write("snap/f", "data")
        // /proc refuses new files even to root; a 0555 directory only to others.
        var destinations = ["/proc/asd-recovery-test.tar.zstd"]
        if geteuid() != 0 {
            try dir.mkdir("ro", mode: 0o555)
            destinations.append(dir["ro/a.tar.zstd"])
        }
        for archive in destinations {
            #expect(throws: ASDError.self) {
                try CrashArchive.create(snapshot: FilePath(dir["snap"]), archivePath: FilePath(archive), log: NullLog())
            }
            #expect(try FileOps.statusIfExists(archive) == nil)
            let temp = FileOps.temporarySibling(of: archive, tag: CrashArchive.partialTag)
            #expect(try FileOps.statusIfExists(temp) == nil)
        }
        #expect(dir.read("snap/f") == "data")
    }

    @Test(.enabled(if: enabled, "needs tar and zstd")) func existingArchiveIsNeverOverwritten() throws {
        try TestPrivilege.require(Self.toolsPresent, "tar and zstd")
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("snap")
        let archive = dir["a.tar.zstd"]
        try dir.write("a.tar.zstd", "precious")
        #expect(throws: ASDError.self) {
            try CrashArchive.create(snapshot: FilePath(dir["snap"]), archivePath: FilePath(archive), log: NullLog())
        }
        #expect(dir.read("a.tar.zstd") == "precious")
    }

    /// tar's exit 1 for files that changed or vanished while read is a warning (the
    /// archive is whole); any other message, or another status, fails the archive.
    @Test func changedWhileReadIsAWarningOnly() {
        func result(_ status: TerminationStatus, _ stderr: String) -> ProcessResult {
            ProcessResult(argv: ["tar"], status: status, standardOutput: [], standardError: stderr)
        }
        let changed = "tar: snap/c: file changed as we read it\ntar: snap/d: File removed before we read it\n"
        #expect(CrashArchive.changedWhileRead(result(.exited(1), changed)) == "snap/c: file changed as we read it; snap/d: File removed before we read it")
        #expect(CrashArchive.changedWhileRead(result(.exited(2), changed)) == nil)
        #expect(CrashArchive.changedWhileRead(result(.exited(1), changed + "tar: snap/e: Cannot open: Permission denied\n")) == nil)
        #expect(CrashArchive.changedWhileRead(result(.exited(1), "")) == nil)
        #expect(CrashArchive.changedWhileRead(result(.exited(0), "")) == nil)
    }
}
