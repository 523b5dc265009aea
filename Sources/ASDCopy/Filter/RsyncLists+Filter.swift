import ASDSystem
/// The `--files-from` lists without what RAM_ONLY and DISK_ONLY leave out
/// (doc/DESIGN.md §2): asd's own deletions (`RsyncCopier.deleteGone`) must never
/// remove such an entry from the disk.
extension RsyncLists {
    /// `paths` (relative to `root`) without the excluded ones; whether an entry is
    /// a directory is read under `root` (rsync runs only on trees only root can change).
    static func filtered(_ paths: [FilePath], _ filter: ExclusionFilter, root: FilePath) -> [FilePath] {
        guard !filter.isEmpty else { return paths }
        return paths.filter { relative in
            if relative == "." { return true }
            let isDirectory = (try? FileOps.status(root.appending(relative)))?.isDirectory ?? false
            return !filter.excludesTree(relative, isDirectory: isDirectory)
        }
    }
}

extension RsyncLists.Overlay {
    /// Drops excluded entries: transfers and rewrites looked up in the merged
    /// view, deletions in the disk copy.
    mutating func filter(_ filter: ExclusionFilter, source: FilePath, destination: FilePath) {
        guard !filter.isEmpty else { return }
        transfer = RsyncLists.filtered(transfer, filter, root: source)
        rewrite = RsyncLists.filtered(rewrite, filter, root: source)
        delete = RsyncLists.filtered(delete, filter, root: destination)
    }
}
