import ASDCopy
import ASDSystem
/// The overlay's lower layer (doc/DESIGN.md §7). mount(2) resolves `lowerdir=` as a
/// path, and the snapshot lies in the target's parent, which the target's
/// owner can change at any moment: named there, it could be swapped for a
/// symlink to a root-only directory between snapshot and mount, and that
/// directory would then be readable through the target. So the snapshot is
/// opened by descriptor (parent reached with `SafePath`, then O_NOFOLLOW|
/// O_DIRECTORY, checked to be the very directory `Snapshot.take` made), bound
/// read-only and private onto `paths.overlayLower` (root-only, made by
/// descriptor under VOLATILE), and that path, which only root can change, is
/// the overlay's lowerdir. The bind stays while the overlay is mounted (the
/// mount table then shows which directory the lower layer is) and goes right
/// after it, with its directory.
extension Engine {
    /// Binds the snapshot whose root `Snapshot.take` reported as `made` onto
    /// `paths.overlayLower`, journalling the directories it creates and the mount.
    func bindOverlayLower(_ paths: TargetPaths, snapshot made: FileStatus, journal: inout UndoJournal) throws(ASDError) {
        let snapshot = try openSnapshot(paths, expecting: made)
        let lower = paths.overlayLower
        try makeLowerMountPoint(lower, journal: &journal)
        if MountInfo.isMountPoint(lower) {
            throw .unexpectedState(path: lower, detail: "something is mounted there already; run asd again to clean it up")
        }
        try Mount.bindPrivate(snapshot, sourcePath: paths.snapshot, onto: lower)
        journal.record(.unmount(lower))
        do throws(Errno) {
            try Mount.remountBindReadOnly(lower)
        } catch {
            // Locked mount flags (a user namespace): overlayfs never writes to
            // a lower layer anyway, so the bind stays as it is.
            if error != .permission {
                throw .system(operation: "remount read-only the overlay's lower layer", path: lower, errno: error)
            }
        }
        let shown = try statOrThrow(lower, doing: "read the overlay's lower layer")
        guard shown.device == made.device, shown.inode == made.inode else {
            throw .unexpectedState(path: lower, detail: "it does not show the snapshot \(paths.snapshot) asd has just made")
        }
    }

    /// The snapshot directory itself, by descriptor, refused when its name no
    /// longer leads to the directory `Snapshot.take` made.
    private func openSnapshot(_ paths: TargetPaths, expecting made: FileStatus) throws(ASDError) -> DirectoryHandle {
        let parent = try RecoveryOps.openParent(of: paths.snapshot)
        let name = paths.snapshot.lastComponent
        let handle: DirectoryHandle
        do throws(Errno) {
            handle = try parent.openDirectory(name)
        } catch {
            if error == .notDirectory || error == .tooManySymlinks {
                throw plantedError(paths.snapshot, in: parent, role: "snapshot", of: paths.target) ?? .system(
                    operation: "open the snapshot", path: paths.snapshot, errno: error)
            }
            throw .system(operation: "open the snapshot", path: paths.snapshot, errno: error)
        }
        let found = try ASDError.attempt("read the snapshot", paths.snapshot) { () throws(Errno) in try handle.status() }
        guard found.device == made.device, found.inode == made.inode else {
            throw .plantedBesideTarget(
                path: paths.snapshot, owner: FileOps.userName(uid: found.uid),
                problem: "is not the snapshot asd has just made (it was replaced meanwhile), where asd keeps the snapshot",
                target: paths.target)
        }
        return handle
    }

    /// mkdirat(2) of the lower mount point and its parents, root-only, nothing
    /// followed (`VolatileDirectory`). Journalled as directories: rmdir only,
    /// never a recursive removal of what may be a mount of the snapshot.
    private func makeLowerMountPoint(_ lower: FilePath, journal: inout UndoJournal) throws(ASDError) {
        let components = FilePath(lower.bytes.dropFirst(settings.volatile.bytes.count)).components
        guard lower.isWithin(settings.volatile), let leaf = components.last else {
            throw .unexpectedState(path: lower, detail: "it is not below VOLATILE=\(settings.volatile)")
        }
        let made: (createdParents: [FilePath], createdLeaf: Bool)
        do throws(VolatileDirectoryError) {
            made = try VolatileDirectory.make(
                in: settings.volatile, parents: Array(components.dropLast()), leaf: leaf, mode: 0o700, uid: 0, gid: 0)
        } catch {
            throw Self.converting(error)
        }
        for parent in made.createdParents { journal.record(.removeDirectory(parent)) }
        if made.createdLeaf { journal.record(.removeDirectory(lower)) }
    }

    /// True when the overlay's lower dir `lower` is ours: the snapshot itself
    /// (as an older asd of ours mounted it), or our lower bind while the mount
    /// table shows it is a bind of the directory now named `paths.snapshot`.
    /// Then the upper layer holds every change since sync.
    func isOurOverlayLower(_ lower: FilePath, of paths: TargetPaths) -> Bool {
        if lower == paths.snapshot { return true }
        guard lower == paths.overlayLower, let table = try? MountInfo.current(),
              let bind = MountInfo.mounts(at: paths.overlayLower, in: table).last,
              let snapshot = MountInfo.origin(of: paths.snapshot, in: table) else { return false }
        return MountInfo.origin(of: bind) == snapshot
    }

    /// Unmounts the lower bind (once the overlay is gone, or left by a killed
    /// asd or by upstream asd's unsync) and removes its directory and empty parents.
    func removeOverlayLower(_ paths: TargetPaths) throws(ASDError) {
        let lower = paths.overlayLower
        guard FileOps.exists(lower) else { return }
        if MountInfo.isMountPoint(lower) { try unmountOrDetach(lower) }
        try ASDError.attempt("remove the overlay's lower mount point", lower) { () throws(Errno) in
            do throws(Errno) { try FileOps.removeDirectory(lower) } catch { if error != .noEntry { throw error } }
        }
        removeEmptyParents(of: lower)
    }
}
