import ASDSystem
/// The memory guard for USE_ZRAM and the file system on the device
/// (doc/DESIGN.md §11: why btrfs with zstd, else ext4 without
/// a journal; Tests/bench/zram.sh measures both).
extension Engine {
    /// ZRAM_SIZE, or by default what the tmpfs guard would allow: the free
    /// space of VOLATILE when it is a tmpfs, else half of MemAvailable.
    func zramSize(_ zram: ZramSettings) throws(ASDError) -> UInt64 {
        if let size = zram.size { return size }
        if let info = try? FileSystemInfo.of(zram.hostVolatile), info.isTmpfs {
            return max(ZramSettings.minimumSize, info.availableBytes / 4096 * 4096)
        }
        return max(ZramSettings.minimumSize, Self.memoryAvailable() / 2 / 4096 * 4096)
    }

    /// Refuses, with the numbers, when the targets cannot fit on a device of
    /// `size` bytes (uncompressed, less the file system's own share); warns
    /// when the device may take more RAM than is free (incompressible data).
    func guardZramRoom(size: UInt64, zram: ZramSettings) throws(ASDError) {
        let needed = targets.filter { !isRunning($0) && FileOps.isDirectory($0.target) }
            .reduce(UInt64(0)) { $0 + tmpfsFootprint(of: $1.target) }
        let usable = ZramFormat.usableBytes(ofDevice: size)
        let setting = zram.size == nil ? "the default ZRAM_SIZE (\(formatBytes(size)), what VOLATILE \(zram.hostVolatile) has free)" : "ZRAM_SIZE=\(formatBytes(size))"
        if needed > usable {
            throw .configValue(file: settings.sourceFile, key: "ZRAM_SIZE", value: formatBytes(size),
                               reason: "the targets hold \(formatBytes(needed)) uncompressed but \(setting) holds about \(formatBytes(usable)); raise ZRAM_SIZE (RAM used is about a third of the data for text)")
        }
        let available = Self.memoryAvailable()
        if available > 0, size > available {
            log.warning("\(setting) is more than the \(formatBytes(available)) of RAM available now: data that does not compress could use it all.")
        }
    }

    /// MemAvailable from /proc/meminfo, in bytes (0 when unknown).
    static func memoryAvailable() -> UInt64 {
        guard let text = try? readTextFile("/proc/meminfo") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let words = line.split(separator: " ")
            if words.count >= 2, let kib = UInt64(words[1]) { return kib * 1024 }
        }
        return 0
    }
}

/// The file system asd puts on its zram device, as argv and mount options.
/// btrfs with compress-force=zstd compresses before zram sees the data
/// (zstd on 128 KiB extents beats lzo/lz4 on 4 KiB pages) and frees
/// discarded blocks at once; it needs mkfs.btrfs and 256 MiB. Its nodes are
/// 4 KiB, not 16: the metadata reserved for the data a fill writes is a
/// quarter, so btrfs does not start flushing (compressing) that data while
/// sync still writes it (doc/DESIGN.md §11). Otherwise ext4 without a
/// journal (nothing is written twice) and without reserved blocks.
public struct ZramFormat: Equatable, Sendable {
    public var fsType: String
    public var options: String

    public static let btrfsMinimum: UInt64 = 256 << 20

    public static func choose(size: UInt64, hasBtrfs: Bool) -> ZramFormat {
        if hasBtrfs && size >= btrfsMinimum {
            return ZramFormat(fsType: "btrfs", options: "discard=sync,compress-force=zstd:1,max_inline=2048")
        }
        return ZramFormat(fsType: "ext4", options: "discard")
    }

    /// The mkfs command line for `device`.
    public func mkfs(_ device: FilePath) -> [FilePath] {
        if fsType == "btrfs" {
            return ["mkfs.btrfs", "-q", "-f", "-K", "-n", "4096", "-m", "single", "-d", "single", device]
        }
        return ["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0", "-E", "nodiscard,lazy_itable_init=0", device]
    }

    /// What a device of `size` bytes holds of data, roughly: the file
    /// systems keep a few percent for inodes and metadata.
    public static func usableBytes(ofDevice size: UInt64) -> UInt64 {
        size / 100 * 92
    }
}
