#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Writeback without a commit, for the reflink path of the delta write-back
/// (`DeltaWriteBack`): a clone's new blocks must be mapped into the file before
/// the clone is renamed over the old file, and on btrfs a syncfs for that costs
/// a whole transaction commit (a few hundred KiB of tree blocks) per batch.
extension OpenFile {
    /// sync_file_range(2) SYNC_FILE_RANGE_WRITE of the whole file: starts
    /// writing its dirty pages, does not wait. Only a hint (no durability).
    public func startWriteback() {
        _ = casd_sync_file_range_write(fd, 0, 0)
    }

    /// ioctl(FS_IOC_FIEMAP) with FIEMAP_FLAG_SYNC for the first byte: the
    /// kernel writes the file's dirty pages and waits until the file system
    /// maps them (the extents it reports must be the final ones). On btrfs
    /// (Linux 6.1 and later) that waits for the file's ordered extents: the
    /// new extents are in its tree, in the running transaction or an earlier
    /// one. On xfs it waits for I/O completion, which remaps copy-on-write
    /// blocks (a logged transaction) before the pages leave writeback. No
    /// transaction is committed and nothing is durable yet; but a rename
    /// made afterwards can only reach the disk with (or after) that mapping.
    public func waitForMappedData() throws(Errno) {
        _ = try retryingEINTR { casd_fiemap_sync(fd) }
    }
}

extension DirectoryHandle {
    /// f_type of fstatfs(2) on this directory (see `FileSystemInfo.statfsType`).
    public func fileSystemMagic() throws(Errno) -> UInt32 {
        var type: UInt64 = 0
        _ = try retryingEINTR { casd_fstatfs_type(fd, &type) }
        return UInt32(truncatingIfNeeded: type)
    }
}

extension FileSystemInfo {
    static let btrfsMagic: UInt32 = 0x9123_683E
    static let xfsMagic: UInt32 = 0x5846_5342

    /// True when `waitForMappedData` orders a clone's new blocks before a later
    /// rename on the file system with `magic`: xfs, and btrfs from Linux 6.1
    /// (before, its FIEMAP_FLAG_SYNC did not wait for ordered extents).
    public static func mapsDataOnFiemapSync(magic: UInt32, kernelRelease: String? = kernelRelease()) -> Bool {
        switch magic {
        case xfsMagic: return true
        case btrfsMagic:
            guard let release = kernelRelease else { return false }
            let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
            guard numbers.count == 2 else { return false }
            return (numbers[0], numbers[1]) >= (6, 1)
        default: return false
        }
    }

    /// ext2, ext3 and ext4 (one magic) have no FICLONE: asd does not try it there.
    public static func neverClones(magic: UInt32) -> Bool { magic == 0xEF53 }

    /// The running kernel's release ("6.1.0-18-amd64"), from /proc.
    public static func kernelRelease() -> String? {
        (try? MountInfo.readProcFile("/proc/sys/kernel/osrelease")).map { $0.trimmingTrailingNewlines() }
    }
}
