import ASDCopy
import ASDSystem
/// Crash recovery (doc/DESIGN.md §5), the engine's decision: a disk copy or snapshot
/// without a live tmpfs copy means asd did not stop cleanly. Leftover mounts
/// go, the snapshot becomes a crash archive (when backups are on; Recovery's
/// `CrashArchive`), and the target is on disk as last written.
extension Engine {
    func recoverUngracefulState() throws(ASDError) {
        try StagingMount.cleanUp(invocation.stagingMountPoint)
        for paths in targets {
            try replayRedoJournals(paths)
            removeLeftoverTempDirectory(paths)
            let running = try keepIfRunning(paths)
            StagingMount.removeLeftoverInsideTarget(paths, running: running)
            if running { continue }
            if let planted = plantedBesideTarget(paths) {
                // Not ours: never followed or removed; nothing of the target is touched.
                log.warning("\(planted.message) Until then asd leaves \(paths.target) alone.")
                continue
            }
            let hasDiskCopy = FileOps.isDirectory(paths.diskCopy)
            let hasSnapshot = FileOps.isDirectory(paths.snapshot)
            guard hasDiskCopy || Snapshot.exists(paths) else {
                // Left by upstream asd's unsync of our overlay, or a killed asd's rollback.
                try removeOverlayLower(paths)
                continue
            }
            log.info("Ungraceful state detected for \(paths.target) so fixing")
            try recover(paths, hasSnapshot: hasSnapshot)
        }
    }

    private func recover(_ paths: TargetPaths, hasSnapshot: Bool) throws(ASDError) {
        // A whole (marked) tmpfs copy no longer served at the target still holds
        // what may exist only in RAM: write it back first. Otherwise the tmpfs
        // side is incomplete or gone: never write it back.
        if FileOps.exists(paths.flag) && MountInfo.isMountPoint(paths.diskCopy) {
            log.warning("\(paths.target) is no longer served from its tmpfs copy \(paths.tmpfsCopy); writing that copy back before recovering.")
            try writeBack(paths)
        }
        try unmountOurs(at: paths)
        for mount in [paths.diskCopy, paths.tmpfsCopy] where MountInfo.isMountPoint(mount) {
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
        // The archive is durable already; this makes the snapshot's removal durable
        // too, so a power cut right after recovery cannot bring the snapshot back
        // (and with it a second, duplicate archive at the next start).
        try ASDError.attempt("flush (syncfs) the filesystem of", paths.parentDirectory) { () throws(Errno) in
            try FileSystemInfo.syncFilesystem(containing: paths.parentDirectory)
        }
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
