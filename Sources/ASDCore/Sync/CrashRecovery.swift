/// Crash recovery (SPEC §4), the engine's decision: a disk copy or snapshot
/// without a live tmpfs copy means asd did not stop cleanly. Leftover mounts
/// go, the snapshot becomes a crash archive (when backups are on; Recovery's
/// `CrashArchive`), and the target is on disk as last written.
extension Engine {
    func recoverUngracefulState() throws(ASDError) {
        try StagingMount.cleanUp(invocation.stagingMountPoint)
        for paths in targets {
            removeLeftoverTempDirectory(paths)
            if isRunning(paths) { continue }
            let hasDiskCopy = FileOps.isDirectory(paths.diskCopy)
            let hasSnapshot = FileOps.isDirectory(paths.snapshot)
            guard hasDiskCopy || Snapshot.exists(paths) else { continue }
            log.info("Ungraceful state detected for \(paths.target) so fixing")
            try recover(paths, hasSnapshot: hasSnapshot)
        }
    }

    private func recover(_ paths: TargetPaths, hasSnapshot: Bool) throws(ASDError) {
        // The tmpfs side is incomplete or gone: never write it back.
        for mount in [paths.target, paths.diskCopy, paths.tmpfsCopy] where MountInfo.isMountPoint(mount) {
            try unmountOrDetach(mount)
        }
        try removeVolatileCopies(paths)
        if hasSnapshot && settings.useBackups {
            let archive = CrashArchive.freeName(for: paths)
            log.info("Saving the sync-time snapshot of \(paths.target) as \(archive)")
            try CrashArchive.create(snapshot: paths.snapshot, archivePath: archive, log: log)
        }
        try Snapshot.discard(paths)
        try removeDiskCopyDirectory(paths)
    }

    /// parent/.base-backup_asd-tmp holds only interrupted temp copies of ours.
    private func removeLeftoverTempDirectory(_ paths: TargetPaths) {
        if FileOps.exists(paths.tempDirectory) && !MountInfo.isMountPoint(paths.tempDirectory) {
            try? FileOps.removeTree(paths.tempDirectory)
        }
    }

    /// Keeps the newest BACKUP_LIMIT crash archives of every target.
    func enforceBackupLimit() {
        for paths in targets {
            do throws(ASDError) {
                for removed in try Retention.enforceLimit(settings.backupLimit, paths: paths) {
                    log.debug("Removed old crash archive \(removed)")
                }
            } catch {
                log.warning(error.message)
            }
        }
    }
}
