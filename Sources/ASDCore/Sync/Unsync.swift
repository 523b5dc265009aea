/// `asd unsync`: a final write-back, then every target is put back on disk.
extension Engine {
    public func unsync() throws(ASDError) {
        Signals.install()
        try recoverUngracefulState()
        var failures: [String] = []
        var keptMounted = false
        for paths in allPaths where isRunning(paths) {
            do throws(ASDError) {
                try writeBack(paths)
            } catch {
                // Never take a target out of tmpfs when its data is not on disk.
                log.warning("Write-back of \(paths.target) failed, so it stays in tmpfs. \(error.message)")
                failures.append(paths.target)
                keptMounted = true
                continue
            }
            // From here the step runs to its end: a half-unmounted target is worse
            // than a late exit.
            do throws(ASDError) {
                try putBackOnDisk(paths)
            } catch {
                log.warning(error.message)
                failures.append(paths.target)
            }
        }
        if !keptMounted {
            // Last, so an interrupted unsync can simply be run again.
            try? FileOps.unlink(invocation.daemonFile)
            removeConfigSnapshot()
        }
        if !failures.isEmpty { throw .writeBackFailed(targets: failures) }
        log.info("Unsync successful")
    }

    /// Unmounts the target and its disk copy and removes what asd made.
    /// Called only after a successful write-back.
    func putBackOnDisk(_ paths: TargetPaths) throws(ASDError) {
        log.debug("Putting \(paths.target) back on disk")
        if MountInfo.isMountPoint(paths.target) {
            try unmountOrDetach(paths.target)
        }
        if MountInfo.isMountPoint(paths.diskCopy) {
            try unmountOrDetach(paths.diskCopy)
        }
        if MountInfo.isMountPoint(paths.tmpfsCopy) {
            try unmountOrDetach(paths.tmpfsCopy)
        }
        // Two unrelated trees on two file systems: delete them side by side.
        try Concurrently.run { () throws(ASDError) in
            try removeVolatileCopies(paths)
        } and: { () throws(ASDError) in
            try discardSnapshot(paths)
        }
        try removeDiskCopyDirectory(paths)
        // The write-back was flushed already; this makes the removal of the snapshot
        // and the disk-copy directory durable too, so a power cut right after unsync
        // cannot bring them back (and with them a spurious crash recovery).
        do throws(Errno) {
            try FileSystemInfo.syncFilesystem(containing: paths.parent.isEmpty ? "/" : paths.parent)
        } catch {
            throw .system(operation: "flush (syncfs) the filesystem of", path: paths.parent, errno: error)
        }
    }

    /// tmpfs copy, overlay upper and work dirs, and their empty parents.
    func removeVolatileCopies(_ paths: TargetPaths) throws(ASDError) {
        for dir in [paths.tmpfsCopy, paths.overlayUpper, paths.overlayWork] where FileOps.exists(dir) {
            if MountInfo.isMountPoint(dir) {
                throw .unexpectedState(path: dir, detail: "it is still a mount point; unmount it first")
            }
            try removeTreeOrThrow(dir)
            removeEmptyParents(of: dir)
        }
    }

    /// Renames the snapshot out of the way, then deletes it, so a crash half-way
    /// never leaves a partial snapshot under the name recovery would archive.
    func discardSnapshot(_ paths: TargetPaths) throws(ASDError) {
        let doomed = paths.snapshot + ".partial"
        if FileOps.exists(paths.snapshot) {
            if FileOps.exists(doomed) { try removeTreeOrThrow(doomed) }
            try Snapshot.rename(paths.snapshot, to: doomed)
        }
        if FileOps.exists(doomed) { try removeTreeOrThrow(doomed) }
    }

    /// rmdir of the (now unmounted, empty) disk copy; never recursive.
    func removeDiskCopyDirectory(_ paths: TargetPaths) throws(ASDError) {
        guard FileOps.exists(paths.diskCopy) else { return }
        if MountInfo.isMountPoint(paths.diskCopy) {
            throw .unexpectedState(path: paths.diskCopy, detail: "it is still mounted")
        }
        do throws(Errno) {
            try FileOps.removeDirectory(paths.diskCopy)
        } catch {
            throw .system(operation: "remove the empty disk-copy directory", path: paths.diskCopy, errno: error)
        }
    }
}
