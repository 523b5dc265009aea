import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import ASDTestSupport

@Suite("Snapshot")
struct SnapshotTests {
    /// A tree with every kind of entry and awkward names.
    static func makeTree(in dir: RecoveryScratch) throws {
        try dir.mkdir("src", mode: 0o750)
        try dir.mkdir("src/nested", mode: 0o2775)
        try dir.mkdir("src/nested/deeper", mode: 0o700)
        try dir.mkdir("src/empty", mode: 0o1777)
        try dir.write("src/plain", "plain")
        try dir.write("src/nested/deeper/leaf", "leaf", mode: 0o600)
        try dir.write("src/with space", "s")
        try dir.write("src/-leading-dash", "d")
        try dir.write("src/ünicode ✓", "u", mode: 0o4755)
        try FileOps.createSymlink(dir["src/link"], target: "plain")
        try FileOps.createSymlink(dir["src/dangling"], target: "does/not/exist")
        try FileOps.createSymlink(dir["src/nested/abs"], target: "/etc/hostname")
        try FileOps.makeNode(dir["src/fifo"], type: .fifo, permissions: 0o620)
        try FileOps.setXattr(dir["src/nested"], name: "user.dir", value: Array("d".utf8))
        try FileOps.setXattr(dir["src/plain"], name: "user.file", value: Array("f".utf8))
        try TestPrivilege.require(geteuid() == 0 || !TestPrivilege.required, "root")
        if geteuid() == 0 {
            try FileOps.changeOwner(dir["src/nested/deeper"], uid: 1234, gid: 5678)
            try FileOps.changeOwner(dir["src/link"], uid: 1234, gid: 5678)
            try FileOps.makeNode(dir["src/null"], type: .charDevice, permissions: 0o666, rdev: 0x0103)
            try FileOps.makeNode(dir["src/sock"], type: .socket, permissions: 0o755)
        }
        let old = FileTime(seconds: 1_000_000_000, nanoseconds: 111_222_333)
        for path in ["src/nested/deeper", "src/nested", "src/empty", "src/link", "src/fifo", "src"] {
            try FileOps.setTimes(dir[path], access: old, modification: old)
        }
    }

    /// Every entry of both trees, by relative path.
    static func entries(_ root: String) throws -> [String: FileStatus] {
        var result: [String: FileStatus] = [:]
        try FileTreeWalker(root: root).walk { result[$0.relativePath.text] = $0.status }
        return result
    }

    @Test func snapshotMirrorsTreeWithSharedInodes() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeTree(in: dir)
        try Snapshot.create(of: dir["src"], at: dir["snap"])

        let source = try Self.entries(dir["src"])
        let copy = try Self.entries(dir["snap"])
        #expect(Set(source.keys) == Set(copy.keys))
        #expect(source.count >= 13)
        for (path, original) in source {
            let mirrored = try #require(copy[path], "missing \(path)")
            #expect(mirrored.type == original.type, "\(path)")
            #expect(mirrored.uid == original.uid && mirrored.gid == original.gid, "\(path)")
            if original.isRegular {
                #expect(mirrored.inode == original.inode, "\(path) must be a hard link")
            } else {
                #expect(mirrored.inode != original.inode, "\(path)")
                #expect(mirrored.modificationTime == original.modificationTime, "\(path)")
                #expect(mirrored.rdev == original.rdev, "\(path)")
                #expect(
                    try FileOps.xattrs(dir["snap/" + path]) == FileOps.xattrs(dir["src/" + path]), "\(path)")
            }
            if !original.isSymlink { #expect(mirrored.permissions == original.permissions, "\(path)") }
            if original.isSymlink {
                #expect(try FileOps.readSymlink(dir["snap/" + path]) == FileOps.readSymlink(dir["src/" + path]))
            }
        }
        let root = try FileOps.status(dir["snap"])
        let sourceRoot = try FileOps.status(dir["src"])
        #expect(root.permissions == 0o750)
        #expect(root.modificationTime == sourceRoot.modificationTime)
        #expect(try FileOps.getXattr(dir["snap/nested"], name: "user.dir") == Array("d".utf8))
    }

    @Test func snapshotRefusesExistingDestinationAndLeavesItAlone() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("src")
        try dir.write("src/f", "x")
        try dir.mkdir("snap")
        try dir.write("snap/keep", "k")
        #expect(throws: ASDError.self) { try Snapshot.create(of: dir["src"], at: dir["snap"]) }
        #expect(dir.read("snap/keep") == "k")
    }

    /// src/a and src/sub/b, one byte each.
    static func smallTree() throws -> RecoveryScratch {
        let dir = try RecoveryScratch()
        try dir.mkdir("src")
        try dir.write("src/a", "a")
        try dir.mkdir("src/sub")
        try dir.write("src/sub/b", "b")
        return dir
    }

    @Test func failedSnapshotLeavesNothing() throws {
        let dir = try Self.smallTree()
        defer { dir.cleanup() }
        // A missing source fails before anything is created.
        #expect(throws: ASDError.self) { try Snapshot.create(of: dir["missing"], at: dir["snap"]) }
        #expect(try FileOps.statusIfExists(dir["snap"]) == nil)
    }

    /// A target that is a filesystem of its own cannot be hard-linked from its
    /// parent (EXDEV): its files are copied instead, so the snapshot is complete.
    @Test func crossFilesystemSnapshotCopies() throws {
        let dir = try Self.smallTree()
        defer { dir.cleanup() }
        let shm = "/dev/shm/asd-recovery-snap-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileOps.removeTree(shm) }
        let other = try FileOps.status("/dev/shm").device != FileOps.status(dir.path).device
        try #require(other, "/dev/shm must be another filesystem than \(dir.path) for this test")
        try Snapshot.create(of: dir["src"], at: shm)
        let copied = try FileOps.status(shm + "/sub/b")
        #expect(copied.inode != (try FileOps.status(dir["src/sub/b"])).inode)
        #expect(copied.size == 1)
    }

    @Test func removeDeletesSnapshotButNotSource() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeTree(in: dir)
        try Snapshot.create(of: dir["src"], at: dir["snap"])
        try Snapshot.remove(dir["snap"])
        #expect(try FileOps.statusIfExists(dir["snap"]) == nil)
        #expect(dir.read("src/plain") == "plain")
        #expect(try FileOps.status(dir["src/plain"]).linkCount == 1)
        try Snapshot.remove(dir["snap"])
    }

    @Test func twentyThousandFilesTiming() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("src")
        for d in 0..<100 {
            try dir.mkdir("src/d\(d)")
            for f in 0..<200 {
                let fd = open(dir["src/d\(d)/f\(f)"], O_WRONLY | O_CREAT, 0o644)
                try #require(fd >= 0)
                close(fd)
            }
        }
        let start = ContinuousClock.now
        try Snapshot.create(of: dir["src"], at: dir["snap"])
        let elapsed = ContinuousClock.now - start
        print("Snapshot of 20,000 files took \(elapsed)")
        #expect(try FileOps.status(dir["src/d99/f199"]).linkCount == 2)
        #expect(try FileOps.listDirectory(dir["snap/d42"]).count == 200)
    }

    /// RAM_ONLY paths and DISK_ONLY directories stay out of the snapshot (and so out of
    /// the overlay's lower layer and the crash archive); the rest is linked as usual.
    @Test func leavesOutWhatTheFilterExcludes() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeTree(in: dir)
        try dir.mkdir("src/data")
        try dir.write("src/data/big", "b")
        try dir.write("src/nested/x.swp", "s")
        let filter = ExclusionFilter(ramOnly: [PathPattern("*.swp"), PathPattern("/nested/deeper/")], diskOnly: ["data"])
        try Snapshot.create(of: FilePath(dir["src"]), at: FilePath(dir["snap"]), filter: filter)
        let copy = try Self.entries(dir["snap"])
        for gone in ["data", "data/big", "nested/x.swp", "nested/deeper", "nested/deeper/leaf"] {
            #expect(copy[gone] == nil, "\(gone) is in the snapshot")
        }
        #expect(copy["nested"]?.isDirectory == true && copy["plain"]?.isRegular == true)
        #expect(try FileOps.status(dir["src/data/big"]).linkCount == 1)
    }
}
