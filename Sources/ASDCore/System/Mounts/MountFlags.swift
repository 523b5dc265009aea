#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The `mountflags` argument of mount(2). Glibc imports the MS_* constants
/// as `Int` while mount(2) takes `UInt`; this is the one place converting.
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt

    public init(rawValue: UInt) { self.rawValue = rawValue }

    private init(_ value: Int) { self.rawValue = UInt(value) }

    public static let readOnly = MountFlags(MS_RDONLY)
    public static let noSetUID = MountFlags(MS_NOSUID)
    public static let noDevices = MountFlags(MS_NODEV)
    public static let noExec = MountFlags(MS_NOEXEC)
    public static let synchronous = MountFlags(MS_SYNCHRONOUS)
    public static let remount = MountFlags(MS_REMOUNT)
    public static let mandatoryLocks = MountFlags(MS_MANDLOCK)
    public static let directorySync = MountFlags(MS_DIRSYNC)
    public static let noSymlinkFollow = MountFlags(MS_NOSYMFOLLOW)
    public static let noAccessTime = MountFlags(MS_NOATIME)
    public static let noDirectoryAccessTime = MountFlags(MS_NODIRATIME)
    public static let bind = MountFlags(MS_BIND)
    public static let move = MountFlags(MS_MOVE)
    public static let recursive = MountFlags(MS_REC)
    public static let silent = MountFlags(MS_SILENT)
    public static let unbindable = MountFlags(MS_UNBINDABLE)
    public static let `private` = MountFlags(MS_PRIVATE)
    public static let slave = MountFlags(MS_SLAVE)
    public static let shared = MountFlags(MS_SHARED)
    public static let relativeAccessTime = MountFlags(MS_RELATIME)
    public static let strictAccessTime = MountFlags(MS_STRICTATIME)
    public static let lazyTime = MountFlags(MS_LAZYTIME)

    /// The per-mount flags a bind remount must repeat: the kernel replaces
    /// them all, and refuses (EPERM) to clear ones that are locked, e.g.
    /// in a user namespace.
    public static let perMount: MountFlags = [
        .readOnly, .noSetUID, .noDevices, .noExec, .noSymlinkFollow, .noDirectoryAccessTime,
    ]

    /// Per-mount flags as statvfs(3) reports them in `f_flag` (ST_*).
    /// The atime mode is left out: the caller chooses it.
    public init(statvfsFlags flags: UInt) {
        var result: MountFlags = []
        // ST_* values from <sys/statvfs.h>; most are hidden behind
        // __USE_GNU, which Swift's Glibc module does not define.
        let table: [(UInt, MountFlags)] = [
            (1, .readOnly),  // ST_RDONLY
            (2, .noSetUID),  // ST_NOSUID
            (4, .noDevices),  // ST_NODEV
            (8, .noExec),  // ST_NOEXEC
            (2048, .noDirectoryAccessTime),  // ST_NODIRATIME
            (0x2000, .noSymlinkFollow),  // ST_NOSYMFOLLOW (Linux 5.10)
        ]
        for (bit, flag) in table where flags & bit != 0 {
            result.insert(flag)
        }
        self = result
    }
}

/// The `flags` argument of umount2(2) (Int32).
public struct UnmountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// MNT_FORCE.
    public static let force = UnmountFlags(rawValue: Int32(MNT_FORCE))
    /// MNT_DETACH: lazy unmount, the mount vanishes from the tree at once.
    public static let detach = UnmountFlags(rawValue: Int32(MNT_DETACH))
    /// UMOUNT_NOFOLLOW: do not follow a symlink at the target.
    public static let noFollow = UnmountFlags(rawValue: Int32(UMOUNT_NOFOLLOW))
}
