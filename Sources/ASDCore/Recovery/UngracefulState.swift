/// Crash recovery (SPEC §4): a disk copy or snapshot without a live tmpfs copy
/// means asd did not stop cleanly. Leftover mounts go, the snapshot becomes a
/// crash archive (when backups are on), and the target is on disk as last written.
extension Engine {
    func recoverUngracefulState() throws(ASDError) {
        try StagingMount.cleanUp(invocation.daemonFile + ".stage")
        for paths in allPaths {
            try replayRedoJournals(paths)
            removeLeftoverTempDirectory(paths)
            if isRunning(paths) { continue }
            let hasDiskCopy = FileOps.isDirectory(paths.diskCopy)
            let hasSnapshot = FileOps.isDirectory(paths.snapshot)
            let hasPartial = FileOps.exists(paths.snapshot + ".partial")
            guard hasDiskCopy || hasSnapshot || hasPartial else { continue }
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
        if hasSnapshot {
            if settings.useBackups {
                let archive = freeArchiveName(paths)
                log.info("Saving the sync-time snapshot of \(paths.target) as \(archive)")
                try CrashArchive.create(snapshot: paths.snapshot, archivePath: archive, log: log)
            }
        }
        try discardSnapshot(paths)
        try removeDiskCopyDirectory(paths)
    }

    /// The archive name for now, or for the next second whose name is free: two
    /// recoveries within one second (a crash right after a recovery) must not
    /// fail on "a file of that name already exists".
    private func freeArchiveName(_ paths: TargetPaths) -> String {
        var time = LocalTime.now()
        var archive = paths.archive(stamp: CrashArchive.stamp(for: time))
        while FileOps.exists(archive) {
            time += 1
            archive = paths.archive(stamp: CrashArchive.stamp(for: time))
        }
        return archive
    }

    /// parent/.base-backup_asd-tmp holds only interrupted temp copies of ours.
    private func removeLeftoverTempDirectory(_ paths: TargetPaths) {
        let temp = (paths.parent.isEmpty ? "" : paths.parent) + "/" + Self.tempDirName(paths)
        if FileOps.exists(temp) && !MountInfo.isMountPoint(temp) {
            try? FileOps.removeTree(temp)
        }
    }

    /// Keeps the newest BACKUP_LIMIT crash archives of every target.
    func enforceBackupLimit() {
        for paths in allPaths {
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
