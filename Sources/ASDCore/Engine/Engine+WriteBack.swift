import ASDCopy
import ASDSystem
/// `asd resync`: write every tmpfs copy back to its disk copy, durably.
extension Engine {
    func resync() throws(ASDError) {
        try recoverUngracefulState()
        let failures = writeBackRunning(targets)
        for (target, error) in failures {
            log.warning("Write-back of \(target) failed; it stays in tmpfs. \(error.message)")
        }
        if !failures.isEmpty {
            throw .writeBackFailed(targets: failures.map(\.target))
        }
        log.notice("Resync successful")
    }

    /// Writes back those of `selected` that are running, notes the times (and
    /// whether each was consistent) and compacts zram: resync's work, shared
    /// with `asd watch`. Returns the failures, in order.
    func writeBackRunning(_ selected: [TargetPaths]) -> [(target: FilePath, error: ASDError)] {
        var failures: [(target: FilePath, error: ASDError)] = []
        var written: [FilePath] = []
        var consistent: [FilePath: Bool] = [:]
        for paths in selected where isRunning(paths) {
            do throws(ASDError) { try restoreDiskOnlyBinds(paths) } catch { log.warning(error.message) }
            do throws(ASDError) {
                consistent[paths.target] = try writeBack(paths)
                written.append(paths.target)
            } catch {
                failures.append((paths.target, error))
            }
        }
        recordWriteBack(of: written, consistent: consistent)
        compactZram()
        return failures
    }

    /// `writeBack(paths)`; a failure is a warning naming the target, which stays
    /// in tmpfs. Whether the write-back was consistent; nil when it failed.
    func writeBackOrWarn(_ paths: TargetPaths) -> Bool? {
        do throws(ASDError) {
            return try writeBack(paths)
        } catch {
            log.warning("Write-back of \(paths.target) failed; it stays in tmpfs. \(error.message)")
            return nil
        }
    }

    /// Copies one tmpfs copy to disk: never in place, temp files outside the
    /// target, hard-link snapshot untouched, and returns only once it is durable.
    /// Returns whether what it wrote existed at one instant (ConsistentWriteBack.swift).
    @discardableResult
    func writeBack(_ paths: TargetPaths) throws(ASDError) -> Bool {
        let attempt = outcomes.begin(paths.target)
        let stagePoint = invocation.stagingMountPoint
        let stage: StagingMount
        do throws(ASDError) {
            stage = try StagingMount.open(for: paths, at: stagePoint)
        } catch {
            throw explain(error, writingBack: paths, stagePoint: stagePoint, staged: true)
        }
        var durable = false, consistent = false
        defer { stage.close(keepingJournals: !durable) }
        let records = blockRecordStore(for: paths)
        do throws(ASDError) {
            let view = try copyView(of: paths)
            log.debug("Writing \(view.source) back to \(stage.targetView)")
            if view.throughVolatile && isOverlay(paths) {
                consistent = try writeBackOverlay(paths, stage: stage, records: records)
            } else {
                consistent = try writeBackConsistently(paths, from: view.source) { (source, _) throws(ASDError) in
                    try writeBackFull(paths, from: source, stage: stage, records: records)
                }
            }
            // Without a redo journal the temp dir can go now, in the same flush as the rest.
            stage.removeTempDirectory(keepingJournals: true)
            try ASDError.attempt("flush (syncfs) the filesystem of", paths.target) { () throws(Errno) in
                try FileSystemInfo.syncFilesystem(containing: stage.targetView)
            }
        } catch {
            throw explain(error, writingBack: paths, stagePoint: stagePoint, staged: stage.isStaged)
        }
        durable = true
        commitBlockRecords(records, of: paths)  // only now: they describe durable data
        outcomes.succeeded(attempt, consistent: consistent)
        return consistent
    }

    /// `changedOnlyIn`: the overlay's upper layer, when the lower one is our
    /// snapshot (see `WriteBackJob.changedOnlyIn`). The temp directory lies
    /// beside the target, never inside it, so only the marker is excluded.
    private func writeBackFull(
        _ paths: TargetPaths, from source: FilePath, stage: StagingMount, changedOnlyIn upper: FilePath? = nil,
        records: BlockRecordStore? = nil
    ) throws(ASDError) {
        var job = WriteBackJob(
            source: source, destination: stage.targetView, tempDirectory: stage.tempDirectory,
            excludedTopNames: [TargetPaths.flagName, paths.tempDirectoryName], changedOnlyIn: upper,
            syncedAt: (try? FileOps.status(paths.flag))?.modificationTime,
            prepareTempDirectory: { () throws(CopyError) in try CopyError.passing(stage.prepareTempDirectory) },
            blockRecords: records)
        job.filter = settings.exclusions.filter(for: paths.target)
        let report = try ASDError.copying { () throws(CopyError) in try copier.writeBack(job) }
        log.debug("Wrote back \(paths.target) (\(copier.name) copier): \(report.summary)")
        if report.vanished > 0 {
            log.info("\(report.vanished) files in \(paths.target) vanished while being copied; that is normal for a busy directory.")
        }
    }

    private func writeBackOverlay(_ paths: TargetPaths, stage: StagingMount, records: BlockRecordStore?) throws(ASDError) -> Bool {
        if let lower = overlayLower(paths), !isOurOverlayLower(lower, of: paths) {
            // Mounted by upstream asd (lower = disk copy): copy the merged view
            // the way it does, so its state can still be written back.
            log.debug("Overlay of \(paths.target) has lower \(lower); writing back the whole merged view.")
            try writeBackFull(paths, from: paths.tmpfsCopy, stage: stage, records: records)
            return false
        }
        return try writeBackConsistently(paths, from: paths.overlayUpper, lower: paths.overlayLower) {
            (source, upper) throws(ASDError) in
            try writeBackFull(paths, from: source, stage: stage, changedOnlyIn: upper, records: records)
        }
    }
}
