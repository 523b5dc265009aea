import ASDCopy
import ASDSystem
/// A private, non-recursive bind of a target's parent directory. Through it the
/// target shows its on-disk contents (the tmpfs bind is not carried over), and
/// the temp directory beside it is on the *same mount*, so rename(2) from the
/// temp directory into the target is atomic. (The disk copy is a separate bind
/// mount: renames into it from outside fail with EXDEV, and a copy over the
/// destination instead would not be atomic.)
struct StagingMount {
    let mountPoint: FilePath
    /// The target's on-disk directory, seen through the staging mount.
    let targetView: FilePath
    /// Our temp directory (`.base-backup_asd-tmp`): beside the target when
    /// staged; inside the disk copy's root when the target is a mount point of
    /// its own (its file system has no room outside the target; the name is
    /// left out of every copy and removed as a leftover by crash recovery).
    let tempDirectory: FilePath?
    /// False when the target is a mount point of its own (its own file system,
    /// or a bind mount): then the parent bind would show the directory under
    /// that mount, and asd writes through the disk copy instead.
    let isStaged: Bool

    static func open(for paths: TargetPaths, at mountPoint: FilePath) throws(ASDError) -> StagingMount {
        try cleanUp(mountPoint)
        let parent = paths.parentDirectory
        let base = paths.target.lastComponent
        // The disk copy must show the very directory the parent bind will show.
        let sameDirectory: Bool = {
            guard let table = try? MountInfo.current(),
                  let disk = MountInfo.origin(of: paths.diskCopy, in: table),
                  let dir = MountInfo.origin(of: parent, in: table) else { return false }
            return disk == MountOrigin(device: dir.device, root: MountInfo.joinRoot(dir.root, base))
        }()
        guard sameDirectory else {
            return StagingMount(
                mountPoint: mountPoint, targetView: paths.diskCopy,
                tempDirectory: paths.diskCopy.appending(paths.tempDirectoryName), isStaged: false)
        }
        try ASDError.attempt("create the staging directory", mountPoint) { () throws(Errno) in
            try FileOps.makeDirectory(mountPoint, mode: 0o700, uid: 0, gid: 0)
        }
        do throws(ASDError) {
            // The parent is often the target owner's: opened with SafePath and
            // bound by descriptor, so no symlink swapped in on the way is followed.
            let directory = try RecoveryOps.openParent(of: paths.target)
            try Mount.bindPrivate(directory, sourcePath: parent, onto: mountPoint)
            // Reading files to compare them must not write their access times.
            try? Mount.remountBindNoatime(mountPoint)
            try checkShowsDiskCopy(mountPoint.appending(base), paths)
        } catch {
            _ = try? Mount.unmountAll(mountPoint, lazy: true)
            try? FileOps.removeDirectory(mountPoint)
            throw error
        }
        return StagingMount(
            mountPoint: mountPoint, targetView: mountPoint.appending(base),
            tempDirectory: mountPoint.appending(paths.tempDirectoryName), isStaged: true)
    }

    /// The target seen through the new staging mount must be the very directory
    /// the disk copy shows (a mount point: its name cannot be renamed away).
    private static func checkShowsDiskCopy(_ view: FilePath, _ paths: TargetPaths) throws(ASDError) {
        let shown = try? FileOps.status(view)
        let disk = try? FileOps.status(paths.diskCopy)
        guard let shown, let disk, shown.isDirectory, shown.device == disk.device, shown.inode == disk.inode else {
            throw .unexpectedState(path: view, detail: "it is not the directory the disk copy \(paths.diskCopy) shows")
        }
    }

    /// A fresh, empty, root-only temp directory. Anything left in it is an
    /// interrupted copy's temp file (the real file was never replaced), so it goes.
    /// Made by the copier when it first needs it (`LazyTempDirectory`; rsync at
    /// its start), not by `open`: a write-back that writes no file leaves the
    /// file system untouched.
    func prepareTempDirectory() throws(ASDError) {
        guard let tempDirectory else { return }
        // The parent is the target's parent (often its owner's): made by descriptor,
        // so a symlink swapped in after mkdir is never chowned or chmodded.
        let parent = try RecoveryOps.openParent(of: tempDirectory)
        let name = tempDirectory.lastComponent
        try ASDError.attempt("prepare the temporary directory", tempDirectory) { () throws(Errno) in
            if (try? parent.status(name)) != nil { try parent.removeTree(name) }
            try parent.makeDirectory(name, mode: 0o700)
            try parent.openDirectory(name).setOwnerAndMode(uid: 0, gid: 0, permissions: 0o700)
        }
    }

    /// Removes the temp directory, unless `keepingJournals` and it holds a
    /// redo journal (of changes not yet durable, which the next start replays).
    func removeTempDirectory(keepingJournals: Bool) {
        guard let tempDirectory else { return }
        if !keepingJournals || (try? RedoReplay.journals(in: DirectoryHandle(path: tempDirectory)))?.isEmpty ?? true {
            try? FileOps.removeTree(tempDirectory)
        }
    }

    /// Removes the temp directory (see `removeTempDirectory`) and the staging mount.
    func close(keepingJournals: Bool = false) {
        removeTempDirectory(keepingJournals: keepingJournals)
        if isStaged {
            _ = try? Mount.unmountAll(mountPoint, lazy: true)
            try? FileOps.removeDirectory(mountPoint)
        }
    }

    /// The temp directory a killed write-back left inside a target that is a
    /// mount point: in its disk copy while that is mounted, else in the target.
    static func removeLeftoverInsideTarget(_ paths: TargetPaths, running: Bool) {
        for dir in running ? [paths.diskCopy] : [paths.diskCopy, paths.target] {
            let leftover = dir.appending(paths.tempDirectoryName)
            if FileOps.isDirectory(leftover) { try? FileOps.removeTree(leftover) }
        }
    }

    /// Removes a staging mount left by a killed asd.
    static func cleanUp(_ mountPoint: FilePath) throws(ASDError) {
        if MountInfo.isMountPoint(mountPoint) { try Mount.unmountAll(mountPoint, lazy: true) }
        if FileOps.exists(mountPoint) { try? FileOps.removeDirectory(mountPoint) }
    }
}
