import ASDSystem
/// Deletions under RAM_ONLY and DISK_ONLY (doc/DESIGN.md §2): a directory the source
/// no longer has goes with everything in it except what the filter leaves out, which
/// stays on disk with the directories above it. rsync's `--delete` does the same with
/// excluded files ("cannot delete non-empty directory"), so both engines leave one tree.
extension ExclusionFilter {
    /// Removes `name` (at `relative` below the copy's root) from `parent`, relative to
    /// descriptors, never following a symlink or crossing a mount (as
    /// `DirectoryHandle.removeTree`), keeping the excluded entries below it.
    /// Returns false when something was kept.
    @discardableResult
    public func removeTree(_ name: FilePath, in parent: DirectoryHandle, relative: FilePath) throws(Errno) -> Bool {
        guard let status = try parent.statusIfExists(name) else { return true }
        guard status.isDirectory, !isEmpty else {
            try parent.removeTree(name)
            return true
        }
        if try parent.isMountRoot(name) { throw Errno.busy }
        let directory = try parent.openDirectory(name)
        var kept = false
        for child in try directory.entries() {
            guard let childStatus = try directory.statusIfExists(child) else { continue }
            let path = relative.appending(child)
            if excludes(path, isDirectory: childStatus.isDirectory) {
                kept = true
            } else if childStatus.isDirectory {
                if try !removeTree(child, in: directory, relative: path) { kept = true }
            } else {
                try directory.remove(child)
            }
        }
        if kept { return false }
        try parent.remove(name, directory: true)
        return true
    }
}
