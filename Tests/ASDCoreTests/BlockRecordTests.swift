import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// Block records (doc/DESIGN.md §6.6): the checksum, the record
/// file's format and corruption handling, stale detection by each field of
/// the identity, and the comparison against a record (`DeltaScan`), which
/// must find every change, also at block boundaries.
@Suite("BlockRecords")
struct BlockRecordTests {
    static let hasher = BlockHasher(seed: (1, 2))

    static func data(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    // MARK: Checksum

    @Test func everyImplementationGivesTheSameHashes() {
        let bytes = Self.data(70_000)
        for length in [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 65_536 + 17] {
            let slice = Array(bytes[..<length])
            var seen = Set<BlockHash>()
            for variant: Int32 in [1, 2, 0] {
                BlockHasher.select(variant)
                seen.insert(Self.hasher.hash(slice))
            }
            #expect(seen.count == 1, "length \(length): the plain C, SSE2 and best variants differ")
        }
        BlockHasher.select(0)
    }

    @Test func everySingleBitFlipAndEveryLengthChangeGivesANewHash() {
        let block = Self.data(4096)
        var seen: Set<BlockHash> = [Self.hasher.hash(block)]
        for bit in 0..<(4096 * 8) {
            var flipped = block
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            seen.insert(Self.hasher.hash(flipped))
        }
        #expect(seen.count == 4096 * 8 + 1)
        // Zero padding is not confused with a shorter block: the length is hashed.
        let zeros = [UInt8](repeating: 0, count: 200)
        #expect(Set((0...200).map { Self.hasher.hash(Array(zeros[..<$0])) }).count == 201)
        #expect(BlockHasher(seed: (1, 3)).hash(block) != Self.hasher.hash(block), "the key changes every hash")
    }

    @Test func blockSizeKeepsARecordSmall() {
        #expect(BlockRecord.blockSize(forFileSize: 0) == 4096)
        #expect(BlockRecord.blockSize(forFileSize: 2_000_000) == 4096)
        #expect(BlockRecord.blockSize(forFileSize: 64 << 20) == 4096)
        #expect(BlockRecord.blockSize(forFileSize: (64 << 20) + 1) == 8192)
        #expect(BlockRecord.blockSize(forFileSize: 1 << 30) == 65_536)
        let gigabyte = BlockRecord(identity: Self.identity, blockSize: 65_536,
                                   hashes: Array(repeating: BlockHash(low: 1, high: 2), count: 16_384))
        let size = BlockRecordFile(seed: (1, 2), records: [gigabyte]).encoded().count
        #expect(size == 32 + 64 + 16_384 * 16 + 16, "a 1 GiB file's record is 256 KiB")
    }

    // MARK: Record file

    static let identity = BlockRecord.Identity(
        device: 2049, inode: 1234, size: 1 << 30, modificationTime: FileTime(seconds: 1_700_000_000, nanoseconds: 5),
        changeTime: FileTime(seconds: 1_700_000_001, nanoseconds: 999_999_999))

    static func sampleFile() -> BlockRecordFile {
        var small = identity
        small.inode = 99
        small.size = 20_000
        return BlockRecordFile(seed: (0xDEAD, 0xBEEF), records: [
            BlockRecord(identity: small, blockSize: 4096, hashes: (0..<5).map { BlockHash(low: UInt64($0), high: ~UInt64($0)) }),
            BlockRecord(identity: identity, blockSize: 65_536,
                        hashes: (0..<16_384).map { BlockHash(low: UInt64($0) &* 77, high: UInt64($0)) }),
        ])
    }

    @Test func aRecordFileDecodesToWhatWasEncoded() throws {
        let file = Self.sampleFile()
        let bytes = file.encoded()
        #expect(Array(bytes[0..<8]) == Array("ASDBLKR\0".utf8))
        #expect(try BlockRecordFile.decode(bytes) == file)
        #expect(try BlockRecordFile.decode(BlockRecordFile(seed: (1, 1), records: []).encoded()).records.isEmpty)
    }

    @Test func anyCorruptionIsRefusedWhole() {
        let bytes = Self.sampleFile().encoded()
        for position in [0, 9, 20, 33, 40, 95, 96, 500, bytes.count - 17, bytes.count - 1] {
            var corrupt = bytes
            corrupt[position] ^= 0x10
            #expect(throws: BlockRecordFile.Corrupt.self, "byte \(position)") { try BlockRecordFile.decode(corrupt) }
        }
        for length in [0, 10, 47, bytes.count / 2, bytes.count - 1] {
            #expect(throws: BlockRecordFile.Corrupt.self, "cut to \(length)") { try BlockRecordFile.decode(Array(bytes[..<length])) }
        }
        #expect(throws: BlockRecordFile.Corrupt.self) { try BlockRecordFile.decode(bytes + [0]) }
    }

    @Test func aCorruptStoreIsEmptyAndEveryFileIsReadWhole() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        var bytes = Self.sampleFile().encoded()
        bytes[bytes.count / 2] ^= 1
        try DeltaWriteBackTests.write(dir["records"], bytes)
        let store = BlockRecordStore(path: FilePath(dir["records"]))
        #expect(store.count == 0)
        #expect(store.hasher.seed != (0xDEAD, 0xBEEF), "a new random key")
        try DeltaWriteBackTests.write(dir["records"], Self.sampleFile().encoded())
        #expect(BlockRecordStore(path: FilePath(dir["records"])).count == 2)
    }

    // MARK: Identity

    @Test func aRecordIsUsedOnlyWhileEveryIdentityFieldIsUnchanged() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try DeltaWriteBackTests.write(dir["f"], Self.data(20_000))
        let status = try FileOps.status(dir["f"])
        let record = BlockRecord(identity: BlockRecord.Identity(status), blockSize: 4096,
                                 hashes: Array(repeating: BlockHash(low: 0, high: 0), count: 5))
        try DeltaWriteBackTests.write(dir["records"], BlockRecordFile(seed: (1, 2), records: [record]).encoded())
        let store = BlockRecordStore(path: FilePath(dir["records"]))
        #expect(store.record(for: status) == record)
        let changes: [(String, (inout FileStatus) -> Void)] = [
            ("device", { $0.device += 1 }), ("inode", { $0.inode += 1 }), ("size", { $0.size += 1 }),
            ("mtime", { $0.modificationTime.nanoseconds += 1 }), ("mtime s", { $0.modificationTime.seconds -= 1 }),
            ("ctime", { $0.changeTime.nanoseconds += 1 }), ("ctime s", { $0.changeTime.seconds += 1 }),
            ("type", { $0.type = .symlink }),
        ]
        for (field, change) in changes {
            var other = status
            change(&other)
            #expect(store.record(for: other) == nil, "a different \(field) makes the record stale")
        }
    }
}
