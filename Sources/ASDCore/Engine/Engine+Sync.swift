import ASDCopy
import ASDSystem
/// `asd sync`: move every target into tmpfs. Each step is journalled so a
/// failure (error, full tmpfs, SIGTERM) undoes everything done so far.
extension Engine {
    func sync() throws(ASDError) {
        try recoverUngracefulState()
        removeWriteBackRecord() // a stale one from a run that did not end with unsync
        try writeConfigSnapshot()
        let madeZram: Bool
        do throws(ASDError) { madeZram = try prepareZram() } catch {
            removeConfigSnapshot()
            throw error
        }
        do throws(ASDError) { try syncTargets() } catch {
            if madeZram, let number = ownZramDevice() {
                do throws(ASDError) { try removeZram(number) } catch { log.warning(error.message) }
            }
            throw error
        }
    }

    func syncTargets() throws(ASDError) {
        var done: [TargetPaths] = []
        for paths in targets {
            guard FileOps.isDirectory(paths.target) else {
                log.warning("\(paths.target) does not exist; skipping it (its snapshot \(paths.snapshot) is kept).")
                continue
            }
            if isRunning(paths) {
                // Left in tmpfs by a run that lost its daemon file: keep it there.
                log.info("\(paths.target) is already served from its tmpfs copy; writing it back and keeping it there.")
                do throws(ASDError) { try restoreDiskOnlyBinds(paths) } catch { log.warning(error.message) }
                do throws(ASDError) { try writeBack(paths) } catch { log.warning(error.message) }
                done.append(paths)
                continue
            }
            var journal = UndoJournal()
            do throws(ASDError) {
                try syncTarget(paths, journal: &journal)
                done.append(paths)
            } catch {
                let cause = blamingSignal(error, during: "sync of \(paths.target)")
                let failure = rollBack(failing: paths, journal: journal, completed: done, cause: cause)
                removeConfigSnapshot()
                throw failure
            }
        }
        do throws(ASDError) {
            // A signal that came after the last target's last step still means "stop".
            try checkInterrupted("sync")
            try writeAtomically(invocation.daemonFile, contents: [])
        } catch {
            let failure = rollBack(failing: nil, journal: UndoJournal(), completed: done, cause: error)
            removeConfigSnapshot()
            throw failure
        }
        log.notice("Sync successful")
        enforceBackupLimit()
    }

    /// One target, upstream's order: dirs, bind target onto the disk copy,
    /// snapshot, fill tmpfs (copy or overlay), flag, bind tmpfs onto the target.
    func syncTarget(_ paths: TargetPaths, journal: inout UndoJournal) throws(ASDError) {
        let owner = try statOrThrow(paths.target, doing: "read the owner and mode of")
        log.debug("Syncing \(paths.target) -> \(paths.tmpfsCopy)")
        try refusePlantedBesideTarget(paths)

        try makeOwnedDirectory(paths.tmpfsCopy, like: owner, journal: &journal, underVolatile: true)
        try makeOwnedDirectory(paths.diskCopy, like: owner, journal: &journal, underVolatile: false)
        try checkInterrupted("sync of \(paths.target)")

        try Mount.bindPrivateNoatimeByDescriptor(source: paths.target, target: paths.diskCopy)
        journal.record(.unmount(paths.diskCopy))
        try checkInterrupted("sync of \(paths.target)")

        let diskOnly = try checkDiskOnly(paths)
        var snapshotRoot: FileStatus?
        if settings.useBackups || settings.useOverlay {
            log.debug("Creating hard-link snapshot \(paths.snapshot)")
            let made = try Snapshot.take(paths, filter: settings.exclusions.filter(for: paths.target))
            snapshotRoot = made
            journal.record(.removeSnapshot(paths.snapshot, made: made))
            try checkInterrupted("sync of \(paths.target)")
        }

        if settings.useOverlay, let snapshotRoot {
            try makeOwnedDirectory(paths.overlayUpper, like: owner, journal: &journal, underVolatile: true)
            try makeOwnedDirectory(paths.overlayWork, like: owner, journal: &journal, underVolatile: true)
            try bindOverlayLower(paths, snapshot: snapshotRoot, journal: &journal)
            try checkInterrupted("sync of \(paths.target)")
            // Every layer is now a path in asd's root-only directories under
            // VOLATILE (the lower one a bind of the snapshot by descriptor):
            // nobody else can put anything in their place, so mount(2) may
            // resolve them by path.
            try Mount.overlay(lower: paths.overlayLower, upper: paths.overlayUpper, work: paths.overlayWork, at: paths.tmpfsCopy)
            journal.record(.unmount(paths.tmpfsCopy))
        } else {
            try checkRoom(for: paths)
            log.debug("Copying \(paths.target) into tmpfs")
            try fillTmpfs(paths)
        }
        try makeDiskOnlyMountPoints(paths, diskOnly)
        try checkInterrupted("sync of \(paths.target)")

        // The flag goes in before the target is redirected, so no application
        // can write into a tmpfs copy that is not marked as live.
        try writeAtomically(paths.flag, contents: [])
        try Mount.bindPrivateNoatimeByDescriptor(source: paths.tmpfsCopy, target: paths.target)
        journal.record(.unmountOurs(paths))
        try bindDiskOnly(paths, diskOnly)
        log.debug("\(paths.target) is now in tmpfs")
    }

    /// Refuses early when VOLATILE cannot hold the target (tmpfs rounds every
    /// file up to a page).
    func checkRoom(for paths: TargetPaths) throws(ASDError) {
        // DISK_ONLY directories stay on disk: they take no room in tmpfs.
        let needed = diskOnlyEntries(paths).reduce(tmpfsFootprint(of: paths.diskCopy)) {
            $0 - min($0, tmpfsFootprint(of: paths.diskCopy.appending($1.relative)))
        }
        guard let free = (try? FileSystemInfo.of(settings.volatile))?.availableBytes else { return }
        if needed > free {
            throw .noSpace(volatile: settings.volatile, target: paths.target, freeBytes: free, neededBytes: needed)
        }
    }

    func fillTmpfs(_ paths: TargetPaths) throws(ASDError) {
        do throws(ASDError) {
            let report = try ASDError.copying { () throws(CopyError) in
                try copier.fill(
                    from: paths.diskCopy, into: paths.tmpfsCopy, excludedTopNames: [paths.tempDirectoryName],
                    filter: settings.exclusions.filter(for: paths.target))
            }
            log.debug("Filled \(paths.tmpfsCopy) (\(copier.name) copier): \(report.summary)")
            if report.vanished > 0 {
                log.info("\(report.vanished) files in \(paths.target) vanished while being copied; that is normal for a directory in use.")
            }
        } catch {
            // A full tmpfs shows up as a failed write; say so with sizes.
            if let free = (try? FileSystemInfo.of(settings.volatile))?.availableBytes, free < 1 << 20 {
                throw .noSpace(volatile: settings.volatile, target: paths.target,
                               freeBytes: free, neededBytes: tmpfsFootprint(of: paths.diskCopy))
            }
            throw error
        }
    }

    /// `$DAEMON_FILE.conf`: the config in force until unsync, exactly the
    /// bytes that were parsed into `settings` (the file is not read again).
    func writeConfigSnapshot() throws(ASDError) {
        if FileOps.exists(invocation.configSnapshotPath) { return }
        try writeAtomically(invocation.configSnapshotPath, contents: settings.sourceBytes)
    }

    func removeConfigSnapshot() {
        try? FileOps.unlink(invocation.configSnapshotPath)
    }
}
