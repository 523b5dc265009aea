#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Writeback without a commit, for the reflink path of the delta write-back
/// (`DeltaWriteBack`): a clone's new blocks must be mapped into the file before
/// the clone is renamed over the old file, and on btrfs a syncfs for that costs
/// a whole transaction commit (a few hundred KiB of tree blocks) per batch.
extension OpenFile {
    /// sync_file_range(2) SYNC_FILE_RANGE_WRITE of the whole file: starts
    /// writing its dirty pages, does not wait. Only a hint (no durability).
    public func startWriteback() {
        guard let call = LibC.syncFileRange else { return }
        _ = call(fd, 0, 0, 2)  // SYNC_FILE_RANGE_WRITE
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
        // struct fiemap: fm_start, fm_length (u64), fm_flags, fm_mapped_extents,
        // fm_extent_count, fm_reserved (u32); no extents asked for.
        var request: [UInt64] = [0, 1, UInt64(OpenFile.fiemapFlagSync), 0]
        _ = try retryingEINTR { ioctl(fd, OpenFile.fiemap, &request) }
    }

    /// _IOWR('f', 11, struct fiemap) from <linux/fs.h>.
    static let fiemap: UInt = 0xC020_660B
    /// FIEMAP_FLAG_SYNC from <linux/fiemap.h>.
    static let fiemapFlagSync: UInt32 = 0x1
}

extension DirectoryHandle {
    /// f_type of fstatfs(2) on this directory (see `FileSystemInfo.statfsType`).
    public func fileSystemMagic() throws(Errno) -> UInt32 {
        guard let call = LibC.fstatfs else { throw LibC.noSys }
        return try FileSystemInfo.fType { buffer in call(fd, buffer) }
    }
}

extension FileSystemInfo {
    public static let btrfsMagic: UInt32 = 0x9123_683E
    public static let xfsMagic: UInt32 = 0x5846_5342

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

    /// The running kernel's release ("6.1.0-18-amd64"), from /proc.
    public static func kernelRelease() -> String? {
        (try? MountInfo.readProcFile("/proc/sys/kernel/osrelease")).map { $0.trimmingTrailingNewlines() }
    }
}
