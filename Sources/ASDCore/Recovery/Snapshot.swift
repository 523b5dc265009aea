import ASDCopy
import ASDSystem
/// The hardlink snapshot `parent/.base-backup_asd-old` taken at sync (doc/DESIGN.md §3, §4):
/// a tree that costs no data space because every regular file is a hard link
/// to the target's own inode, while directories, symlinks and special files
/// are fresh copies carrying the sync-time metadata. Resyncs replace files in
/// the disk copy by new inodes (never in place), so the snapshot keeps the
/// sync-time state that a crash archive is made from.
///
/// Same result as upstream's `rsync -aX --no-links --link-dest=DIR DIR/ OLD/`
/// plus its separate symlink copy, with these choices:
/// - fifos, sockets and device nodes are re-created with mknod(2) (rsync -a
///   does the same with --specials/--devices), so tar sees them as they were;
/// - a mount point inside the source is re-created as an empty directory and
///   not entered (its files could not be hard-linked: EXDEV);
/// - a file with too many links for one more (EMLINK), or on another filesystem
///   than the snapshot (EXDEV: the target is a mount point), is copied instead;
/// - what RAM_ONLY and DISK_ONLY keep out (`ExclusionFilter`) is left out, so the
///   overlay's lower layer never shows it and no crash archive holds it
///   (doc/DESIGN.md §2, "RAM_ONLY and DISK_ONLY").
enum Snapshot {
    /// Takes the snapshot of `paths.target` at `paths.snapshot`: built under
    /// `snapshotPartial` and renamed when whole, so a crash never leaves a
    /// partial snapshot under the name recovery archives. A stale snapshot
    /// (whole or partial) is removed first. Returns the status of the snapshot's
    /// root as made (its device and inode identify it later, whatever its name).
    @discardableResult
    static func take(_ paths: TargetPaths, filter: ExclusionFilter = .none) throws(ASDError) -> FileStatus {
        try remove(paths.snapshotPartial)
        try remove(paths.snapshot)
        let root = try create(of: paths.target, at: paths.snapshotPartial, filter: filter)
        do throws(ASDError) {
            try rename(paths.snapshotPartial, to: paths.snapshot)
        } catch {
            try? remove(paths.snapshotPartial)
            throw error
        }
        return root
    }

    /// Deletes the snapshot of `paths`: renamed to `snapshotPartial` first,
    /// so a crash half-way never leaves a partial snapshot under the name
    /// recovery would archive. Nothing there is success.
    static func discard(_ paths: TargetPaths) throws(ASDError) {
        if FileOps.exists(paths.snapshot) {
            try remove(paths.snapshotPartial)
            try rename(paths.snapshot, to: paths.snapshotPartial)
        }
        try remove(paths.snapshotPartial)
    }

    /// True when a snapshot of ours (whole or partial) shares the target's inodes.
    static func exists(_ paths: TargetPaths) -> Bool {
        FileOps.isDirectory(paths.snapshot) || FileOps.exists(paths.snapshotPartial)
    }

    /// Builds the snapshot of directory `source` at `destination`, which
    /// must not exist (remove a stale one first) and must be on the same
    /// mount as `source` (link(2) does not work across mounts, not even
    /// bind mounts of one file system). On failure nothing is left behind.
    /// What `filter` excludes (relative to `source`) is neither linked nor entered.
    ///
    /// Both parents usually belong to the target's owner (doc/DESIGN.md §7): they are
    /// reached with `SafePath`, the snapshot directory is made with mkdirat(2)
    /// and opened O_NOFOLLOW relative to its parent, and its own owner, mode,
    /// times and xattrs are set through that descriptor, never by path.
    @discardableResult
    static func create(of source: FilePath, at destination: FilePath, filter: ExclusionFilter = .none) throws(ASDError) -> FileStatus {
        let sourceRoot: DirectoryHandle
        let parent: DirectoryHandle
        do throws(SafePath.Failure) {
            sourceRoot = try DirectoryHandle.safelyOpening(source)
            parent = try SafePath.openDirectory(destination.directory)
        } catch {
            throw ASDError(error)
        }
        let rootStatus = try ASDError.attempt("read the snapshot source", source) { () throws(Errno) in
            try sourceRoot.status()
        }
        let name = destination.lastComponent
        try ASDError.attempt("create the snapshot directory", destination) { () throws(Errno) in
            try parent.makeDirectory(name, mode: 0o700)
        }
        do throws(ASDError) {
            let destinationRoot = try ASDError.attempt("open the snapshot directory", destination) { () throws(Errno) in
                try parent.openDirectory(name)
            }
            let builder = Builder(device: rootStatus.device, root: source, filter: filter)
            try builder.fill(from: sourceRoot, relative: "", into: destinationRoot, destinationPath: destination)
            try ASDError.attempt("copy metadata onto the snapshot directory", destination) { () throws(Errno) in
                try destinationRoot.copyXattrs(from: sourceRoot)
                try destinationRoot.setMetadata(
                    uid: rootStatus.uid, gid: rootStatus.gid, permissions: rootStatus.permissions,
                    access: rootStatus.accessTime, modification: rootStatus.modificationTime)
            }
            return try ASDError.attempt("read the snapshot directory", destination) { () throws(Errno) in
                try destinationRoot.status()
            }
        } catch {
            try? parent.removeTree(name)
            throw error
        }
    }

    /// renameat(2) of `path` to `newPath` (same parent directory), relative to
    /// that directory opened with `SafePath`: nothing on the way is followed.
    static func rename(_ path: FilePath, to newPath: FilePath) throws(ASDError) {
        let directory = try RecoveryOps.openParent(of: path)
        try ASDError.attempt("rename the snapshot", path) { () throws(Errno) in
            guard newPath.directory == path.directory else { throw Errno.crossDevice }
            try directory.rename(path.lastComponent, to: directory, as: newPath.lastComponent)
        }
    }

    /// Deletes a snapshot (never crossing into a mount inside it).
    /// A missing snapshot is success.
    static func remove(_ path: FilePath) throws(ASDError) {
        try ASDError.attempt("remove the snapshot", path) { () throws(Errno) in try FileOps.removeTree(path) }
    }

    /// Walks the source tree with directory descriptors, mirroring it.
    private struct Builder {
        let device: UInt64
        /// The snapshot's source, for messages.
        let root: FilePath
        /// RAM_ONLY and DISK_ONLY: left out of the snapshot.
        let filter: ExclusionFilter

        func fill(
            from source: DirectoryHandle, relative: FilePath,
            into destination: DirectoryHandle, destinationPath: FilePath
        ) throws(ASDError) {
            let sourcePath = root.appending(relative)
            let names = try ASDError.attempt("list", sourcePath) { () throws(Errno) in try source.entries() }
            for name in names {
                let from = sourcePath.appending(name)
                let to = destinationPath.appending(name)
                let status: FileStatus
                do throws(Errno) {
                    status = try source.status(name)
                } catch {
                    if error == .noEntry { continue }  // vanished while we looked
                    throw ASDError.system(operation: "read", path: from, errno: error)
                }
                if !filter.isEmpty && filter.excludes(relative.appending(name), isDirectory: status.isDirectory) { continue }
                switch status.type {
                case .regular:
                    try link(name, from: source, fromPath: from, into: destination)
                case .directory:
                    try ASDError.attempt("create the snapshot directory", to) { () throws(Errno) in
                        try destination.makeDirectory(name)
                    }
                    var mounted = status.device != device
                    if !mounted {
                        mounted = try ASDError.attempt("inspect", from) { () throws(Errno) in try source.isMountRoot(name) }
                    }
                    if !mounted {
                        let (child, childCopy) = try ASDError.attempt("open", from) { () throws(Errno) in
                            (try source.openDirectory(name), try destination.openDirectory(name))
                        }
                        try fill(from: child, relative: relative.appending(name), into: childCopy, destinationPath: to)
                    }
                    try copyMetadata(name, status: status, from: source, in: destination, to: to)
                case .symlink:
                    try ASDError.attempt("copy the symlink", from) { () throws(Errno) in
                        try destination.createSymlink(name, target: try source.readSymlink(name))
                    }
                    try copyMetadata(name, status: status, from: source, in: destination, to: to)
                case .fifo, .socket, .charDevice, .blockDevice:
                    try ASDError.attempt("re-create the special file", from) { () throws(Errno) in
                        try destination.makeNode(name, type: status.type, permissions: 0o600, rdev: status.rdev)
                    }
                    try copyMetadata(name, status: status, from: source, in: destination, to: to)
                }
            }
        }

        /// link(2); a copy when the inode has no room for another link.
        private func link(
            _ name: FilePath, from source: DirectoryHandle, fromPath: FilePath, into destination: DirectoryHandle
        ) throws(ASDError) {
            do throws(Errno) {
                try source.hardLink(name, to: destination, as: name)
            } catch {
                // EMLINK: no room for another link; EXDEV: the target is a filesystem
                // of its own (a mount point), so its files cannot be linked from the parent.
                guard error == Errno.tooManyLinks || error == Errno.crossDevice else {
                    // EPERM for root: the file is immutable or append-only.
                    if error == Errno.permission { throw ASDError.snapshotLinkRefused(target: root, path: fromPath) }
                    throw ASDError.system(operation: "hard-link into the snapshot", path: fromPath, errno: error)
                }
                try ASDError.attempt("copy into the snapshot", fromPath) { () throws(Errno) in
                    _ = try source.copyFile(name, to: destination, as: name)
                }
            }
        }

        /// xattrs, owner, mode (not for symlinks), then times — in that order
        /// so the mode's setuid bits survive chown and ACL masks match the mode.
        /// Both trees belong to the target's owner, who may swap any entry for a
        /// symlink meanwhile (doc/DESIGN.md §7): directories are changed through
        /// descriptors opened O_NOFOLLOW, other entries by name relative to their
        /// directory's descriptor, never following a symlink.
        private func copyMetadata(
            _ name: FilePath, status: FileStatus, from source: DirectoryHandle, in directory: DirectoryHandle, to: FilePath
        ) throws(ASDError) {
            try ASDError.attempt("copy metadata onto", to) { () throws(Errno) in
                if status.isDirectory {
                    let copy = try directory.openDirectory(name)
                    try copy.copyXattrs(from: try source.openDirectory(name))
                    try copy.setMetadata(
                        uid: status.uid, gid: status.gid, permissions: status.permissions,
                        access: status.accessTime, modification: status.modificationTime)
                    return
                }
                try directory.copyXattrs(from: source, name, to: name, tolerant: true)
                try directory.changeOwner(name, uid: status.uid, gid: status.gid)
                if !status.isSymlink { try directory.changeMode(name, status.permissions) }
                try directory.setTimes(name, access: status.accessTime, modification: status.modificationTime)
            }
        }
    }
}
