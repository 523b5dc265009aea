import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// A temp directory under /tmp for one test, removed by `cleanup()`.
/// (Named for this helper's suites to avoid clashing with other test files.)
struct RecoveryScratch {
    let path: String

    init() throws {
        var template = Array("/tmp/asd-recovery-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        self.path = try #require(made.map { String(cString: $0) })
    }

    func cleanup() { try? FileOps.removeTree(path) }

    subscript(_ relative: String) -> String { path + "/" + relative }

    /// Writes `text` to a new file (mode 0644).
    func write(_ relative: String, _ text: String, mode: mode_t = 0o644) throws {
        let fd = open(self[relative], O_WRONLY | O_CREAT | O_TRUNC, mode)
        try #require(fd >= 0, "open \(relative): \(Errno.current)")
        defer { close(fd) }
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
        fchmod(fd, mode)
    }

    func read(_ relative: String) -> String? {
        let fd = open(self[relative], O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            out += buffer[..<got]
        }
        return String(decoding: out, as: UTF8.self)
    }

    func mkdir(_ relative: String, mode: UInt32 = 0o755) throws {
        try FileOps.makeDirectory(self[relative], mode: mode)
    }
}

@Suite("FileOps")
struct FileOpsTests {
    @Test func statusReportsTypesAndModes() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.write("file", "hello", mode: 0o4751)
        try dir.mkdir("sub", mode: 0o1777)
        try FileOps.createSymlink(dir["link"], target: "missing-target")
        try FileOps.makeNode(dir["fifo"], type: .fifo, permissions: 0o640)

        let file = try FileOps.status(dir["file"])
        #expect(file.type == .regular)
        #expect(file.permissions == 0o4751)
        #expect(file.size == 5)
        #expect(file.linkCount == 1)
        #expect(file.uid == getuid())
        let sub = try FileOps.status(dir["sub"])
        #expect(sub.type == .directory)
        #expect(sub.permissions == 0o1777)
        #expect(try FileOps.status(dir["link"]).type == .symlink)
        #expect(try FileOps.readSymlink(dir["link"]) == "missing-target")
        let fifo = try FileOps.status(dir["fifo"])
        #expect(fifo.type == .fifo)
        #expect(fifo.permissions == 0o640)
        #expect(throws: Errno.noEntry) { try FileOps.status(dir["nope"]) }
        #expect(try FileOps.statusIfExists(dir["nope"]) == nil)
        #expect(try FileOps.statusIfExists(dir["file/below"]) == nil)
    }

    @Test func listDirectoryOmitsDotEntries() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        for name in ["a", " spaced name", "-dash", "ünï"] { try dir.write(name, "") }
        #expect(try FileOps.listDirectory(dir.path).sorted() == [" spaced name", "-dash", "a", "ünï"])
    }

    @Test func makeDirectoriesCreatesParentsAndIgnoresUmask() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try FileOps.makeDirectories(dir["a/b/c"], mode: 0o777)
        #expect(try FileOps.status(dir["a/b/c"]).permissions == 0o777)
        #expect(try FileOps.status(dir["a/b"]).permissions == 0o755)
        try FileOps.makeDirectories(dir["a/b/c"])  // existing: no error, unchanged
        #expect(try FileOps.status(dir["a/b/c"]).permissions == 0o777)
        try dir.write("plain", "")
        #expect(throws: Errno.notDirectory) { try FileOps.makeDirectories(dir["plain"]) }
        #expect(throws: Errno.exists) { try FileOps.makeDirectory(dir["a"], mode: 0o700) }
    }

    @Test func hardLinkRenameUnlink() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.write("one", "x")
        try FileOps.hardLink(dir["one"], dir["two"])
        #expect(try FileOps.status(dir["one"]).inode == FileOps.status(dir["two"]).inode)
        #expect(try FileOps.status(dir["one"]).linkCount == 2)
        try FileOps.rename(dir["two"], to: dir["three"])
        #expect(try FileOps.statusIfExists(dir["two"]) == nil)
        try FileOps.unlink(dir["three"])
        #expect(try FileOps.status(dir["one"]).linkCount == 1)
        #expect(throws: Errno.noEntry) { try FileOps.unlink(dir["three"]) }
    }

    @Test func timesKeepNanosecondsOnSymlinksToo() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.write("file", "")
        try FileOps.createSymlink(dir["link"], target: "file")
        let access = FileTime(seconds: 1_600_000_000, nanoseconds: 123_456_789)
        let modification = FileTime(seconds: 1_500_000_000, nanoseconds: 987_654_321)
        try FileOps.setTimes(dir["link"], access: access, modification: modification)
        let link = try FileOps.status(dir["link"])
        #expect(link.modificationTime == modification)
        #expect(link.accessTime == access)
        #expect(try FileOps.status(dir["file"]).modificationTime != modification)
    }

    @Test func ownerAndModeChanges() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.write("file", "")
        try FileOps.changeMode(dir["file"], 0o2640)
        #expect(try FileOps.status(dir["file"]).permissions == 0o2640)
        try FileOps.changeOwner(dir["file"], uid: nil, gid: nil)
        #expect(try FileOps.status(dir["file"]).uid == geteuid())
        try TestPrivilege.require(geteuid() == 0 || !TestPrivilege.required, "root")
        if geteuid() == 0 {
            try FileOps.changeOwner(dir["file"], uid: 4242, gid: 4343)
            let status = try FileOps.status(dir["file"])
            #expect(status.uid == 4242 && status.gid == 4343)
            #expect(FileOps.userName(uid: 4242) == "4242")
        }
        #expect(FileOps.userName(uid: 0) == "root")
        #expect(FileOps.groupName(gid: 0) == "root")
        #expect(FileOps.groupName(gid: 4_000_000_001) == "4000000001")
    }

    @Test func xattrsRoundTripAndCopy() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.write("a", "")
        try dir.write("b", "")
        let binary: [UInt8] = [0, 1, 2, 255, 0]
        try FileOps.setXattr(dir["a"], name: "user.text", value: Array("value".utf8))
        try FileOps.setXattr(dir["a"], name: "user.binary", value: binary)
        try FileOps.setXattr(dir["a"], name: "user.empty", value: [])
        #expect(Set(try FileOps.listXattrs(dir["a"])).isSuperset(of: ["user.text", "user.binary", "user.empty"]))
        #expect(try FileOps.getXattr(dir["a"], name: "user.binary") == binary)
        #expect(try FileOps.getXattr(dir["a"], name: "user.empty") == [])
        #expect(throws: Errno.noData) { try FileOps.getXattr(dir["a"], name: "user.none") }
        try FileOps.copyXattrs(from: dir["a"], to: dir["b"])
        #expect(try FileOps.xattrs(dir["b"]) == FileOps.xattrs(dir["a"]))
        try FileOps.removeXattr(dir["b"], name: "user.text")
        #expect(try FileOps.xattrs(dir["b"])["user.text"] == nil)
    }

    @Test func copyFileKeepsContentOwnerModeXattrsAndTimes() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let content = String(repeating: "0123456789abcdef", count: 100_000)  // 1.6 MB
        try dir.write("src", content, mode: 0o4755)
        try FileOps.setXattr(dir["src"], name: "user.k", value: [7, 8])
        let mtime = FileTime(seconds: 1_234_567_890, nanoseconds: 5)
        try FileOps.setTimes(dir["src"], access: mtime, modification: mtime)
        try FileOps.copyFile(from: dir["src"], to: dir["dst"])
        let src = try FileOps.status(dir["src"])
        let dst = try FileOps.status(dir["dst"])
        #expect(dir.read("dst") == content)
        #expect(dst.inode != src.inode)
        #expect(dst.permissions == 0o4755)
        #expect((dst.uid, dst.gid) == (src.uid, src.gid))
        #expect(dst.modificationTime == mtime)
        #expect(try FileOps.getXattr(dir["dst"], name: "user.k") == [7, 8])
        #expect(throws: Errno.exists) { try FileOps.copyFile(from: dir["src"], to: dir["dst"]) }
        #expect(throws: Errno.noEntry) { try FileOps.copyFile(from: dir["none"], to: dir["x"]) }
        #expect(try FileOps.statusIfExists(dir["x"]) == nil)
        try FileOps.fsyncFile(dir["dst"])
        try FileOps.fsyncDirectory(FilePath(dir.path))
    }

    @Test func sizesAndHardLinkCheck() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("d")
        try dir.write("d/a", String(repeating: "a", count: 1000))
        try dir.write("b", String(repeating: "b", count: 24))
        try FileOps.createSymlink(dir["l"], target: "b")
        #expect(try FileOps.firstHardLinkedFile(in: dir.path) == nil)
        #expect(try FileOps.directorySize(dir.path) == 1024)
        try FileOps.hardLink(dir["d/a"], dir["d/a2"])
        #expect(try FileOps.directorySize(dir.path) == 1024)  // one inode counted once
        let found = try #require(try FileOps.firstHardLinkedFile(in: dir.path))
        #expect(found.count == 2)
        #expect(found.example == dir["d/a"] || found.example == dir["d/a2"])
        #expect(try FileOps.diskUsage(dir.path) >= 2 * 4096)
    }

    @Test func walkerVisitsEverythingOnceWithoutFollowingLinks() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("x")
        try dir.mkdir("x/y")
        try dir.write("x/y/z", "")
        try FileOps.createSymlink(dir["up"], target: "..")
        var seen: [String: FileType] = [:]
        try FileTreeWalker(root: dir.path).walk { entry in
            #expect(seen[entry.relativePath.text] == nil)
            #expect(!entry.isMountPoint)
            seen[entry.relativePath.text] = entry.status.type
        }
        #expect(seen == ["x": .directory, "x/y": .directory, "x/y/z": .regular, "up": .symlink])
    }

    @Test func removeTreeDeletesEverythingIncludingReadOnlyDirs() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("t")
        try dir.mkdir("t/ro")
        try dir.write("t/ro/f", "")
        try FileOps.changeMode(dir["t/ro"], 0o500)
        try dir.write("outside", "keep")
        try FileOps.createSymlink(dir["t/link"], target: dir["outside"])
        try FileOps.createSymlink(dir["t/dirlink"], target: dir.path)
        try FileOps.removeTree(dir["t"])
        #expect(try FileOps.statusIfExists(dir["t"]) == nil)
        #expect(dir.read("outside") == "keep")
        try FileOps.removeTree(dir["t"])  // missing: fine
        try FileOps.createSymlink(dir["toplink"], target: dir.path)
        try FileOps.removeTree(dir["toplink"])  // only the link goes
        #expect(dir.read("outside") == "keep")
    }
}

/// removeTree must never delete through a mount inside the tree. Mounting
/// needs root and a private mount namespace, and a multi-threaded test
/// process cannot unshare itself, so the outer test re-runs this test
/// binary under `unshare -m --propagation private` with only the inner test
/// selected; the inner test is enabled only there.
@Suite("FileOps mounts")
struct FileOpsMountTests {
    static let namespace = NamespaceRerun(flag: "ASD_RECOVERY_IN_NAMESPACE")
    static let inside = namespace.isInside
    static let outerEnabled = namespace.outerEnabled

    @Test(.enabled(if: outerEnabled, "needs root and unshare(1)"))
    func removeTreeNeverCrossesMounts() throws {
        try Self.namespace.runInside(suite: "FileOpsMountTests")
    }

    @Test(.enabled(if: inside, "runs only inside the private mount namespace"))
    func insideNamespace() throws {
        let dir = try RecoveryScratch()
        defer {
            _ = try? Subprocess.run(["umount", "-R", dir["tree/sub/bound"]])
            _ = try? Subprocess.run(["umount", dir["tree/tmpfs"]])
            dir.cleanup()
        }
        try dir.mkdir("keep")
        try dir.write("keep/precious", "p")
        try FileOps.makeDirectories(dir["tree/sub/bound"])
        try FileOps.makeDirectories(dir["tree/tmpfs"])
        try dir.write("tree/sub/plain", "")
        try dir.write("tree/top", "")
        try Subprocess.checked(["mount", "--bind", dir["keep"], dir["tree/sub/bound"]])
        try Subprocess.checked(["mount", "-t", "tmpfs", "none", dir["tree/tmpfs"]])
        try dir.write("tree/tmpfs/inside", "t")
        #expect(try FileOps.isMountRoot(dir["tree/sub/bound"]))
        #expect(try !FileOps.isMountRoot(dir["tree/sub"]))

        #expect(throws: Errno.busy) { try FileOps.removeTree(dir["tree/sub/bound"]) }
        #expect(throws: Errno.busy) { try FileOps.removeTree(dir["tree"]) }
        #expect(dir.read("keep/precious") == "p")
        #expect(dir.read("tree/sub/bound/precious") == "p")
        #expect(dir.read("tree/tmpfs/inside") == "t")
        #expect(try FileOps.statusIfExists(dir["tree/sub/plain"]) == nil)
        #expect(try FileOps.statusIfExists(dir["tree/top"]) == nil)

        var visited: [String: Bool] = [:]
        try FileTreeWalker(root: dir["tree"]).walk { visited[$0.relativePath.text] = $0.isMountPoint }
        #expect(visited == ["sub": false, "sub/bound": true, "tmpfs": true])
        #expect(try FileOps.directorySize(dir["tree"]) == 0)
        // Snapshot: mount points become empty directories.
        try Snapshot.create(of: dir["tree"], at: dir["snap"])
        #expect(try FileOps.listDirectory(dir["snap/sub/bound"]).isEmpty)
        #expect(try FileOps.listDirectory(dir["snap/tmpfs"]).isEmpty)
    }
}
