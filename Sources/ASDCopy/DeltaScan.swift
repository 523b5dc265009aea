import ASDSystem
/// The comparison inside the delta write-back (`DeltaWriteBack`): reads the
/// RAM copy of a changed file once, a megabyte at a time, hashes its blocks
/// (`BlockHasher`), and finds the bytes to write:
///
/// - With a valid record of the disk copy (`BlockRecord`), only the blocks
///   whose checksum differs from the record's are read from the disk copy
///   (without readahead), and compared byte by byte to find the changed
///   bytes in them, as `BlockDiff` does; a block past the old end is new.
/// - Without one, every block of the disk copy is read and compared (as
///   before records existed).
///
/// The bytes to write are taken from the very buffers that were hashed, so
/// the hashes describe exactly what the disk copy holds after the write-back
/// even if the RAM copy changes meanwhile.
struct DeltaScan {
    var writes: [RedoJournal.Write] = []
    var changedBytes: Int64 = 0
    var blockSize: Int
    /// The checksums of the RAM copy's blocks as read: the next record.
    var hashes: [BlockHash] = []
    /// Bytes read from the disk copy (tests, debug output).
    var diskBytesRead: Int64 = 0

    /// Compares `new` (`newSize` bytes) with `old` (`oldSize` bytes) and its
    /// `record` (nil: none, or no longer valid); nil as soon as more than
    /// `limit` bytes differ, or when `new` shrank while it was read (the
    /// caller writes the whole file then).
    static func scan(
        new: OpenFile, newSize: Int64, old: OpenFile, oldSize: Int64, record: BlockRecord?, hasher: BlockHasher,
        limit: Int64
    ) throws(Errno) -> DeltaScan? {
        var record = record
        var blockSize = BlockRecord.blockSize(forFileSize: newSize)
        if let known = record {
            // A file that grew much keeps its record's block size up to twice the usual count.
            if Int64(BlockRecord.blockCount(newSize, known.blockSize)) <= 2 * BlockRecord.maximumBlocks {
                blockSize = known.blockSize
            } else {
                record = nil
            }
        }
        if record != nil { old.adviseRandomAccess() }
        var scan = DeltaScan(blockSize: blockSize)
        scan.hashes.reserveCapacity(BlockRecord.blockCount(newSize, blockSize))
        let chunk = max(BlockDiff.chunk, blockSize)
        let a = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { a.deallocate(); b.deallocate() }
        var offset: Int64 = 0
        while offset < newSize {
            let want = Int(min(Int64(chunk), newSize - offset))
            guard try new.read(into: UnsafeMutableRawBufferPointer(rebasing: a[..<want]), at: offset) == want else { return nil }
            let bytes = UnsafeRawBufferPointer(rebasing: a[..<want])
            let first = scan.hashes.count
            hasher.appendHashes(of: bytes, blockSize: blockSize, to: &scan.hashes)
            var ranges: [ByteRange] = []
            if let record {
                for index in first..<scan.hashes.count
                where index >= record.hashes.count || record.hashes[index] != scan.hashes[index] {
                    let start = Int64(index) * Int64(blockSize)
                    let length = Int(min(Int64(blockSize), newSize - start))
                    try scan.compare(bytes, at: offset, start, length, old, oldSize, b, into: &ranges)
                }
            } else {
                try scan.compare(bytes, at: offset, offset, want, old, oldSize, b, into: &ranges)
            }
            for range in ranges {
                let lower = Int(range.offset - offset)
                scan.append(RedoJournal.Write(offset: range.offset, bytes: Array(bytes[lower..<(lower + Int(range.length))])))
                scan.changedBytes += range.length
            }
            if scan.changedBytes > limit { return nil }
            offset += Int64(want)
        }
        return scan
    }

    /// Compares `length` bytes at file offset `start` of `bytes` (which
    /// holds the file from `base`) with the disk copy, appending the changed ranges.
    private mutating func compare(
        _ bytes: UnsafeRawBufferPointer, at base: Int64, _ start: Int64, _ length: Int, _ old: OpenFile, _ oldSize: Int64,
        _ buffer: UnsafeMutableRawBufferPointer, into ranges: inout [ByteRange]
    ) throws(Errno) {
        let common = Int(max(0, min(Int64(length), oldSize - start)))
        let got = common > 0 ? try old.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<common]), at: start) : 0
        diskBytesRead += Int64(got)
        let lower = Int(start - base)
        BlockDiff.compare(UnsafeRawBufferPointer(rebasing: bytes[lower..<(lower + got)]),
                          UnsafeRawBufferPointer(rebasing: buffer[..<got]), at: start, blockSize: BlockDiff.blockSize,
                          into: &ranges)
        // Past the old end, or a disk copy that shrank meanwhile: all new.
        if got < length { BlockDiff.append(ByteRange(offset: start + Int64(got), length: Int64(length - got)), to: &ranges) }
    }

    /// Appends `write`, merged into the last one when they touch.
    private mutating func append(_ write: RedoJournal.Write) {
        if let last = writes.last, last.offset + Int64(last.bytes.count) == write.offset {
            writes[writes.count - 1].bytes += write.bytes
        } else {
            writes.append(write)
        }
    }
}
