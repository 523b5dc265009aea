/// `asd resync`: write every tmpfs copy back to its disk copy, durably.
extension Engine {
    public func resync() throws(ASDError) {
        Signals.install()
        try recoverUngracefulState()
        var failures: [String] = []
        for paths in allPaths where isRunning(paths) {
            do throws(ASDError) {
                try writeBack(paths)
            } catch {
                log.warning("Write-back of \(paths.target) failed; it stays in tmpfs. \(error.message)")
                failures.append(paths.target)
            }
        }
        if !failures.isEmpty {
            throw .writeBackFailed(targets: failures)
        }
        log.info("Resync successful")
    }

    /// Copies one tmpfs copy to disk: never in place, temp files outside the
    /// target, hard-link snapshot untouched, and returns only once it is durable.
    func writeBack(_ paths: TargetPaths) throws(ASDError) {
        let stage = try StagingMount.open(for: paths, at: invocation.daemonFile + ".stage")
        defer { stage.close() }
        log.debug("Writing \(paths.tmpfsCopy) back to \(stage.targetView)")
        if settings.useOverlay || overlayLower(paths) != nil {
            try writeBackOverlay(paths, stage: stage)
        } else {
            try writeBackFull(paths, stage: stage)
        }
        do throws(Errno) {
            try FileSystemInfo.syncFilesystem(containing: stage.targetView)
        } catch {
            throw .system(operation: "flush (syncfs) the filesystem of", path: paths.target, errno: error)
        }
    }

    private func writeBackFull(_ paths: TargetPaths, stage: StagingMount) throws(ASDError) {
        if FileOps.isDirectory(paths.snapshot), let flagged = try? FileOps.status(paths.flag) {
            // Files changed since sync whose disk inode is shared with the snapshot
            // get a fresh inode first, so rsync's in-place metadata updates
            // (chmod, chown, xattrs) cannot alter the snapshot.
            try LinkBreaker.replaceSharedChangedFiles(
                source: paths.tmpfsCopy, destination: stage.targetView,
                changedAfter: flagged.modificationTime, tempDirectory: stage.tempDirectory)
        }
        let command = RsyncCommand(
            .writeBack(from: paths.tmpfsCopy, to: stage.targetView, tempDir: stage.tempDirectory),
            progress: log.showsProgress)
        let outcome = try Rsync.run(command, log: log)
        if outcome.vanishedFiles {
            log.info("Some files in \(paths.target) vanished while being copied; that is normal for a busy directory.")
        }
    }

    private func writeBackOverlay(_ paths: TargetPaths, stage: StagingMount) throws(ASDError) {
        if let lower = overlayLower(paths), lower != paths.snapshot {
            // Mounted by upstream asd (lower = disk copy): copy the merged view
            // the way it does, so its state can still be written back.
            log.debug("Overlay of \(paths.target) has lower \(lower); using a full rsync write-back.")
            try writeBackFull(paths, stage: stage)
            return
        }
        try OverlayWriteBack(
            upper: paths.overlayUpper, merged: paths.tmpfsCopy,
            destination: stage.targetView, tempDirectory: stage.tempDirectory
        ).run()
    }
}
