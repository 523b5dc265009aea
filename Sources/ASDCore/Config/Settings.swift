import ASDCopy
import ASDSystem
/// The typed configuration asd runs with (doc/DESIGN.md §2), produced by `ConfigParser`
/// from the variables a config file assigns. Knows nothing of mounts.
struct Settings: Equatable, Sendable {
    /// Absolute directory paths, trailing slashes removed, in config order.
    var whatToSync: [FilePath]
    /// Where tmpfs copies live; trailing slashes removed; default /tmp.
    var volatile: FilePath
    var useOverlay: Bool
    var useBackups: Bool
    /// Crash-recovery archives kept per target.
    var backupLimit: Int
    var hardlinkSafetyCheck: Bool
    /// USE_RSYNC: copy with rsync (a subprocess) instead of the built-in copier.
    var useRsync: Bool
    /// USE_RSYNC="always": rsync even for trees users other than root can change
    /// (with plain yes, those are copied by the built-in copier: rsync walks by
    /// path, so such a user could swap a directory for a symlink under it).
    var rsyncOnEveryTree: Bool
    /// METRICS_DIR: where `asd.prom` goes (see `MetricsDirectory`).
    var metricsDirectory: MetricsDirectory
    /// USE_ZRAM: the RAM copies live on a zram device asd makes (nil: off).
    var zram: ZramSettings?
    /// The file these settings came from (for error messages).
    var sourceFile: FilePath
    /// The bytes these settings were parsed from: the config snapshot taken
    /// at sync is exactly these (never a second read of the file).
    var sourceBytes: [UInt8]
    /// RAM_ONLY patterns and DISK_ONLY directories (doc/DESIGN.md §2).
    var exclusions = Exclusions()
    /// RESYNC_DELAY in seconds: `asd watch` writes a change back this long
    /// after it (doc/DESIGN.md §12); nil: off.
    var resyncDelay: Int?

    init(
        whatToSync: [FilePath], volatile: FilePath = "/tmp", useOverlay: Bool = false,
        useBackups: Bool = true, backupLimit: Int = 5, hardlinkSafetyCheck: Bool = true,
        useRsync: Bool = false, rsyncOnEveryTree: Bool = false, zram: ZramSettings? = nil, sourceFile: FilePath = Invocation.defaultConfigPath, sourceBytes: [UInt8] = [],
        metricsDirectory: MetricsDirectory = .automatic
    ) {
        self.whatToSync = whatToSync
        self.volatile = volatile
        self.useOverlay = useOverlay
        self.useBackups = useBackups
        self.backupLimit = backupLimit
        self.hardlinkSafetyCheck = hardlinkSafetyCheck
        self.useRsync = useRsync || rsyncOnEveryTree
        self.rsyncOnEveryTree = rsyncOnEveryTree
        self.zram = zram
        self.sourceFile = sourceFile
        self.sourceBytes = sourceBytes
        self.metricsDirectory = metricsDirectory
    }
}
