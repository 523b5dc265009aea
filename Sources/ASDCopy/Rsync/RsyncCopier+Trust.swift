import ASDSystem
/// When the rsync engine hands a copy to the built-in copier.
///
/// rsync runs as root and walks by path: it lstat(2)s a name, then opens it by
/// name. A user who can change a directory of the tree (its owner, or anyone it
/// is writable for) can swap a subdirectory for a symlink between the two, and
/// rsync then reads a root-only directory into the tmpfs copy (which that user
/// can read through the target) or writes a write-back into one. The built-in
/// copier walks by descriptor and never follows such a swap.
///
/// So with USE_RSYNC="yes", a copy goes to rsync only when every directory of
/// the trees it walks is root's alone (`othersCanChangeEntries`); otherwise the
/// built-in copier makes it, and sync says so. USE_RSYNC="always" trusts the
/// users and uses rsync everywhere.
extension RsyncCopier {
    /// The first directory, in `roots` or below, that someone other than root can
    /// change, described for a message; nil when rsync can be trusted with them
    /// (or `onEveryTree`). A tree that cannot be checked (its root cannot be
    /// opened, or an entry changes under the check) is not trusted either: the
    /// built-in copier then copies it, or reports what stops it.
    func untrustedDirectory(in roots: [FilePath]) -> String? {
        guard !onEveryTree else { return nil }
        for root in roots {
            let checked = Result { () throws(Errno) in try DirectoryHandle(path: root).firstDirectoryOthersCanChange() }
            guard case .success(let result) = checked else {
                if case .failure(let error) = checked { return "\(root) (it could not be checked: \(error))" }
                continue
            }
            guard let found = result else { continue }
            let path = found.path.isEmpty ? root : root.appending(found.path)
            let owner = FileOps.userName(uid: found.status.uid)
            return "\(path) (owner \(owner), mode \(String(found.status.permissions & 0o7777, radix: 8)))"
        }
        return nil
    }

    /// The sentence sync prints when it copies a tree with the built-in copier.
    static func fallbackWarning(_ directory: String, copying source: FilePath) -> String {
        "USE_RSYNC: \(source) is copied with asd's built-in copier, not rsync: \(directory) "
            + "can be changed by a user other than root, and rsync, running as root, would follow "
            + "a directory that user swaps for a symlink while it copies. "
            + "USE_RSYNC=\"always\" uses rsync even so, trusting every user who can write in the tree."
    }
}
