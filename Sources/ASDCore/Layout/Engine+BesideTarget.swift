import ASDCopy
import ASDSystem
/// The names asd uses in a target's parent: the disk copy and the snapshot
/// (doc/DESIGN.md §7). That directory is often the target owner's, who can create
/// anything there: a symlink at one of these names is never followed and
/// nothing found there is changed or deleted; it is refused by name, with
/// its owner and what to do.
extension Engine {
    /// The error for a target whose disk-copy or snapshot name holds a
    /// symlink or anything else that is not a directory, or nil.
    func plantedBesideTarget(_ paths: TargetPaths) -> ASDError? {
        guard let parent = try? RecoveryOps.openParent(of: paths.diskCopy) else { return nil }
        return plantedError(paths.diskCopy, in: parent, role: "disk copy", of: paths.target)
            ?? plantedError(paths.snapshot, in: parent, role: "snapshot", of: paths.target)
    }

    /// Refuses (see `plantedBesideTarget`) before sync makes anything.
    func refusePlantedBesideTarget(_ paths: TargetPaths) throws(ASDError) {
        if let error = plantedBesideTarget(paths) { throw error }
    }

    /// What is at `path` (in `parent`, looked at with fstatat AT_SYMLINK_NOFOLLOW)
    /// when it is not a directory, as an error naming it and its owner.
    func plantedError(_ path: FilePath, in parent: DirectoryHandle, role: String, of target: FilePath) -> ASDError? {
        let name = path.lastComponent
        guard let found = try? parent.statusIfExists(name), !found.isDirectory else { return nil }
        let what: String
        switch found.type {
        case .symlink: what = "is a symbolic link (to \((try? parent.readSymlink(name))?.description ?? "?"))"
        case .regular: what = "is a regular file"
        default: what = "is not a directory"
        }
        return .plantedBesideTarget(
            path: path, owner: FileOps.userName(uid: found.uid), problem: "\(what), where asd keeps the \(role)", target: target)
    }
}
