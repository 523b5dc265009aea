/// `resolvedPath` for a path asd means to unmount or to ask "is this a mount
/// point": nil when its last component is a symlink. A mount point is never a
/// symlink that asd made, so one found there was planted (a target's owner can
/// replace the target by a link to `/` while it is not mounted) and must not
/// lead asd to unmount whatever it points at.
func resolvedMountPoint(_ path: FilePath) -> FilePath? {
    if let status = try? FileOps.status(path), status.isSymlink { return nil }
    return resolvedPath(path)
}
