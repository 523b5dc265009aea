/// A private, non-recursive bind of a target's parent directory. Through it the
/// target shows its on-disk contents (the tmpfs bind is not carried over), and
/// the temp directory beside it is on the *same mount*, so rename(2) from the
/// temp directory into the target is atomic. (The disk copy is a separate bind
/// mount: renames into it from outside fail with EXDEV, and a copy over the
/// destination instead would not be atomic.)
struct StagingMount {
    let mountPoint: String
    /// The target's on-disk directory, seen through the staging mount.
    let targetView: String
    /// Our temp directory beside the disk copy (`.base-backup_asd-tmp`); nil
    /// when unstaged (temp files then go beside each file, as upstream).
    let tempDirectory: String?
    /// False when the target is a filesystem of its own: then the parent bind
    /// would not show it and asd writes through the disk copy instead.
    let isStaged: Bool

    static func open(for paths: TargetPaths, at mountPoint: String) throws(ASDError) -> StagingMount {
        try cleanUp(mountPoint)
        let parent = paths.parent.isEmpty ? "/" : paths.parent
        let base = TargetPaths.split(paths.target).base
        let sameFilesystem: Bool = {
            guard let disk = try? FileOps.status(paths.diskCopy),
                  let dir = try? FileOps.status(parent) else { return false }
            return disk.device == dir.device
        }()
        guard sameFilesystem else {
            return StagingMount(mountPoint: mountPoint, targetView: paths.diskCopy, tempDirectory: nil, isStaged: false)
        }
        do throws(Errno) {
            try FileOps.makeDirectory(mountPoint, mode: 0o700, uid: 0, gid: 0)
        } catch {
            throw .system(operation: "create the staging directory", path: mountPoint, errno: error)
        }
        do throws(ASDError) {
            try Mount.attempt("bind-mount \(parent) onto", mountPoint) { () throws(Errno) in
                try Mount.bind(source: parent, target: mountPoint, recursive: false)
                try Mount.makePrivate(mountPoint, recursive: false)
            }
        } catch {
            try? FileOps.removeDirectory(mountPoint)
            throw error
        }
        let prefix = mountPoint == "/" ? "" : mountPoint
        let stage = StagingMount(
            mountPoint: mountPoint, targetView: prefix + "/" + base,
            tempDirectory: prefix + "/" + Engine.tempDirName(paths), isStaged: true)
        do throws(ASDError) {
            try stage.prepareTempDirectory()
        } catch {
            stage.close()
            throw error
        }
        return stage
    }

    /// A fresh, empty, root-only temp directory. Anything left in it is an
    /// interrupted copy's temp file (the real file was never replaced), so it goes.
    private func prepareTempDirectory() throws(ASDError) {
        guard let tempDirectory else { return }
        // The parent is the target's parent (often its owner's): made by descriptor,
        // so a symlink swapped in after mkdir is never chowned or chmodded.
        let parent = try RecoveryOps.openParent(of: tempDirectory)
        let name = TargetPaths.split(tempDirectory).base
        do throws(Errno) {
            if FileOps.exists(tempDirectory) { try FileOps.removeTree(tempDirectory) }
            try parent.makeDirectory(name, mode: 0o700)
            try parent.openDirectory(name).setOwnerAndMode(uid: 0, gid: 0, permissions: 0o700)
        } catch {
            throw .system(operation: "prepare the temporary directory", path: tempDirectory, errno: error)
        }
    }

    func close() {
        if isStaged {
            if let tempDirectory { try? FileOps.removeTree(tempDirectory) }
            _ = try? Mount.unmountAll(mountPoint, lazy: true)
        }
        try? FileOps.removeDirectory(mountPoint)
    }

    /// Removes a staging mount left by a killed asd.
    static func cleanUp(_ mountPoint: String) throws(ASDError) {
        if MountInfo.isMountPoint(mountPoint) { try Mount.unmountAll(mountPoint, lazy: true) }
        if FileOps.exists(mountPoint) { try? FileOps.removeDirectory(mountPoint) }
    }
}
