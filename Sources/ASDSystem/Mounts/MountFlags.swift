#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The `mountflags` argument of mount(2). Glibc imports the MS_* constants
/// as `Int` while mount(2) takes `UInt`; this is the one place converting.
struct MountFlags: OptionSet, Sendable, Hashable {
    let rawValue: UInt

    init(rawValue: UInt) { self.rawValue = rawValue }

    private init(_ value: Int) { self.rawValue = UInt(value) }

    static let readOnly = MountFlags(MS_RDONLY)
    static let noSetUID = MountFlags(MS_NOSUID)
    static let noDevices = MountFlags(MS_NODEV)
    static let noExec = MountFlags(MS_NOEXEC)
    static let synchronous = MountFlags(MS_SYNCHRONOUS)
    static let remount = MountFlags(MS_REMOUNT)
    static let mandatoryLocks = MountFlags(MS_MANDLOCK)
    static let directorySync = MountFlags(MS_DIRSYNC)
    static let noSymlinkFollow = MountFlags(MS_NOSYMFOLLOW)
    static let noAccessTime = MountFlags(MS_NOATIME)
    static let noDirectoryAccessTime = MountFlags(MS_NODIRATIME)
    static let bind = MountFlags(MS_BIND)
    static let move = MountFlags(MS_MOVE)
    static let recursive = MountFlags(MS_REC)
    static let silent = MountFlags(MS_SILENT)
    static let unbindable = MountFlags(MS_UNBINDABLE)
    static let `private` = MountFlags(MS_PRIVATE)
    static let slave = MountFlags(MS_SLAVE)
    static let shared = MountFlags(MS_SHARED)
    static let relativeAccessTime = MountFlags(MS_RELATIME)
    static let strictAccessTime = MountFlags(MS_STRICTATIME)
    static let lazyTime = MountFlags(MS_LAZYTIME)

    /// The per-mount flags a bind remount must repeat: the kernel replaces
    /// them all, and refuses (EPERM) to clear ones that are locked, e.g.
    /// in a user namespace.
    static let perMount: MountFlags = [
        .readOnly, .noSetUID, .noDevices, .noExec, .noSymlinkFollow, .noDirectoryAccessTime,
    ]

    /// Per-mount flags as statvfs(3) reports them in `f_flag` (ST_*).
    /// The atime mode is left out: the caller chooses it.
    init(statvfsFlags flags: UInt) {
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
struct UnmountFlags: OptionSet, Sendable, Hashable {
    let rawValue: Int32

    init(rawValue: Int32) { self.rawValue = rawValue }

    /// MNT_FORCE.
    static let force = UnmountFlags(rawValue: Int32(MNT_FORCE))
    /// MNT_DETACH: lazy unmount, the mount vanishes from the tree at once.
    static let detach = UnmountFlags(rawValue: Int32(MNT_DETACH))
    /// UMOUNT_NOFOLLOW: do not follow a symlink at the target.
    static let noFollow = UnmountFlags(rawValue: Int32(UMOUNT_NOFOLLOW))
}
