import ASDSystem
/// What the disk copy of a file held when asd last wrote it back: the 128-bit
/// checksum (`BlockHasher`) of each of its blocks, tied to the disk file's
/// identity at that moment. The next write-back of the file compares the
/// checksums of the RAM copy's blocks with these and reads from the disk copy
/// only the blocks that differ (doc/DESIGN.md §6.6).
public struct BlockRecord: Equatable, Sendable {
    /// The disk file as fstat(2) saw it after the write-back: any change to
    /// it since (a write, a truncate, utimensat, chmod, a rename, a new link,
    /// another file under the same inode number) moves one of these.
    public struct Identity: Equatable, Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int64
        public var modificationTime: FileTime
        public var changeTime: FileTime

        public init(device: UInt64, inode: UInt64, size: Int64, modificationTime: FileTime, changeTime: FileTime) {
            self.device = device
            self.inode = inode
            self.size = size
            self.modificationTime = modificationTime
            self.changeTime = changeTime
        }

        public init(_ status: FileStatus) {
            self.init(device: status.device, inode: status.inode, size: status.size,
                      modificationTime: status.modificationTime, changeTime: status.changeTime)
        }

        /// Device and inode: where the store looks a record up.
        var key: Key { Key(device: device, inode: inode) }
    }

    struct Key: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    public var identity: Identity
    /// A power of two from 4 KiB (`blockSize(forFileSize:)`).
    public var blockSize: Int
    /// One per block; the last block may be shorter than `blockSize`.
    public var hashes: [BlockHash]

    public init(identity: Identity, blockSize: Int, hashes: [BlockHash]) {
        self.identity = identity
        self.blockSize = blockSize
        self.hashes = hashes
    }

    /// Files below this size get no record: their disk copy is read, a few
    /// blocks at most.
    public static let minimumFileSize: Int64 = 16 << 10
    static let smallestBlock = 4096
    /// At most this many blocks per record (16 bytes each): block size grows
    /// with the file, so a 1 GiB file needs 64 KiB blocks and 256 KiB of record.
    static let maximumBlocks: Int64 = 16384

    /// The block size for a file of `size` bytes: 4 KiB, doubled until the
    /// file has at most `maximumBlocks` blocks.
    public static func blockSize(forFileSize size: Int64) -> Int {
        var block = smallestBlock
        while (size + Int64(block) - 1) / Int64(block) > maximumBlocks { block *= 2 }
        return block
    }

    /// The number of blocks of `size` bytes at `blockSize`.
    static func blockCount(_ size: Int64, _ blockSize: Int) -> Int {
        Int((size + Int64(blockSize) - 1) / Int64(blockSize))
    }

    /// A record consistent in itself: a block size this code would choose
    /// (or smaller, for a file that grew) and one hash per block.
    var isWellFormed: Bool {
        identity.size >= 0 && blockSize >= Self.smallestBlock && blockSize <= 1 << 30
            && blockSize & (blockSize - 1) == 0 && hashes.count == Self.blockCount(identity.size, blockSize)
    }
}
