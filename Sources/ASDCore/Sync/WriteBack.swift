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
        var durable = false
        defer { stage.close(keepingJournals: !durable) }
        log.debug("Writing \(paths.tmpfsCopy) back to \(stage.targetView)")
        if settings.useOverlay || overlayLower(paths) != nil {
            try writeBackOverlay(paths, stage: stage)
        } else {
            try writeBackFull(paths, stage: stage)
        }
        // Without a redo journal the temp dir can go now, in the same flush as the rest.
        stage.removeTempDirectory(keepingJournals: true)
        do throws(Errno) {
            try FileSystemInfo.syncFilesystem(containing: stage.targetView)
        } catch {
            throw .system(operation: "flush (syncfs) the filesystem of", path: paths.target, errno: error)
        }
        durable = true
    }

    /// `changedOnlyIn`: the overlay's upper layer, when the lower one is our
    /// snapshot (see `TreeMirror.changedOnlyIn`). The temp directory lies
    /// beside the target, never inside it, so only the marker is excluded.
    private func writeBackFull(_ paths: TargetPaths, stage: StagingMount, changedOnlyIn upper: String? = nil) throws(ASDError) {
        var mirror = TreeMirror(
            source: paths.tmpfsCopy, destination: stage.targetView,
            mode: .update(tempDirectory: stage.tempDirectory), excludedTopNames: [TargetPaths.flagName], log: log)
        mirror.changedOnlyIn = upper
        let report = try mirror.run()
        log.debug("Wrote \(report.files) entries (\(formatBytes(UInt64(report.bytes)))) and deleted \(report.deleted) in \(paths.target)")
        if report.vanished > 0 {
            log.info("\(report.vanished) files in \(paths.target) vanished while being copied; that is normal for a busy directory.")
        }
    }

    private func writeBackOverlay(_ paths: TargetPaths, stage: StagingMount) throws(ASDError) {
        if let lower = overlayLower(paths), lower != paths.snapshot {
            // Mounted by upstream asd (lower = disk copy): copy the merged view
            // the way it does, so its state can still be written back.
            log.debug("Overlay of \(paths.target) has lower \(lower); writing back the whole merged view.")
            try writeBackFull(paths, stage: stage)
            return
        }
        try writeBackFull(paths, stage: stage, changedOnlyIn: paths.overlayUpper)
    }
}
