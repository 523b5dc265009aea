import Glibc
import Synchronization
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// What a write-back that changes no file's content must not write (doc/DESIGN.md §6.2): the temp
/// directory is made only when a file is first written through it, and directories whose
/// only difference is their size (each file system counts its own) are left alone.
@Suite("LazyTempDirectory")
struct LazyTempDirectoryTests {
    /// An `.update` whose temp directory `tmp` is made by the prepare hook; returns the
    /// report and how many times the hook ran.
    static func update(_ dir: RecoveryScratch) throws -> (TreeMirror.Report, Int) {
        let made = Atomic<Int>(0)
        let temp = FilePath(dir["tmp"])
        var mirror = TreeMirror(source: dir["src"], destination: dir["dst"], mode: .update(tempDirectory: temp),
                                excludedTopNames: [TargetPaths.flagName], log: NullLog())
        mirror.prepareTempDirectory = { () throws(CopyError) in
            made.add(1, ordering: .relaxed)
            try CopyError.attempt("create", temp) { () throws(Errno) in try FileOps.makeDirectory(temp, mode: 0o700) }
        }
        let report = try mirror.run()
        return (report, made.load(ordering: .relaxed))
    }

    @Test func madeOnlyWhenAFileIsWritten() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try TreeMirrorTests.makeFilledCopy(dir)
        try FileOps.removeTree(dir["tmp"])

        let (unchanged, madeUnchanged) = try Self.update(dir)
        #expect(unchanged.files == 0 && madeUnchanged == 0 && !FileOps.exists(dir["tmp"]))

        // Metadata only (a mode) and a deletion: fixed in place, still no temp directory.
        try FileOps.changeMode(FilePath(dir["src/a/hello.txt"]), 0o600)
        try FileOps.unlink(dir["src/-leading-dash"])
        let (metadata, madeMetadata) = try Self.update(dir)
        #expect(metadata.deleted == 1 && madeMetadata == 0 && !FileOps.exists(dir["tmp"]))
        try TreeMirrorTests.expectSame(dir)

        // Content: made once, however many files (and workers) need it.
        try dir.write("src/a/hello.txt", "changed content", mode: 0o600)
        for index in 0..<20 { try dir.write("src/new-\(index)", String(repeating: "x", count: index)) }
        let (changed, madeChanged) = try Self.update(dir)
        #expect(changed.files == 21 && madeChanged == 1)
        // (A redo journal may be left: the staging mount's close removes it with the directory.)
        #expect(try FileOps.listDirectory(dir["tmp"]).allSatisfy { !$0.hasPrefix(".asd-tmp") }, "temp files left behind")
        try TreeMirrorTests.expectSame(dir)
    }

    /// Directories that differ from their source in size only: `a`, which grew and shrank
    /// on the destination (ext4 and others never give the space back), and the root, which
    /// holds the excluded marker on the destination's side only (tmpfs counts entries). An
    /// unchanged update leaves them alone (their ctime stays), where it used to set their
    /// times again on every write-back.
    @Test func directoriesDifferingOnlyInSizeAreLeftAlone() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try TreeMirrorTests.makeFilledCopy(dir)
        let long = String(repeating: "n", count: 200)
        for index in 0..<100 { try dir.write("dst/a/\(long)\(index)", "") }
        for index in 0..<100 { try FileOps.unlink(dir["dst/a/\(long)\(index)"]) }
        try FileOps.unlink(dir["src/.flagged"])
        try dir.write("dst/.flagged", "disk side")
        _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: FilePath(dir["tmp"])))
        let names = ["", "/a"]
        let before = try names.map { try FileOps.status(dir["dst" + $0]) }
        let sources = try names.map { try FileOps.status(dir["src" + $0]) }
        try #require(zip(before, sources).contains { $0.size != $1.size }, "no directory differs in size: nothing tested")
        usleep(20_000)
        _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: FilePath(dir["tmp"])))
        for (index, name) in names.enumerated() {
            let after = try FileOps.status(dir["dst" + name])
            #expect(after.changeTime == before[index].changeTime, "dst\(name): the directory's inode was written again")
            #expect(after.modificationTime == sources[index].modificationTime, "dst\(name)")
        }
    }

    @Test(arguments: [
        (FileSystemInfo.btrfsMagic, "6.1.0-18-amd64", true),
        (FileSystemInfo.btrfsMagic, "6.18.44-fc", true),
        (FileSystemInfo.btrfsMagic, "6.0.12", false),
        (FileSystemInfo.btrfsMagic, "5.15.0-91-generic", false),
        (FileSystemInfo.btrfsMagic, "garbage", false),
        (FileSystemInfo.xfsMagic, "4.19.0", true),
        (UInt32(0xEF53), "6.18.0", false),
        (UInt32(0xCA45_1A4E), "6.18.0", false),
    ])
    func fiemapOrdersCloneData(magic: UInt32, release: String, expected: Bool) {
        #expect(FileSystemInfo.mapsDataOnFiemapSync(magic: magic, kernelRelease: release) == expected)
    }
}
