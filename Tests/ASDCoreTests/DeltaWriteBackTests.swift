import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// The pieces of the delta write-back (doc/DESIGN.md §6.3): the block comparison, the
/// redo journal's format and checksums, its replay, and the copier writing
/// only changed bytes in place (ext4 here: /tmp has no reflinks).
@Suite("DeltaWriteBack")
struct DeltaWriteBackTests {
    // MARK: CRC-32C

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // Continuing gives the checksum of the concatenation, at every split point.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            #expect(CRC32C.checksum(bytes[split...], continuing: CRC32C.checksum(bytes[..<split])) == whole)
        }
    }

    // MARK: Block diff

    static func data(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
    }

    @Test func identicalFilesHaveNoRanges() {
        #expect(BlockDiff.ranges(new: Self.data(10_000), old: Self.data(10_000)).isEmpty)
        #expect(BlockDiff.ranges(new: [], old: []).isEmpty)
    }

    @Test func aChangedByteGivesTheDifferingBytesOfItsBlock() {
        var new = Self.data(3 * 4096)
        new[5000] ^= 0xff
        new[5001] ^= 0xff
        #expect(BlockDiff.ranges(new: new, old: Self.data(3 * 4096)) == [ByteRange(offset: 5000, length: 2)])
        // Two changes in one block: one range from the first to the last.
        new[6000] ^= 1
        #expect(BlockDiff.ranges(new: new, old: Self.data(3 * 4096)) == [ByteRange(offset: 5000, length: 1001)])
    }

    @Test func changesInSeparateBlocksStaySeparateAndTouchingOnesMerge() {
        let old = Self.data(5 * 4096)
        var new = old
        new[10] ^= 1
        new[4 * 4096 + 3] ^= 1
        #expect(BlockDiff.ranges(new: new, old: old) == [ByteRange(offset: 10, length: 1), ByteRange(offset: 4 * 4096 + 3, length: 1)])
        var across = old
        across[4095] ^= 1
        across[4096] ^= 1
        #expect(BlockDiff.ranges(new: across, old: old) == [ByteRange(offset: 4095, length: 2)])
    }

    @Test func anAppendIsOnlyItsTailAndAShorterFileNoRange() {
        let old = Self.data(10_000)
        let appended = old + Array("one more line\n".utf8)
        #expect(BlockDiff.ranges(new: appended, old: old) == [ByteRange(offset: 10_000, length: 14)])
        #expect(BlockDiff.ranges(new: Array(old[..<6000]), old: old).isEmpty)
        #expect(BlockDiff.ranges(new: old, old: []) == [ByteRange(offset: 0, length: 10_000)])
    }

    @Test func filesAreComparedLikeBuffersAndTheLimitGivesUp() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        var old = Self.data(3 << 20)  // three 1 MiB chunks
        var new = old
        new[1 << 20] ^= 1               // first byte of the second chunk
        new[(3 << 20) - 1] ^= 1
        new += Array("tail".utf8)
        try Self.write(dir["old"], old)
        try Self.write(dir["new"], new)
        let root = try DirectoryHandle(path: dir.path)
        let a = try root.openFile("new"), b = try root.openFile("old")
        let ranges = try BlockDiff.ranges(new: a, newSize: Int64(new.count), old: b, oldSize: Int64(old.count))
        #expect(ranges == BlockDiff.ranges(new: new, old: old))
        #expect(ranges == [ByteRange(offset: 1 << 20, length: 1), ByteRange(offset: (3 << 20) - 1, length: 5)])
        #expect(try BlockDiff.ranges(new: a, newSize: Int64(new.count), old: b, oldSize: Int64(old.count), limit: 6) != nil)
        #expect(try BlockDiff.ranges(new: a, newSize: Int64(new.count), old: b, oldSize: Int64(old.count), limit: 5) == nil)
        old.removeAll()
    }

    static func write(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    static func read(_ path: String) throws -> [UInt8] {
        let file = try DirectoryHandle(path: "/").openFile(FilePath(String(path.dropFirst())))
        return try file.read(at: 0, count: Int(try file.status().size))
    }

    // MARK: Journal format

    static let sample = RedoJournal(rootInode: 42, records: [
        RedoJournal.Record(
            directory: "", name: "top", inode: 7, size: 12,
            accessTime: FileTime(seconds: 1, nanoseconds: 2), modificationTime: FileTime(seconds: 3, nanoseconds: 4),
            writes: [RedoJournal.Write(offset: 0, bytes: Array("hello".utf8))]),
        RedoJournal.Record(
            directory: FilePath(bytes: Array("sub/caf".utf8) + [0xe9]), name: "x", inode: 1 << 40, size: 0,
            accessTime: FileTime(seconds: -5, nanoseconds: 999_999_999), modificationTime: FileTime(seconds: 1 << 33, nanoseconds: 0),
            writes: []),
    ])

    @Test func aJournalDecodesToWhatWasEncoded() throws {
        #expect(try RedoJournal.decode(Self.sample.encoded()) == Self.sample)
        let empty = RedoJournal(rootInode: 1, records: [])
        #expect(try RedoJournal.decode(empty.encoded()) == empty)
    }

    @Test func everyTornOrDamagedJournalIsRejected() {
        let bytes = Self.sample.encoded()
        // Torn: cut anywhere (a crash while it was written).
        for length in 0..<bytes.count {
            #expect(throws: RedoJournal.Torn.self) { try RedoJournal.decode(Array(bytes[..<length])) }
        }
        // Damaged: any single byte flipped (header, records, commit marker).
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(throws: RedoJournal.Torn.self) { try RedoJournal.decode(damaged) }
        }
        // Garbage after the commit marker.
        #expect(throws: RedoJournal.Torn.self) { try RedoJournal.decode(bytes + [0]) }
    }

    // MARK: Replay

    /// dir/root/sub/f (old content) and a journal in dir/tmp turning it into `new`.
    static func journalFixture(_ dir: RecoveryScratch, old: [UInt8], new: [UInt8]) throws -> RedoJournal {
        try dir.mkdir("root")
        try dir.mkdir("root/sub")
        try dir.mkdir("tmp", mode: 0o700)
        try write(dir["root/sub/f"], old)
        let writes = BlockDiff.ranges(new: new, old: old).map {
            RedoJournal.Write(offset: $0.offset, bytes: Array(new[Int($0.offset)..<Int($0.end)]))
        }
        let journal = RedoJournal(rootInode: try FileOps.status(dir["root"]).inode, records: [
            RedoJournal.Record(
                directory: "sub", name: "f", inode: try FileOps.status(dir["root/sub/f"]).inode, size: Int64(new.count),
                accessTime: FileTime(seconds: 100, nanoseconds: 1), modificationTime: FileTime(seconds: 200, nanoseconds: 2),
                writes: writes),
        ])
        try write(dir["tmp/asd-1-1.redo"], journal.encoded())
        return journal
    }

    static func replay(_ dir: RecoveryScratch) throws -> RedoReplay.Outcome {
        try RedoReplay.replayAll(in: DirectoryHandle(path: dir["tmp"]), root: DirectoryHandle(path: dir["root"]))
    }

    @Test(arguments: [(5000, 9000), (9000, 5000), (8192, 8192)])
    func aCompleteJournalIsReplayedAndReplayingAgainChangesNothing(oldSize: Int, newSize: Int) throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let old = Self.data(oldSize, seed: 1)
        var new = Self.data(newSize, seed: 1)
        new[100] = 0xAA
        let journal = try Self.journalFixture(dir, old: old, new: new)
        #expect(try Self.replay(dir) == RedoReplay.Outcome(replayed: 1, files: 1))
        #expect(try Self.read(dir["root/sub/f"]) == new)
        #expect(try FileOps.status(dir["root/sub/f"]).modificationTime == FileTime(seconds: 200, nanoseconds: 2))
        #expect(try FileOps.listDirectory(dir["tmp"]).isEmpty, "the journal is removed after its replay")
        // Killed after applying it, before removing it: the next start applies it again.
        try Self.write(dir["tmp/asd-1-1.redo"], journal.encoded())
        #expect(try Self.replay(dir).replayed == 1)
        #expect(try Self.read(dir["root/sub/f"]) == new)
    }

    @Test func aTornJournalIsDiscardedAndTheFileStaysOld() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let old = Self.data(9000)
        var new = old
        new[10] = 0
        let journal = try Self.journalFixture(dir, old: old, new: new)
        let bytes = journal.encoded()
        try Self.write(dir["tmp/asd-1-1.redo"], Array(bytes[..<(bytes.count - 3)]))
        let outcome = try Self.replay(dir)
        #expect(outcome.discarded == ["asd-1-1.redo"] && outcome.replayed == 0)
        #expect(try Self.read(dir["root/sub/f"]) == old)
        #expect(try FileOps.listDirectory(dir["tmp"]).isEmpty)
    }

    @Test func aReplacedFileOrAnotherRootIsLeftAlone() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let journal = try Self.journalFixture(dir, old: Self.data(100), new: Self.data(200))
        // The file was replaced (another inode) since the journal was written.
        try FileOps.rename(dir["root/sub/f"], to: dir["root/sub/old"])
        try Self.write(dir["root/sub/f"], Array("other".utf8))
        #expect(try Self.replay(dir).skipped == 1)
        #expect(try Self.read(dir["root/sub/f"]) == Array("other".utf8))
        // A journal of another directory is never applied.
        var foreign = journal
        foreign.rootInode += 1
        try Self.write(dir["tmp/asd-1-2.redo"], foreign.encoded())
        #expect(try Self.replay(dir).foreign == ["asd-1-2.redo"])
    }

    // MARK: The copier

    /// src/ and its copy dst/ (`.fill`), and the temp dir tmp/.
    static func copies(_ dir: RecoveryScratch, _ files: [String: [UInt8]]) throws {
        try dir.mkdir("src")
        try dir.mkdir("dst")
        try dir.mkdir("tmp", mode: 0o700)
        for (name, bytes) in files { try write(dir["src/" + name], bytes) }
        _ = try TreeMirrorTests.mirror(dir, .fill)
    }

    @Test func singleLinkFilesChangeInPlaceByTheirChangedBytesOnly() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let rrd = Self.data(1_100_000), log = Array(repeating: UInt8(ascii: "l"), count: 100_000)
        try Self.copies(dir, ["db.rrd": rrd, "app.log": log, "short": Self.data(50_000), "touched": Self.data(10)])
        let inodes = try ["db.rrd", "app.log", "short", "touched"].map { try FileOps.status(dir["dst/" + $0]).inode }

        var newRRD = rrd
        newRRD[1_034_567] ^= 0xff
        newRRD[1_034_568] ^= 0xff
        try Self.write(dir["src/db.rrd"], newRRD)
        let fd = open(dir["src/app.log"], O_WRONLY | O_APPEND)
        #expect(Glibc.write(fd, "a new line of the log\n", 22) == 22)
        close(fd)
        try Self.write(dir["src/short"], Self.data(20_000))
        try TreeMirrorTests.setMtime(dir["src/touched"], seconds: 1_700_000_000, nanoseconds: 5)

        let report = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"]))
        try TreeMirrorTests.expectSame(dir)
        #expect(report.bytes == 2 + 22, "only the changed bytes are written")
        #expect(try ["db.rrd", "app.log", "short", "touched"].map { try FileOps.status(dir["dst/" + $0]).inode } == inodes)
        // A small batch retires its journal once the files' data is durable.
        #expect(try FileOps.listDirectory(dir["tmp"]).isEmpty)
    }

    @Test func aBatchOfManyFilesKeepsItsJournalUntilTheFinalFlush() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        var files: [String: [UInt8]] = [:]
        for i in 0...DeltaWriteBack.syncEachFiles { files["f\(i)"] = Self.data(20_000, seed: UInt8(i % 200 + 1)) }
        try Self.copies(dir, files)
        for (name, bytes) in files {
            var changed = bytes
            changed[7_000] ^= 0xff
            try Self.write(dir["src/" + name], changed)
        }
        let report = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"]))
        try TreeMirrorTests.expectSame(dir)
        #expect(report.bytes == Int64(files.count), "in place")
        #expect(try FileOps.listDirectory(dir["tmp"]).filter { $0.hasSuffix(RedoReplay.suffix) }.count == 1)
    }

    @Test func filesSharedWithTheSnapshotAreNeverChangedInPlace() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let rrd = Self.data(100_000)
        try Self.copies(dir, ["db.rrd": rrd])
        try FileOps.makeDirectory(dir["snap"], mode: 0o755)
        try FileOps.hardLink(dir["dst/db.rrd"], dir["snap/db.rrd"])
        var changed = rrd
        changed[5] ^= 1
        try Self.write(dir["src/db.rrd"], changed)
        _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"]))
        try TreeMirrorTests.expectSame(dir)
        #expect(try Self.read(dir["snap/db.rrd"]) == rrd)
        #expect(try FileOps.status(dir["dst/db.rrd"]).linkCount == 1)
    }
}
