import ASDCopy
import ASDSystem
/// Every path asd uses for one sync target, named exactly as upstream asd 6.0
/// names them (doc/DESIGN.md §3), so either implementation can take over the other's
/// state. Worked out once per run (`Engine.targets`); every derived name is
/// a member here, never built by callers. Paths are bytes (`FilePath`).
struct TargetPaths: Equatable, Sendable {
    /// The managed directory, e.g. /srv/http.
    let target: FilePath
    /// Owner's user name (from the target, or the disk copy while running).
    let user: String
    /// `parent/.base-backup_asd` (no extra dot when base starts with '.').
    let diskCopy: FilePath
    /// `parent/.base-backup_asd-old`: hardlink snapshot of the sync-time state.
    let snapshot: FilePath
    /// `$VOLATILE/<instance>-USER/abs/path`.
    let tmpfsCopy: FilePath
    /// Overlay upper dir: tmpfs copy + `-rw`.
    let overlayUpper: FilePath
    /// Overlay work dir: `$VOLATILE/.<instance>-USER/abs/path`.
    let overlayWork: FilePath
    /// Overlay lower dir, asd's own (not upstream's): the snapshot bound
    /// read-only, by descriptor, at `$VOLATILE/.lower-<instance>-USER/abs/path`,
    /// so mount(2) never resolves a path in the target owner's directory.
    /// Every other top-level name asd or upstream makes in VOLATILE starts
    /// with "asd" or ".asd" (an instance name starts with "asd"), so this one
    /// cannot be any of them, and below it lie only absolute target paths,
    /// which are never nested: a lower dir is never inside another's.
    let overlayLower: FilePath

    static let crashRecoverySuffix = "crashrecovery"
    static let flagName: FilePath = runningMarkerName

    init(target: FilePath, user: String, volatile: FilePath, instance: String) {
        self.target = target
        self.user = user
        let (parent, base) = target.split
        let dotted: FilePath = base.hasPrefix(".") ? base : "." + base
        self.diskCopy = "\(parent)/\(dotted)-backup_asd"
        self.snapshot = diskCopy + "-old"
        self.tmpfsCopy = "\(volatile)/\(instance)-\(user)\(target)"
        self.overlayUpper = tmpfsCopy + "-rw"
        self.overlayWork = "\(volatile)/.\(instance)-\(user)\(target)"
        self.overlayLower = "\(volatile)/.lower-\(instance)-\(user)\(target)"
    }

    /// `.flagged` inside the tmpfs copy: present while asd runs cleanly.
    var flag: FilePath { tmpfsCopy.appending(Self.flagName) }

    /// The directory holding the target, its disk copy, snapshot and archives
    /// (bash's `${DIR%/*}`: "" for a top-level target).
    var parent: FilePath { target.parent }

    /// `parent`, or "/" for a top-level target: for a syscall.
    var parentDirectory: FilePath { parent.isEmpty ? "/" : parent }

    /// The snapshot's name while it is built or deleted (never archived).
    var snapshotPartial: FilePath { snapshot + ".partial" }

    /// Name of the copier's temp directory beside the disk copy.
    var tempDirectoryName: FilePath { diskCopy.lastComponent + "-tmp" }

    /// `parent/.base-backup_asd-tmp`: where write-back builds new files.
    var tempDirectory: FilePath { "\(parent)/\(tempDirectoryName)" }

    /// File-name prefix of crash archives: `.base-backup_asd-crashrecovery-`.
    var archivePrefix: FilePath {
        diskCopy.lastComponent + "-" + Self.crashRecoverySuffix + "-"
    }

    /// Archive path for a timestamp formatted `YYYYmmdd_HHMMSS`.
    func archive(stamp: String) -> FilePath {
        diskCopy + "-\(Self.crashRecoverySuffix)-\(stamp).tar.zstd"
    }
}
