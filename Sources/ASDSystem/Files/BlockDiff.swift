#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A run of bytes of a file: `length` bytes from `offset`.
public struct ByteRange: Equatable, Sendable {
    public var offset: Int64
    public var length: Int64

    public init(offset: Int64, length: Int64) {
        self.offset = offset
        self.length = length
    }

    public var end: Int64 { offset + length }
}

/// Finds the blocks in which a new version of a file differs from the old one
/// (reading costs no wear), so that only they are written: each differing
/// block gives the range from its first to its last differing byte. Bytes past
/// the old end are all new (an append writes its tail only); a shorter new
/// version is a truncation, not a range. Touching ranges merge into one.
public enum BlockDiff {
    public static let blockSize = 4096
    /// Bytes compared per read(2) pair.
    public static let chunk = 1 << 20

    /// The changed ranges of `new` against `old`, both in memory.
    public static func ranges(new: [UInt8], old: [UInt8], blockSize: Int = blockSize) -> [ByteRange] {
        var ranges: [ByteRange] = []
        new.withUnsafeBytes { n in
            old.withUnsafeBytes { o in compare(n, o, at: 0, blockSize: blockSize, into: &ranges) }
        }
        if new.count > old.count { append(ByteRange(offset: Int64(old.count), length: Int64(new.count - old.count)), to: &ranges) }
        return ranges
    }

    /// The changed ranges of the open file `new` (`newSize` bytes) against `old`
    /// (`oldSize` bytes), read a megabyte at a time from each; nil as soon as
    /// more than `limit` bytes differ (writing the whole file is cheaper then).
    public static func ranges(
        new: OpenFile, newSize: Int64, old: OpenFile, oldSize: Int64, limit: Int64 = .max, blockSize: Int = blockSize
    ) throws(Errno) -> [ByteRange]? {
        var ranges: [ByteRange] = []
        let common = min(newSize, oldSize)
        if newSize > oldSize {
            if newSize - oldSize > limit { return nil }
        }
        let a = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        let b = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { a.deallocate(); b.deallocate() }
        var offset: Int64 = 0
        while offset < common {
            let want = Int(min(Int64(chunk), common - offset))
            let gotNew = try new.read(into: UnsafeMutableRawBufferPointer(rebasing: a[..<want]), at: offset)
            let gotOld = try old.read(into: UnsafeMutableRawBufferPointer(rebasing: b[..<want]), at: offset)
            // A file that shrank meanwhile: whatever is missing counts as changed.
            let got = min(gotNew, gotOld)
            compare(UnsafeRawBufferPointer(rebasing: a[..<got]), UnsafeRawBufferPointer(rebasing: b[..<got]),
                    at: offset, blockSize: blockSize, into: &ranges)
            if got < want { append(ByteRange(offset: offset + Int64(got), length: Int64(want - got)), to: &ranges) }
            if ranges.reduce(0, { $0 + $1.length }) + max(0, newSize - oldSize) > limit { return nil }
            offset += Int64(want)
        }
        if newSize > oldSize { append(ByteRange(offset: oldSize, length: newSize - oldSize), to: &ranges) }
        return ranges
    }

    /// Appends each block of `new` that differs from the same block of `old`
    /// (over their common length), `base` being the offset of both buffers.
    public static func compare(
        _ new: UnsafeRawBufferPointer, _ old: UnsafeRawBufferPointer, at base: Int64, blockSize: Int,
        into ranges: inout [ByteRange]
    ) {
        let count = min(new.count, old.count)
        guard count > 0 else { return }
        // Blocks are counted from offset 0 of the file, so `base` is a multiple of blockSize here.
        var start = 0
        if memcmp(new.baseAddress!, old.baseAddress!, count) == 0 { return }
        while start < count {
            let length = min(blockSize, count - start)
            if memcmp(new.baseAddress! + start, old.baseAddress! + start, length) != 0 {
                // Only the differing bytes of the block: a smaller journal (the disk still writes the block).
                var first = start, last = start + length - 1
                while new[first] == old[first] { first += 1 }
                while new[last] == old[last] { last -= 1 }
                append(ByteRange(offset: base + Int64(first), length: Int64(last - first + 1)), to: &ranges)
            }
            start += length
        }
    }

    /// Appends `range`, merged into the last one when they touch.
    public static func append(_ range: ByteRange, to ranges: inout [ByteRange]) {
        if let last = ranges.last, last.end >= range.offset {
            ranges[ranges.count - 1].length = max(last.end, range.end) - last.offset
        } else {
            ranges.append(range)
        }
    }
}

extension OpenFile {
    /// posix_fadvise(2) POSIX_FADV_RANDOM: no readahead on this descriptor, so
    /// reading a few scattered blocks reads only them from the disk.
    public func adviseRandomAccess() {
        _ = syscall(.other) { posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) }  // a hint: its failure changes nothing
    }
}
