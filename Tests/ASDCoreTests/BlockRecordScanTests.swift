import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// The comparison against a record (`DeltaScan`) and the store's commit:
/// every change is found (each byte around every block boundary, appends,
/// truncations), only the blocks whose checksum differs are read from the
/// disk copy, and a file changed between asd's write and the commit gets no record.
@Suite("BlockRecordScan")
struct BlockRecordScanTests {
    static let size = 5 * 4096 + 100

    /// `old` on disk with its record, `new` beside it; the scan's writes applied to `old` must give `new`.
    static func check(old: [UInt8], new: [UInt8], in dir: RecoveryScratch, _ comment: Comment? = nil) throws -> DeltaScan {
        try DeltaWriteBackTests.write(dir["old"], old)
        try DeltaWriteBackTests.write(dir["new"], new)
        let handle = try DirectoryHandle(path: FilePath(dir.path))
        let oldFile = try handle.openFile("old"), newFile = try handle.openFile("new")
        var hashes: [BlockHash] = []
        old.withUnsafeBytes { BlockRecordTests.hasher.appendHashes(of: $0, blockSize: 4096, to: &hashes) }
        let record = BlockRecord(identity: BlockRecord.Identity(try oldFile.status()), blockSize: 4096, hashes: hashes)
        let scan = try #require(try DeltaScan.scan(
            new: newFile, newSize: Int64(new.count), old: oldFile, oldSize: Int64(old.count), record: record,
            hasher: BlockRecordTests.hasher, limit: .max))
        var result = old
        if new.count > result.count { result += [UInt8](repeating: 0, count: new.count - result.count) }
        for write in scan.writes {
            result.replaceSubrange(Int(write.offset)..<(Int(write.offset) + write.bytes.count), with: write.bytes)
        }
        result.removeLast(result.count - new.count)
        #expect(result == new, comment)
        var expected: [BlockHash] = []
        new.withUnsafeBytes { BlockRecordTests.hasher.appendHashes(of: $0, blockSize: 4096, to: &expected) }
        #expect(scan.hashes == expected, "the new record describes the new content")
        return scan
    }

    @Test func everyEditAroundEveryBlockBoundaryIsFound() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let old = BlockRecordTests.data(Self.size)
        var positions = Set([0, Self.size - 1])
        for boundary in stride(from: 4096, to: Self.size, by: 4096) { positions.formUnion((boundary - 3)...(boundary + 2)) }
        for position in positions.sorted() {
            for width in [1, 2] where position + width <= Self.size {
                var new = old
                for index in position..<(position + width) { new[index] ^= 0x5A }
                let scan = try Self.check(old: old, new: new, in: dir, "edit of \(width) at \(position)")
                #expect(scan.changedBytes == Int64(width), "edit of \(width) at \(position)")
                let blocks = Set((position..<(position + width)).map { $0 / 4096 })
                #expect(scan.diskBytesRead <= Int64(blocks.count * 4096), "only the changed blocks are read")
            }
        }
    }

    @Test func anUnchangedFileReadsNothingFromTheDiskCopy() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let old = BlockRecordTests.data(Self.size)
        let scan = try Self.check(old: old, new: old, in: dir)
        #expect(scan.writes.isEmpty && scan.diskBytesRead == 0)
    }

    @Test func appendsTruncationsAndEditsBesideThemAreFound() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let old = BlockRecordTests.data(Self.size)
        var grown = old + BlockRecordTests.data(9000, seed: 3)
        grown[Self.size - 1] ^= 1  // the old last (short) block changes too
        _ = try Self.check(old: old, new: grown, in: dir, "append")
        var shrunk = Array(old[..<(3 * 4096 + 10)])
        shrunk[3 * 4096 + 9] ^= 1
        _ = try Self.check(old: old, new: shrunk, in: dir, "truncation")
        _ = try Self.check(old: old, new: Array(old[..<(3 * 4096)]), in: dir, "truncation at a boundary")
        var swapped = old  // two blocks exchanged: each differs where it is
        swapped.replaceSubrange(0..<4096, with: old[4096..<8192])
        swapped.replaceSubrange(4096..<8192, with: old[0..<4096])
        _ = try Self.check(old: old, new: swapped, in: dir, "blocks swapped")
    }

    @Test func theStoreRecordsOnlyFilesUnchangedSinceAsdWroteThem() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try DeltaWriteBackTests.write(dir["kept"], BlockRecordTests.data(Self.size))
        try DeltaWriteBackTests.write(dir["changed"], BlockRecordTests.data(Self.size))
        try DeltaWriteBackTests.write(dir["small"], BlockRecordTests.data(1000))
        let handle = try DirectoryHandle(path: FilePath(dir.path))
        let store = BlockRecordStore(path: FilePath(dir["records"]))
        let hashes = Array(repeating: BlockHash(low: 1, high: 1), count: 6)
        for name in ["kept", "changed", "small"] {
            let status = try FileOps.status(dir[name])
            store.add(FilePath(name), in: handle, written: status,
                      blockSize: 4096, hashes: name == "small" ? [hashes[0]] : hashes, replacing: nil)
        }
        // Behind asd's back, after its last change and before the flush: same size, mtime put back.
        let before = try FileOps.status(dir["changed"])
        let fd = open(dir["changed"], O_WRONLY)
        #expect(pwrite(fd, "X", 1, 10) == 1)
        var times = [before.accessTime.timespec, before.modificationTime.timespec]
        #expect(futimens(fd, &times) == 0)
        close(fd)
        try store.commit()
        let loaded = BlockRecordStore(path: FilePath(dir["records"]))
        #expect(loaded.count == 1)
        #expect(loaded.record(for: try FileOps.status(dir["kept"]))?.hashes == hashes)
        #expect(loaded.record(for: try FileOps.status(dir["changed"])) == nil)
        #expect(try FileOps.status(dir["records"]).permissions == 0o600)
    }
}
