import ASDCopy
import ASDSystem
/// The lifecycle engine: sync, resync and unsync in upstream's order (doc/DESIGN.md §4),
/// plus rollback and crash recovery. Reports through `Log`; never formats output.
struct Engine: Sendable {
    let settings: Settings
    let invocation: Invocation
    let log: Log
    /// Every target's paths, worked out once for this run (config order).
    let targets: [TargetPaths]
    /// What copies the files (built-in or rsync), chosen once from `settings`.
    let copier: any TreeCopier
    /// What each write-back attempt of this run did, for the metrics.
    public let outcomes = WriteBackOutcomes()

    init(settings configured: Settings, invocation: Invocation, log: Log) {
        // USE_ZRAM: the layout's VOLATILE is the zram mount (Engine+Zram.swift).
        var settings = configured
        if let zram = configured.zram { settings.volatile = zram.mountPoint(instance: invocation.instanceName) }
        self.settings = settings
        self.invocation = invocation
        self.log = log
        self.targets = settings.whatToSync.map {
            Self.paths(for: $0, volatile: settings.volatile, instance: invocation.instanceName)
        }
        self.copier = Self.makeCopier(settings, log: log)
    }

    /// Paths for `target`; the owner comes from the disk copy when it exists
    /// (the target may be hidden by a dead mount), else from the target.
    static func paths(for target: FilePath, volatile: FilePath, instance: String) -> TargetPaths {
        let probe = TargetPaths(target: target, user: "", volatile: volatile, instance: instance)
        let owner = (try? FileOps.status(probe.diskCopy)).flatMap { $0.isDirectory ? $0 : nil }
            ?? (try? FileOps.status(target))
        let user = owner.map { FileOps.userName(uid: $0.uid) } ?? "UNKNOWN"
        return TargetPaths(target: target, user: user, volatile: volatile, instance: instance)
    }

    /// True while `paths` is in the healthy running state: the target is served
    /// from our tmpfs copy (by the mount table) and the copy carries `.flagged`.
    func isRunning(_ paths: TargetPaths) -> Bool {
        (try? state(of: paths)) == .running
    }

    /// The overlay's lower dir, from mountinfo, when the tmpfs copy is an overlay.
    func overlayLower(_ paths: TargetPaths) -> FilePath? {
        MountInfo.overlayLowerDir(at: paths.tmpfsCopy)
    }

    /// True when `paths` runs (or is to run) as an overlay: by this config, or
    /// by the mount table (an overlay left by upstream asd or another config).
    func isOverlay(_ paths: TargetPaths) -> Bool {
        settings.useOverlay || overlayLower(paths) != nil
    }

    /// Fails unless `name` is on PATH.
    static func requireTool(_ name: String, package: String) throws(ASDError) {
        if Subprocess.which(name) == nil { throw .missingTool(name: name, package: package) }
    }

    /// Tools every state-changing command needs.
    func checkDependencies() throws(ASDError) {
        try ASDError.copying { () throws(CopyError) in try copier.checkAvailable() }
        if settings.useBackups {
            try Self.requireTool("tar", package: "tar")
            try Self.requireTool("zstd", package: "zstd")
        }
        if settings.useOverlay && !FileSystemInfo.overlaySupported() {
            throw .overlayUnsupported
        }
    }

    /// VOLATILE must exist and be tmpfs or zram.
    func checkVolatile() throws(ASDError) {
        if let zram = settings.zram {
            guard FileOps.isDirectory(zram.hostVolatile) else { throw .volatileMissing(path: zram.hostVolatile) }
            return
        }
        _ = try FileSystemInfo.requireVolatile(settings.volatile)
    }

    /// Every target must be a directory (a missing one is tolerated when its
    /// snapshot exists, as upstream); hard links are refused unless disabled.
    /// The check is skipped while a snapshot of ours (whole or `.partial`, left by
    /// a crash while it was built or deleted) shares the target's inodes: crash
    /// recovery runs after this check and removes it.
    /// `hardLinkedFiles` counts a target's hard-linked regular files (nil when
    /// the tree cannot be walked, which passes the check, as before); parse
    /// hands in the counts of the walk it does anyway for the sizes. Only when
    /// it finds some is the tree walked again, in order, for the example to show.
    func checkTargets(
        hardLinkedFiles: (FilePath) -> Int? = { try? FileOps.summarize($0).hardLinkedFiles }
    ) throws(ASDError) {
        let table = try mountTable()
        for paths in targets {
            try checkLayout(paths, in: table)
            let snapshotExists = FileOps.isDirectory(paths.snapshot)
            let ourLinks = Snapshot.exists(paths)
            guard let status = try? FileOps.status(paths.target) else {
                if snapshotExists { continue }
                throw .targetMissing(path: paths.target, file: settings.sourceFile)
            }
            guard status.isDirectory else {
                throw .targetNotDirectory(path: paths.target, file: settings.sourceFile)
            }
            if settings.hardlinkSafetyCheck && !ourLinks && !isRunning(paths),
               let count = hardLinkedFiles(paths.target), count > 0,
               let found = try? FileOps.firstHardLinkedFile(in: paths.target) ?? nil {
                throw .hardLinks(target: paths.target, example: found.example, count: found.count)
            }
        }
    }
}
