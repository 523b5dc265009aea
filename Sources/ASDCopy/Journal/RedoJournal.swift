import ASDSystem
/// The redo journal of an in-place write-back (ext4 and other file systems
/// without reflinks): the new bytes of every changed block of a batch of
/// files, written and flushed before any of them is touched, so that a crash
/// while they are changed in place can be finished at the next start
/// (`RedoReplay`). One journal file per batch, in asd's temp directory beside
/// the target.
///
/// Layout (integers little-endian):
///
///     header   "ASDREDO\0"  version u32  flags u32 (0)  root inode u64
///              record count u32  body length u64  body CRC-32C u32  header CRC-32C u32
///     body     record*: directory (relative to the target, "" for itself) len u32 + bytes,
///              name len u32 + bytes, inode u64, final size i64, atime s i64 ns i64,
///              mtime s i64 ns i64, write count u32, writes: offset i64, len u32, bytes
///     commit   "ASDCOMMT"  CRC-32C of everything before it u32
///
/// A journal is complete only with a valid header, body, commit marker and
/// both checksums; anything else is torn (the crash came while it was being
/// written, so no file was touched yet) and is discarded.
public struct RedoJournal: Equatable, Sendable {
    public struct Write: Equatable, Sendable {
        var offset: Int64
        var bytes: [UInt8]

        init(offset: Int64, bytes: [UInt8]) {
            self.offset = offset
            self.bytes = bytes
        }
    }

    /// One file's change: its identity, its new size and times, the new bytes.
    public struct Record: Equatable, Sendable {
        var directory: FilePath
        var name: FilePath
        var inode: UInt64
        var size: Int64
        var accessTime: FileTime
        var modificationTime: FileTime
        var writes: [Write]

        init(
            directory: FilePath, name: FilePath, inode: UInt64, size: Int64,
            accessTime: FileTime, modificationTime: FileTime, writes: [Write]
        ) {
            self.directory = directory
            self.name = name
            self.inode = inode
            self.size = size
            self.accessTime = accessTime
            self.modificationTime = modificationTime
            self.writes = writes
        }

        var dataBytes: Int { writes.reduce(0) { $0 + $1.bytes.count } }
    }

    public enum Torn: Error, Equatable, Sendable {
        case tooShort, badMagic, unsupportedVersion(UInt32), badHeaderChecksum, badLength
        case badBodyChecksum, noCommit, badCommitChecksum, badRecord
    }

    static let magic: [UInt8] = Array("ASDREDO\0".utf8)
    static let commitMagic: [UInt8] = Array("ASDCOMMT".utf8)
    public static let version: UInt32 = 1
    static let headerSize = 44
    static let commitSize = 12

    /// The inode of the target directory the records are relative to.
    var rootInode: UInt64
    var records: [Record]

    public init(rootInode: UInt64, records: [Record]) {
        self.rootInode = rootInode
        self.records = records
    }

    public func encoded() -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(records.reduce(0) { $0 + $1.dataBytes + 96 + $1.writes.count * 12 })
        for record in records {
            body.put(UInt32(record.directory.bytes.count)); body += record.directory.bytes
            body.put(UInt32(record.name.bytes.count)); body += record.name.bytes
            body.put(record.inode)
            body.put(UInt64(bitPattern: record.size))
            for time in [record.accessTime, record.modificationTime] {
                body.put(UInt64(bitPattern: Int64(time.seconds))); body.put(UInt64(bitPattern: Int64(time.nanoseconds)))
            }
            body.put(UInt32(record.writes.count))
            for write in record.writes {
                body.put(UInt64(bitPattern: write.offset)); body.put(UInt32(write.bytes.count)); body += write.bytes
            }
        }
        var out = Self.magic
        out.put(Self.version); out.put(UInt32(0)); out.put(rootInode)
        out.put(UInt32(records.count)); out.put(UInt64(body.count)); out.put(CRC32C.checksum(body))
        out.put(CRC32C.checksum(out))
        out += body
        let total = CRC32C.checksum(out)
        out += Self.commitMagic
        out.put(total)
        return out
    }

    /// Decodes a complete journal; throws `Torn` for anything else.
    public static func decode(_ bytes: [UInt8]) throws(Torn) -> RedoJournal {
        guard bytes.count >= headerSize + commitSize else { throw .tooShort }
        guard Array(bytes[0..<8]) == magic else { throw .badMagic }
        var header = Reader(bytes: bytes[..<headerSize], position: 8)
        let version = try header.u32()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        _ = try header.u32()
        let rootInode = try header.u64(), count = try header.u32(), bodyLength = try header.u64()
        let bodyCRC = try header.u32(), headerCRC = try header.u32()
        guard CRC32C.checksum(bytes[..<(headerSize - 4)]) == headerCRC else { throw .badHeaderChecksum }
        guard bodyLength == UInt64(bytes.count - headerSize - commitSize) else { throw .badLength }
        let bodyEnd = headerSize + Int(bodyLength)
        guard CRC32C.checksum(bytes[headerSize..<bodyEnd]) == bodyCRC else { throw .badBodyChecksum }
        guard Array(bytes[bodyEnd..<(bodyEnd + 8)]) == commitMagic else { throw .noCommit }
        var commit = Reader(bytes: bytes[(bodyEnd + 8)...], position: bodyEnd + 8)
        guard try commit.u32() == CRC32C.checksum(bytes[..<bodyEnd]) else { throw .badCommitChecksum }

        var reader = Reader(bytes: bytes[headerSize..<bodyEnd], position: headerSize)
        var records: [Record] = []
        for _ in 0..<count {
            let directory = FilePath(try reader.take(Int(try reader.u32())))
            let name = FilePath(try reader.take(Int(try reader.u32())))
            let inode = try reader.u64(), size = Int64(bitPattern: try reader.u64())
            var times: [FileTime] = []
            for _ in 0..<2 {
                let seconds = Int64(bitPattern: try reader.u64()), nanoseconds = Int64(bitPattern: try reader.u64())
                times.append(FileTime(seconds: Int(seconds), nanoseconds: Int(nanoseconds)))
            }
            var writes: [Write] = []
            for _ in 0..<(try reader.u32()) {
                let offset = Int64(bitPattern: try reader.u64())
                writes.append(Write(offset: offset, bytes: Array(try reader.take(Int(try reader.u32())))))
            }
            guard !name.isEmpty, size >= 0 else { throw .badRecord }
            records.append(Record(directory: directory, name: name, inode: inode, size: size,
                                  accessTime: times[0], modificationTime: times[1], writes: writes))
        }
        guard reader.position == bodyEnd else { throw .badRecord }
        return RedoJournal(rootInode: rootInode, records: records)
    }

    /// Bounds-checked little-endian reads from a slice of the journal.
    private struct Reader {
        let bytes: ArraySlice<UInt8>
        var position: Int

        mutating func take(_ count: Int) throws(Torn) -> ArraySlice<UInt8> {
            guard count >= 0, position + count <= bytes.endIndex else { throw .badRecord }
            defer { position += count }
            return bytes[position..<(position + count)]
        }

        mutating func u32() throws(Torn) -> UInt32 {
            try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func u64() throws(Torn) -> UInt64 {
            try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}

extension [UInt8] {
    fileprivate mutating func put(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    fileprivate mutating func put(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
