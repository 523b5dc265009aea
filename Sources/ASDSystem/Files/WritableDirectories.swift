/// Finding a directory in a tree that someone other than root can change.
///
/// A program that walks a tree by path names (rsync) trusts the names not to
/// change under it. That holds when every directory of the tree is owned by
/// root and writable by no group and no one else: then only root can create,
/// rename or remove an entry anywhere in it (no one can swap a directory for a
/// symlink). One directory that fails this is enough to break the trust.
extension FileStatus {
    /// Owned by someone other than root, or writable by its group or by all
    /// (a group-writable directory of group root counts too: an ACL's mask
    /// shows in the group bits, so the bits alone cannot rule out a named user).
    public var othersCanChangeEntries: Bool {
        uid != 0 || permissions & 0o022 != 0
    }
}

extension DirectoryHandle {
    /// The first directory, this one included, that someone other than root can
    /// change (`othersCanChangeEntries`), as its path relative to this one ("" for
    /// this one) with its status; nil when there is none. Walked relative to
    /// descriptors, never following a symlink; an entry that vanishes or turns into
    /// something else meanwhile is skipped (the walk only looks, it changes nothing).
    public func firstDirectoryOthersCanChange() throws(Errno) -> (path: FilePath, status: FileStatus)? {
        let own = try status()
        if own.othersCanChangeEntries { return ("", own) }
        // Subdirectories are opened when their turn comes (a stack of parent
        // descriptors and names), so a wide directory costs no descriptor per child.
        var pending: [(parent: DirectoryHandle, name: FilePath, path: FilePath)] = []
        func enqueueChildren(of directory: DirectoryHandle, at path: FilePath) throws(Errno) {
            for name in try directory.entries() where (try? directory.status(name))?.isDirectory == true {
                pending.append((directory, name, path.appending(name)))
            }
        }
        try enqueueChildren(of: self, at: "")
        while let (parent, name, path) = pending.popLast() {
            guard let child = try? parent.openDirectory(name), let opened = try? child.status() else { continue }
            if opened.othersCanChangeEntries { return (path, opened) }
            try enqueueChildren(of: child, at: path)
        }
        return nil
    }
}
