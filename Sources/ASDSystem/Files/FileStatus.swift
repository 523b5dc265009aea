#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// A point in time with nanosecond precision (struct timespec).
public struct FileTime: Equatable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int
    public var nanoseconds: Int

    public init(seconds: Int, nanoseconds: Int) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(_ spec: timespec) {
        self.init(seconds: Int(spec.tv_sec), nanoseconds: Int(spec.tv_nsec))
    }

    var timespec: Glibc.timespec { Glibc.timespec(tv_sec: seconds, tv_nsec: nanoseconds) }

    public static func < (lhs: FileTime, rhs: FileTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    public var description: String {
        let ns = String(nanoseconds)
        return "\(seconds)." + String(repeating: "0", count: max(0, 9 - ns.count)) + ns
    }
}

/// The kind of a directory entry (the S_IFMT bits of st_mode).
public enum FileType: Equatable, Hashable, Sendable {
    case regular, directory, symlink, fifo, socket, charDevice, blockDevice

    public init?(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .charDevice
        case S_IFBLK: self = .blockDevice
        default: return nil
        }
    }

    /// The S_IFMT bits for mknod(2).
    var formatBits: UInt32 {
        switch self {
        case .regular: return S_IFREG
        case .directory: return S_IFDIR
        case .symlink: return S_IFLNK
        case .fifo: return S_IFIFO
        case .socket: return S_IFSOCK
        case .charDevice: return S_IFCHR
        case .blockDevice: return S_IFBLK
        }
    }
}

/// What lstat(2) / fstatat(2) with AT_SYMLINK_NOFOLLOW says about a path.
public struct FileStatus: Equatable, Sendable {
    public var type: FileType
    /// Permission bits including setuid, setgid and sticky (st_mode & 07777).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Apparent size in bytes (st_size).
    public var size: Int64
    /// Allocated 512-byte blocks (st_blocks).
    public var blocks: Int64
    public var linkCount: UInt64
    public var device: UInt64
    public var inode: UInt64
    /// Device number of a character or block device (st_rdev).
    public var rdev: UInt64
    public var accessTime: FileTime
    public var modificationTime: FileTime
    public var changeTime: FileTime

    public init(_ st: stat) {
        self.type = FileType(mode: st.st_mode) ?? .regular
        self.permissions = UInt32(st.st_mode) & 0o7777
        self.uid = st.st_uid
        self.gid = st.st_gid
        self.size = Int64(st.st_size)
        self.blocks = Int64(st.st_blocks)
        self.linkCount = UInt64(st.st_nlink)
        self.device = UInt64(st.st_dev)
        self.inode = UInt64(st.st_ino)
        self.rdev = UInt64(st.st_rdev)
        self.accessTime = FileTime(st.st_atim)
        self.modificationTime = FileTime(st.st_mtim)
        self.changeTime = FileTime(st.st_ctim)
    }

    public var isDirectory: Bool { type == .directory }
    public var isRegular: Bool { type == .regular }
    public var isSymlink: Bool { type == .symlink }
}

extension FileOps {
    /// lstat(2): the status of `path` itself (a symlink is not followed).
    public static func status(_ path: FilePath) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { lstat(c, &st) } }
        return FileStatus(st)
    }

    /// stat(2): the status of what `path` points to (symlinks followed).
    static func statusFollowingLinks(_ path: FilePath) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { stat(c, &st) } }
        return FileStatus(st)
    }

    /// lstat(2) returning nil when the path does not exist (ENOENT/ENOTDIR).
    public static func statusIfExists(_ path: FilePath) throws(Errno) -> FileStatus? {
        do {
            return try status(path)
        } catch {
            if error == .noEntry || error == .notDirectory { return nil }
            throw error
        }
    }

    /// statx(2) STATX_ATTR_MOUNT_ROOT: whether `path` is the root of a mount,
    /// which also catches bind mounts of the same filesystem (same st_dev).
    public static func isMountRoot(_ path: FilePath) throws(Errno) -> Bool {
        try path.withCString { (c) throws(Errno) in try isMountRoot(directoryFD: AT_FDCWD, name: c) }
    }

    /// The same for a C name relative to a directory descriptor, for walks
    /// that stat many entries.
    public static func isMountRoot(directoryFD: Int32, name: UnsafePointer<CChar>) throws(Errno) -> Bool {
        var isRoot: Int32 = 0
        _ = try retryingEINTR { casd_statx_mount_root(directoryFD, name, &isRoot) }
        return isRoot != 0
    }
}
