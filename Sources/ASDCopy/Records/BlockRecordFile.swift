import ASDSystem
/// The block records of one target, as a file (`BlockRecordStore` keeps it
/// under VOLATILE). Layout (integers little-endian):
///
///     header   "ASDBLKR\0"  version u32  record count u32  seed u64 u64
///     record*  device u64  inode u64  size i64  mtime s i64 ns i64
///              ctime s i64 ns i64  block size u32  block count u32
///              block count * (hash low u64, hash high u64)
///     check    the 128-bit `BlockHasher` hash (key `checkSeed`) of all before it
///
/// The seed is the key of every block checksum in the file; only root can read
/// it. A file that does not decode (torn, corrupt, another version) is ignored
/// whole: every file is then read from its disk copy once, as without records.
public struct BlockRecordFile: Equatable, Sendable {
    public enum Corrupt: Error, Equatable, Sendable {
        case tooShort, badMagic, unsupportedVersion(UInt32), badChecksum, badRecord
    }

    static let magic: [UInt8] = Array("ASDBLKR\0".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32
    static let recordHeaderSize = 64
    static let checkSeed: (UInt64, UInt64) = (0x6173_642D_626C_6B72, 0x7265_636F_7264_7331)

    public var seed0: UInt64
    public var seed1: UInt64
    public var records: [BlockRecord]

    public init(seed: (UInt64, UInt64), records: [BlockRecord]) {
        self.seed0 = seed.0
        self.seed1 = seed.1
        self.records = records
    }

    public var seed: (UInt64, UInt64) { (seed0, seed1) }

    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.headerSize + 16 + records.reduce(0) { $0 + Self.recordHeaderSize + 16 * $1.hashes.count })
        out.putLittleEndian(UInt64(Self.version) | UInt64(records.count) << 32)
        out.putLittleEndian(seed0)
        out.putLittleEndian(seed1)
        for record in records {
            let identity = record.identity
            for word in [identity.device, identity.inode, UInt64(bitPattern: identity.size),
                         UInt64(bitPattern: Int64(identity.modificationTime.seconds)),
                         UInt64(bitPattern: Int64(identity.modificationTime.nanoseconds)),
                         UInt64(bitPattern: Int64(identity.changeTime.seconds)),
                         UInt64(bitPattern: Int64(identity.changeTime.nanoseconds)),
                         UInt64(record.blockSize) | UInt64(record.hashes.count) << 32] {
                out.putLittleEndian(word)
            }
            for hash in record.hashes {
                out.putLittleEndian(hash.low)
                out.putLittleEndian(hash.high)
            }
        }
        let check = BlockHasher(seed: Self.checkSeed).hash(out)
        out.putLittleEndian(check.low)
        out.putLittleEndian(check.high)
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(Corrupt) -> BlockRecordFile {
        guard bytes.count >= headerSize + 16 else { throw .tooShort }
        guard Array(bytes[0..<8]) == magic else { throw .badMagic }
        let end = bytes.count - 16
        let check = bytes.withUnsafeBytes { BlockHasher(seed: checkSeed).hash(UnsafeRawBufferPointer(rebasing: $0[..<end])) }
        guard check == BlockHash(low: bytes.word(at: end), high: bytes.word(at: end + 8)) else { throw .badChecksum }
        let versionAndCount = bytes.word(at: 8)
        guard UInt32(truncatingIfNeeded: versionAndCount) == version else {
            throw .unsupportedVersion(UInt32(truncatingIfNeeded: versionAndCount))
        }
        let count = Int(versionAndCount >> 32)
        var position = headerSize
        var records: [BlockRecord] = []
        for _ in 0..<count {
            guard position + recordHeaderSize <= end else { throw .badRecord }
            let w = (0..<8).map { bytes.word(at: position + 8 * $0) }
            position += recordHeaderSize
            let blocks = Int(w[7] >> 32)
            guard blocks <= (end - position) / 16 else { throw .badRecord }
            var hashes: [BlockHash] = []
            hashes.reserveCapacity(blocks)
            for index in 0..<blocks {
                hashes.append(BlockHash(low: bytes.word(at: position + 16 * index), high: bytes.word(at: position + 16 * index + 8)))
            }
            position += 16 * blocks
            let identity = BlockRecord.Identity(
                device: w[0], inode: w[1], size: Int64(bitPattern: w[2]),
                modificationTime: FileTime(seconds: Int(Int64(bitPattern: w[3])), nanoseconds: Int(Int64(bitPattern: w[4]))),
                changeTime: FileTime(seconds: Int(Int64(bitPattern: w[5])), nanoseconds: Int(Int64(bitPattern: w[6]))))
            let record = BlockRecord(identity: identity, blockSize: Int(UInt32(truncatingIfNeeded: w[7])), hashes: hashes)
            guard record.isWellFormed else { throw .badRecord }
            records.append(record)
        }
        guard position == end else { throw .badRecord }
        return BlockRecordFile(seed: (bytes.word(at: 16), bytes.word(at: 24)), records: records)
    }
}

extension [UInt8] {
    fileprivate mutating func putLittleEndian(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    fileprivate func word(at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(self[offset + index]) }
        return value
    }
}
