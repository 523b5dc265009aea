import ASDCopy
import ASDSystem
/// `asd unsync`: a final write-back, then every target is put back on disk.
extension Engine {
    func unsync() throws(ASDError) {
        try recoverUngracefulState()
        var failures: [FilePath] = []
        var notPutBack: [FilePath] = []
        var keptMounted = false
        var written: [FilePath] = []
        for paths in targets where isRunning(paths) {
            // Never take a target out of tmpfs when its data is not on disk.
            guard writeBackOrWarn(paths) != nil else {
                failures.append(paths.target)
                keptMounted = true
                continue
            }
            written.append(paths.target)
            // From here the step runs to its end: a half-unmounted target is worse
            // than a late exit.
            do throws(ASDError) {
                try putBackOnDisk(paths)
            } catch {
                log.warning(error.message)
                notPutBack.append(paths.target)
            }
        }
        if !keptMounted {
            // Last, so an interrupted unsync can simply be run again.
            if notPutBack.isEmpty { try removeOwnZram() }
            try? FileOps.unlink(invocation.daemonFile)
            removeConfigSnapshot()
            removeWriteBackRecord()
        } else {
            recordWriteBack(of: written)
        }
        if !failures.isEmpty { throw .writeBackFailed(targets: failures + notPutBack) }
        if !notPutBack.isEmpty { throw .putBackFailed(targets: notPutBack) }
        log.notice("Unsync successful")
    }

    /// Unmounts the target and its disk copy and removes what asd made.
    /// Called only after a successful write-back.
    func putBackOnDisk(_ paths: TargetPaths) throws(ASDError) {
        log.debug("Putting \(paths.target) back on disk")
        // Only asd's own mounts: a target that is a mount point keeps the user's.
        try unmountOurs(at: paths)
        if MountInfo.isMountPoint(paths.diskCopy) {
            try unmountOrDetach(paths.diskCopy)
        }
        if MountInfo.isMountPoint(paths.tmpfsCopy) {
            try unmountOrDetach(paths.tmpfsCopy)
        }
        // The overlay's lower bind shows the snapshot: gone before the snapshot is.
        try removeOverlayLower(paths)
        // Two unrelated trees on two file systems: delete them side by side.
        try Concurrently.run { () throws(ASDError) in
            try removeVolatileCopies(paths)
        } and: { () throws(ASDError) in
            try Snapshot.discard(paths)
        }
        try removeDiskCopyDirectory(paths)
        // The write-back was flushed already; this makes the removal of the snapshot
        // and the disk-copy directory durable too, so a power cut right after unsync
        // cannot bring them back (and with them a spurious crash recovery).
        try ASDError.attempt("flush (syncfs) the filesystem of", paths.parentDirectory) { () throws(Errno) in
            try FileSystemInfo.syncFilesystem(containing: paths.parentDirectory)
        }
    }

    /// The overlay's lower bind, then the tmpfs copy, overlay upper and work
    /// dirs, and their empty parents (the overlay is unmounted already).
    func removeVolatileCopies(_ paths: TargetPaths) throws(ASDError) {
        try removeOverlayLower(paths)
        removeBlockRecords(of: paths)
        for dir in [paths.tmpfsCopy, paths.overlayUpper, paths.overlayWork] where FileOps.exists(dir) {
            if MountInfo.isMountPoint(dir) {
                throw .unexpectedState(path: dir, detail: "it is still a mount point; unmount it first")
            }
            try removeTreeOrThrow(dir)
            removeEmptyParents(of: dir)
        }
    }

    /// rmdir of the (now unmounted, empty) disk copy; never recursive.
    func removeDiskCopyDirectory(_ paths: TargetPaths) throws(ASDError) {
        guard FileOps.exists(paths.diskCopy) else { return }
        if MountInfo.isMountPoint(paths.diskCopy) {
            throw .unexpectedState(path: paths.diskCopy, detail: "it is still mounted")
        }
        try ASDError.attempt("remove the empty disk-copy directory", paths.diskCopy) { () throws(Errno) in
            try FileOps.removeDirectory(paths.diskCopy)
        }
    }
}
