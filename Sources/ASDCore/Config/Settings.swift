/// The typed configuration asd runs with (SPEC §2), produced by `ConfigParser`
/// from the variables a config file assigns. Knows nothing of mounts.
public struct Settings: Equatable, Sendable {
    /// Absolute directory paths, trailing slashes removed, in config order.
    public var whatToSync: [String]
    /// Where tmpfs copies live; trailing slashes removed; default /tmp.
    public var volatile: String
    public var useOverlay: Bool
    public var useBackups: Bool
    /// Crash-recovery archives kept per target.
    public var backupLimit: Int
    public var hardlinkSafetyCheck: Bool
    /// USE_RSYNC: copy with rsync (a subprocess) instead of the built-in copier.
    public var useRsync: Bool
    /// The file these settings came from (for error messages).
    public var sourceFile: String

    public init(
        whatToSync: [String], volatile: String = "/tmp", useOverlay: Bool = false,
        useBackups: Bool = true, backupLimit: Int = 5, hardlinkSafetyCheck: Bool = true,
        useRsync: Bool = false, sourceFile: String = Invocation.defaultConfigPath
    ) {
        self.whatToSync = whatToSync
        self.volatile = volatile
        self.useOverlay = useOverlay
        self.useBackups = useBackups
        self.backupLimit = backupLimit
        self.hardlinkSafetyCheck = hardlinkSafetyCheck
        self.useRsync = useRsync
        self.sourceFile = sourceFile
    }
}
