#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Facts about the filesystem holding a path: statfs(2) for its type,
/// statvfs(3) for sizes, mountinfo for its name and source device.
public struct FileSystemInfo: Equatable, Sendable {
    /// statfs(2) f_type, e.g. 0x01021994 for tmpfs.
    public var magic: UInt32
    /// Bytes an unprivileged writer may still use (f_bavail * f_frsize).
    public var availableBytes: UInt64
    /// Size of the filesystem (f_blocks * f_frsize).
    public var totalBytes: UInt64
    /// Type as mountinfo names it ("tmpfs", "ext4"), or from the magic.
    public var typeName: String
    /// Source of the mount holding the path ("/dev/zram0", "tmpfs").
    public var source: String

    static let tmpfsMagic: UInt32 = 0x0102_1994
    static let ramfsMagic: UInt32 = 0x8584_58f6

    var isTmpfs: Bool { magic == Self.tmpfsMagic }
    /// Upstream's rule (`df -T | grep ' tmpfs \|^/dev/zram'`): a tmpfs, or
    /// a filesystem on a zram block device.
    public var isVolatile: Bool { isTmpfs || source.hasPrefix("/dev/zram") }

    /// statfs(2) and statvfs(3) of `path`, plus its mountinfo entry.
    public static func of(_ path: FilePath) throws(Errno) -> FileSystemInfo {
        var vfs = statvfs()
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { statvfs(c, &vfs) } }
        let unit = UInt64(vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize)
        let magic = try statfsType(path)
        let entry = resolvedPath(path).flatMap { real in
            (try? MountInfo.current()).flatMap { MountInfo.mount(containing: real, in: $0) }
        }
        return FileSystemInfo(
            magic: magic,
            availableBytes: UInt64(vfs.f_bavail) * unit,
            totalBytes: UInt64(vfs.f_blocks) * unit,
            typeName: entry?.fsType ?? name(ofMagic: magic),
            source: entry?.source ?? "")
    }

    /// f_type from statfs(2).
    static func statfsType(_ path: FilePath) throws(Errno) -> UInt32 {
        var type: UInt64 = 0
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { casd_statfs_type(c, &type) } }
        return UInt32(truncatingIfNeeded: type)
    }

    /// A readable name for common magics (linux/magic.h), else hex.
    public static func name(ofMagic magic: UInt32) -> String {
        switch magic {
        case tmpfsMagic: return "tmpfs"
        case ramfsMagic: return "ramfs"
        case 0xEF53: return "ext2/3/4"
        case 0x9123_683E: return "btrfs"
        case 0x5846_5342: return "xfs"
        case 0xF2F5_2010: return "f2fs"
        case 0x794C_7630: return "overlay"
        case 0x2FC1_2FC1: return "zfs"
        case 0x6573_5546: return "fuse"
        case 0x6969: return "nfs"
        case 0x4D44: return "vfat"
        case 0x7371_7368: return "squashfs"
        case 0xCA45_1A4E: return "bcachefs"
        default: return "filesystem type 0x" + String(magic, radix: 16)
        }
    }

    /// True when `path` may hold tmpfs copies (tmpfs or zram); false when
    /// it is anything else or cannot be examined.
    static func isVolatileOK(_ path: FilePath) -> Bool {
        (try? of(path))?.isVolatile ?? false
    }

    // MARK: Durability

    /// open(2) + syncfs(2) + close: flushes the whole filesystem holding
    /// `path`, metadata included.
    public static func syncFilesystem(containing path: FilePath) throws(Errno) {
        let fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, O_RDONLY | O_CLOEXEC) } }
        defer { close(fd) }
        _ = try retryingEINTR(.syncfs) { casd_syncfs(fd) }
    }

    /// open(2) read-only (works for directories too) + fsync(2) + close.
    static func fsyncPath(_ path: FilePath) throws(Errno) {
        try FileOps.flush(path, flags: O_RDONLY | O_CLOEXEC)
    }

    // MARK: Overlay support

    enum OverlaySupport: Equatable, Sendable {
        /// Listed in /proc/filesystems.
        case available
        /// Not loaded, but a module exists; mount(2) loads it on demand
        /// (the kernel calls modprobe for an unknown fstype).
        case loadable
        case unavailable
    }

    /// Reads /proc/filesystems ("nodev\toverlay"), then looks for the
    /// module in /lib/modules/<release>/modules.dep and modules.builtin.
    static func overlaySupport() -> OverlaySupport {
        if let list = try? MountInfo.readProcFile("/proc/filesystems"),
           list.split(separator: "\n").contains(where: { $0.split(separator: "\t").last == "overlay" }) {
            return .available
        }
        guard let release = try? MountInfo.readProcFile("/proc/sys/kernel/osrelease") else { return .unavailable }
        let base: FilePath = "/lib/modules/\(release.trimmingTrailingNewlines())/"
        for file in ["modules.dep", "modules.builtin"] {
            guard let text = try? MountInfo.readProcFile(base + file) else { continue }
            if text.split(separator: "\n").contains(where: { $0.contains("/overlay.ko") }) {
                return .loadable
            }
        }
        return .unavailable
    }

    /// True unless overlay is known to be unavailable.
    public static func overlaySupported() -> Bool { overlaySupport() != .unavailable }
}
