import Glibc
import Synchronization
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// The in-process copier that replaced rsync: after `.fill` and after
/// `.update`, the destination equals the source in every attribute asd keeps;
/// updates go through the temp dir and never touch an inode shared with a
/// hard link (the snapshot).
@Suite("TreeMirror")
struct TreeMirrorTests {
    /// Everything compared about one entry (atime aside).
    struct Entry: Equatable, CustomStringConvertible {
        var type: FileType
        var permissions: UInt32
        var uid: UInt32
        var gid: UInt32
        var mtime: FileTime
        var content: String
        var xattrs: [String: [UInt8]]

        var description: String { "\(type) \(String(permissions, radix: 8)) \(uid):\(gid) \(mtime) \(content.prefix(40)) \(xattrs.keys.sorted())" }
    }

    static func manifest(_ root: String) throws -> [String: Entry] {
        var result: [String: Entry] = [:]
        var paths: [(String, FileStatus)] = []
        try FileTreeWalker(root: root).walk { entry in paths.append((entry.relativePath.text, entry.status)) }
        if let status = try? FileOps.status(root) { paths.append((".", status)) }
        for (relative, status) in paths {
            let full = relative == "." ? root : root + "/" + relative
            var content = ""
            switch status.type {
            case .regular: content = try readAll(full)
            case .symlink: content = try FileOps.readSymlink(full)
            case .charDevice, .blockDevice: content = "\(status.rdev)"
            default: break
            }
            result[relative] = Entry(
                type: status.type, permissions: status.permissions, uid: status.uid, gid: status.gid,
                mtime: status.modificationTime, content: content, xattrs: (try? FileOps.xattrs(full)) ?? [:])
        }
        return result
    }

    static func readAll(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0, "open \(path)")
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            out += buffer[..<got]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func setMtime(_ path: String, seconds: Int, nanoseconds: Int) throws {
        try FileOps.setTimes(
            path, access: FileTime(seconds: seconds, nanoseconds: 0),
            modification: FileTime(seconds: seconds, nanoseconds: nanoseconds))
    }

    /// A tree with every kind of entry the copier handles.
    static func makeSource(_ dir: RecoveryScratch) throws {
        try dir.mkdir("src")
        try dir.mkdir("src/a", mode: 0o750)
        try dir.mkdir("src/a/b")
        try dir.mkdir("src/empty", mode: 0o1777)
        try dir.mkdir("src/gone-dir")
        try dir.write("src/gone-dir/inner", "inner")
        try dir.write("src/a/hello.txt", "hello world")
        try dir.write("src/a/b/secret", "secret", mode: 0o600)
        try dir.write("src/big.bin", String(repeating: "0123456789abcdef", count: 1 << 17))  // 2 MiB: own job
        try dir.write("src/empty-file", "")
        try dir.write("src/file-then-dir", "f")
        try dir.mkdir("src/dir-then-file")
        try dir.write("src/dir-then-file/x", "x")
        try dir.write("src/.flagged", "")
        try dir.write("src/spaces and ünïcode", "u")
        try dir.write("src/-leading-dash", "d")
        try FileOps.createSymlink(dir["src/dangling"], target: "no/such/target")
        try FileOps.createSymlink(dir["src/a/up"], target: "../big.bin")
        try FileOps.makeNode(dir["src/fifo"], type: .fifo, permissions: 0o640)
        try FileOps.setXattr(dir["src/a/hello.txt"], name: "user.test", value: Array("v1".utf8))
        try FileOps.setXattr(dir["src/a"], name: "user.dir", value: Array("d".utf8))
        try setMtime(dir["src/a/hello.txt"], seconds: 1_600_000_000, nanoseconds: 123_456_789)
        try setMtime(dir["src/a/b"], seconds: 1_500_000_000, nanoseconds: 5)
        try setMtime(dir["src/a"], seconds: 1_400_000_000, nanoseconds: 7)
        try FileOps.setTimes(dir["src/dangling"], access: FileTime(seconds: 1, nanoseconds: 0),
                             modification: FileTime(seconds: 1_300_000_000, nanoseconds: 9))
    }

    static func mirror(_ dir: RecoveryScratch, _ mode: TreeMirror.Mode) throws -> TreeMirror.Report {
        try TreeMirror(source: dir["src"], destination: dir["dst"], mode: mode,
                       excludedTopNames: [TargetPaths.flagName], log: NullLog()).run()
    }

    /// src (see `makeSource`), its copy dst made by `.fill`, and an empty tmp.
    static func makeFilledCopy(_ dir: RecoveryScratch) throws {
        try makeSource(dir)
        try dir.mkdir("dst", mode: 0o700)
        try dir.mkdir("tmp", mode: 0o700)
        _ = try mirror(dir, .fill)
    }

    static func withoutFlag(_ manifest: [String: Entry]) -> [String: Entry] {
        manifest.filter { $0.key != TargetPaths.flagName.text && $0.key != "." }
    }

    static func expectSame(_ dir: RecoveryScratch, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let source = withoutFlag(try manifest(dir["src"]))
        let destination = withoutFlag(try manifest(dir["dst"]))
        for key in Set(source.keys).union(destination.keys).sorted() where source[key] != destination[key] {
            Issue.record("\(key): source \(source[key].map(String.init(describing:)) ?? "missing"), copy \(destination[key].map(String.init(describing:)) ?? "missing")", sourceLocation: sourceLocation)
        }
        #expect(!source.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func fillCopiesEverythingButTheExcludedName() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeSource(dir)
        try dir.mkdir("dst", mode: 0o700)
        let report = try Self.mirror(dir, .fill)
        try Self.expectSame(dir)
        #expect(!FileOps.exists(dir["dst/.flagged"]))
        #expect(report.vanished == 0)
        #expect(report.bytes >= 2 << 20)
        // The root's own metadata follows the source too.
        let root = try FileOps.status(dir["dst"])
        #expect(root.permissions == (try FileOps.status(dir["src"])).permissions)
    }

    @Test func updateMakesTheCopyEqualAndKeepsLinkedInodesIntact() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeFilledCopy(dir)
        // A "snapshot": hard links to two files of the copy.
        try dir.mkdir("snap")
        try FileOps.hardLink(dir["dst/a/hello.txt"], dir["snap/hello.txt"])
        try FileOps.hardLink(dir["dst/a/b/secret"], dir["snap/secret"])
        let snapshotBefore = try Self.manifest(dir["snap"])

        // Same size, same second, other nanoseconds: must still be copied (doc/DESIGN.md §6.2).
        try dir.write("src/a/hello.txt", "HELLO WORLD")
        try Self.setMtime(dir["src/a/hello.txt"], seconds: 1_600_000_000, nanoseconds: 987_654_321)
        // Metadata only, on a file shared with the snapshot.
        try FileOps.changeMode(dir["src/a/b/secret"], 0o640)
        try FileOps.setXattr(dir["src/a/b/secret"], name: "user.added", value: [1, 2, 3])
        // Metadata only, on a file with one link: fixed in place.
        try FileOps.changeMode(dir["src/spaces and ünïcode"], 0o600)
        try FileOps.removeXattr(dir["src/a/hello.txt"], name: "user.test")
        // Deletions, type changes, new entries, a retargeted symlink.
        try FileOps.removeTree(dir["src/gone-dir"])
        try FileOps.unlink(dir["src/file-then-dir"])
        try dir.mkdir("src/file-then-dir")
        try dir.write("src/file-then-dir/child", "c")
        try FileOps.removeTree(dir["src/dir-then-file"])
        try dir.write("src/dir-then-file", "now a file")
        try dir.mkdir("src/new")
        try dir.mkdir("src/new/deep")
        try dir.mkdir("src/new/deep/er")
        try dir.write("src/new/deep/er/n.txt", "new")
        try FileOps.unlink(dir["src/a/up"])
        try FileOps.createSymlink(dir["src/a/up"], target: "../empty-file")
        // Something on the disk side only, at the top, named like the marker: kept.
        try dir.write("dst/.flagged", "disk side")

        let report = try Self.mirror(dir, .update(tempDirectory: dir["tmp"]))
        try Self.expectSame(dir)
        #expect(report.deleted == 1, "gone-dir is the only extra entry")
        #expect(try FileOps.listDirectory(dir["tmp"]).isEmpty, "temp files left behind")
        #expect(try Self.manifest(dir["snap"]) == snapshotBefore, "the snapshot changed through a shared inode")
        #expect(try Self.readAll(dir["dst/.flagged"]) == "disk side")
        #expect(try FileOps.status(dir["dst/spaces and ünïcode"]).linkCount == 1)

        // A second update with nothing changed writes nothing.
        let again = try Self.mirror(dir, .update(tempDirectory: dir["tmp"]))
        #expect(again.files == 0 && again.deleted == 0)
    }

    @Test func updateWithoutTempDirectoryRenamesBesideTheFile() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeFilledCopy(dir)
        try dir.write("src/a/hello.txt", "changed, longer content")
        _ = try Self.mirror(dir, TreeMirror.Mode.update(tempDirectory: FilePath?.none))
        try Self.expectSame(dir)
        #expect(try FileOps.listDirectory(dir["dst/a"]).allSatisfy { !$0.hasPrefix(".asd-tmp") })
    }

    /// Overlay mode: only names present in the upper layer are compared, and only
    /// directories present there entered; deletions in visited directories are found.
    @Test func changedOnlyInLimitsTheWorkToTheUpperLayer() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeFilledCopy(dir)
        // Changed in "merged" and listed in the upper layer: copied.
        try dir.write("src/a/hello.txt", "changed via the overlay")
        // Changed in "merged" but absent from upper (cannot happen in a real overlay):
        // proves that unlisted names are not even looked at.
        try dir.write("src/a/b/secret", "not in upper")
        // Deleted from a directory the upper layer has: deleted on disk.
        try FileOps.unlink(dir["src/-leading-dash"])
        try dir.mkdir("upper")
        try dir.mkdir("upper/a")
        try dir.write("upper/a/hello.txt", "")
        var mirror = TreeMirror(source: dir["src"], destination: dir["dst"], mode: .update(tempDirectory: dir["tmp"]),
                                excludedTopNames: [TargetPaths.flagName], log: NullLog())
        mirror.changedOnlyIn = FilePath(dir["upper"])
        let report = try mirror.run()
        #expect(try Self.readAll(dir["dst/a/hello.txt"]) == "changed via the overlay")
        #expect(try Self.readAll(dir["dst/a/b/secret"]) == "secret")
        #expect(!FileOps.exists(dir["dst/-leading-dash"]))
        #expect(report.files == 1 && report.deleted == 1)
    }

    @Test func missingSourceIsAnErrorNamingIt() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("dst")
        #expect {
            try TreeMirror(source: dir["nope"], destination: dir["dst"], mode: .fill,
                           excludedTopNames: [], log: NullLog()).run()
        } throws: { error in
            (error as? CopyError).map { ASDError($0).message.contains(dir["nope"]) } == true
        }
    }
}

@Suite("WorkStack")
struct WorkStackTests {
    /// Jobs that add jobs: a complete binary tree of depth 10 is visited once per node.
    @Test(arguments: [1, 2, 4])
    func everyJobRunsOnce(workers: Int) throws {
        let seen = Mutex<[Int: Int]>([:])
        let queue = WorkStack<Int, ASDError>()
        try queue.run([1], workers: workers) { node throws(ASDError) in
            seen.withLock { $0[node, default: 0] += 1 }
            if node < 1024 { queue.push([2 * node, 2 * node + 1]) }
        }
        let counts = seen.withLock { $0 }
        #expect(counts.count == 2047)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    @Test func firstFailureStopsAndIsThrown() {
        let ran = Atomic<Int>(0)
        let queue = WorkStack<Int, ASDError>()
        #expect(throws: ASDError.self) {
            try queue.run(Array(0..<1000), workers: 2) { job throws(ASDError) in
                ran.add(1, ordering: .relaxed)
                if job == 990 { throw .unexpectedState(path: "/job/\(job)", detail: "injected") }
            }
        }
        #expect(ran.load(ordering: .relaxed) < 1000, "jobs kept running after the failure")
    }

    @Test func concurrentlyWaitsForBothAndThrowsTheFirst() {
        let finished = Atomic<Int>(0)
        #expect {
            try Concurrently.run { () throws(ASDError) in
                throw .unexpectedState(path: "/first", detail: "x")
            } and: { () throws(ASDError) in
                var spin = 0
                for i in 0..<2_000_000 { spin &+= i }
                if spin != 0 { finished.add(1, ordering: .relaxed) }
            }
        } throws: { error in
            (error as? ASDError)?.message.contains("/first") == true
        }
        #expect(finished.load(ordering: .relaxed) == 1)
    }
}
