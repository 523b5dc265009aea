/// Every path asd uses for one sync target, named exactly as upstream asd 6.0
/// names them (SPEC §3), so either implementation can take over the other's state.
public struct TargetPaths: Equatable, Sendable {
    /// The managed directory, e.g. /srv/http.
    public let target: String
    /// Owner's user name (from the target, or the disk copy while running).
    public let user: String
    /// `parent/.base-backup_asd` (no extra dot when base starts with '.').
    public let diskCopy: String
    /// `parent/.base-backup_asd-old`: hardlink snapshot of the sync-time state.
    public let snapshot: String
    /// `$VOLATILE/<instance>-USER/abs/path`.
    public let tmpfsCopy: String
    /// Overlay upper dir: tmpfs copy + `-rw`.
    public let overlayUpper: String
    /// Overlay work dir: `$VOLATILE/.<instance>-USER/abs/path`.
    public let overlayWork: String

    public static let crashRecoverySuffix = "crashrecovery"
    public static let flagName = ".flagged"

    public init(target: String, user: String, volatile: String, instance: String) {
        self.target = target
        self.user = user
        let (parent, base) = Self.split(target)
        let dotted = base.hasPrefix(".") ? base : "." + base
        self.diskCopy = parent + "/" + dotted + "-backup_asd"
        self.snapshot = diskCopy + "-old"
        self.tmpfsCopy = volatile + "/" + instance + "-" + user + target
        self.overlayUpper = tmpfsCopy + "-rw"
        self.overlayWork = volatile + "/." + instance + "-" + user + target
    }

    /// `.flagged` inside the tmpfs copy: present while asd runs cleanly.
    public var flag: String { tmpfsCopy + "/" + Self.flagName }

    /// The directory holding the target, its disk copy, snapshot and archives.
    public var parent: String { Self.split(target).parent }

    /// File-name prefix of crash archives: `.base-backup_asd-crashrecovery-`.
    public var archivePrefix: String {
        String(diskCopy[diskCopy.index(after: diskCopy.lastIndex(of: "/")!)...]) + "-" + Self.crashRecoverySuffix + "-"
    }

    /// Archive path for a timestamp formatted `YYYYmmdd_HHMMSS`.
    public func archive(stamp: String) -> String {
        diskCopy + "-" + Self.crashRecoverySuffix + "-" + stamp + ".tar.zstd"
    }

    /// Splits like bash's `${DIR%/*}` and `${DIR##*/}`.
    static func split(_ path: String) -> (parent: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (path, path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }
}
