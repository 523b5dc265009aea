import ASDSystem
/// Builds one non-directory entry as a copy of another, and fixes the
/// metadata of an existing entry, for `TreeMirror`; every entry is a name
/// relative to an open directory ("." for the directory itself). Order
/// matters: owner before xattrs (chown drops security.capability) and before
/// mode (chown clears setuid/setgid bits), xattrs before mode (so an ACL mask
/// ends equal to the mode's group bits), times last.
enum EntryBuilder {
    /// Creates `newName` in `directory` like `name` in `source`. Returns the
    /// bytes of content copied.
    static func build(
        _ name: FilePath, _ status: FileStatus, from source: DirectoryHandle,
        into directory: DirectoryHandle, as newName: FilePath
    ) throws(Errno) -> Int64 {
        switch status.type {
        case .regular:
            return try source.copyFile(name, to: directory, as: newName)
        case .directory:
            throw Errno.invalid
        case .symlink:
            try directory.createSymlink(newName, target: try source.readSymlink(name))
            try directory.changeOwner(newName, uid: status.uid, gid: status.gid)
            // user.* xattrs are refused on symlinks (EPERM): as rsync, skip them.
            try directory.copyXattrs(from: source, name, to: newName, tolerant: true)
        default:
            try directory.makeNode(newName, type: status.type, permissions: status.permissions, rdev: status.rdev)
            try directory.changeOwner(newName, uid: status.uid, gid: status.gid)
            try directory.copyXattrs(from: source, name, to: newName, tolerant: true)
            try directory.changeMode(newName, status.permissions)
        }
        try directory.setTimes(newName, access: status.accessTime, modification: status.modificationTime)
        return 0
    }

    /// Gives the existing file or directory `name` in `directory` (now
    /// `current`) the owner, xattrs (the same set), mode and, with `times`,
    /// the times of `status` / `sourceName` in `source`. `shown` is the
    /// directory's path, for the message.
    static func fixMetadata(
        _ name: FilePath, in directory: DirectoryHandle, _ current: FileStatus, to status: FileStatus,
        from source: DirectoryHandle?, _ sourceName: FilePath, shown: FilePath, times: Bool = false
    ) throws(CopyError) {
        try CopyError.attempt("set owner, mode, xattrs and times of", shown.appending(name == "." ? "" : name)) {
            () throws(Errno) in
            let chowned = current.uid != status.uid || current.gid != status.gid
            if chowned { try directory.changeOwner(name, uid: status.uid, gid: status.gid) }
            if chowned || !xattrsEqual(source, sourceName, directory, name) {
                let wanted = xattrs(source, sourceName)
                let present = xattrs(directory, name)
                for attribute in present.keys where wanted[attribute] == nil {
                    try directory.removeXattr(name, attribute: attribute)
                }
                for (attribute, value) in wanted where present[attribute] != value {
                    try directory.setXattr(name, attribute: attribute, value: value)
                }
            }
            if chowned || current.permissions != status.permissions {
                try directory.changeMode(name, status.permissions)
            }
            if times { try directory.setTimes(name, access: status.accessTime, modification: status.modificationTime) }
        }
    }

    /// Overlay bookkeeping attributes never leave the overlay.
    static func isOverlayPrivate(_ name: String) -> Bool {
        name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.")
    }

    /// Same type, size, mtime (nanoseconds), mode, owner and device number.
    static func sameMetadata(_ a: FileStatus, _ b: FileStatus) -> Bool {
        a.type == b.type && a.size == b.size && a.modificationTime == b.modificationTime && a.permissions == b.permissions
            && a.uid == b.uid && a.gid == b.gid && a.rdev == b.rdev
    }

    /// Same xattrs on both entries (overlay ones aside); one llistxattr(2)
    /// per side settles the common case of none at all.
    static func xattrsEqual(_ a: DirectoryHandle?, _ aName: FilePath, _ b: DirectoryHandle, _ bName: FilePath) -> Bool {
        if (try? a?.xattrListLength(aName)) == 0 && (try? b.xattrListLength(bName)) == 0 { return true }
        return xattrs(a, aName) == xattrs(b, bName)
    }

    /// Extended attributes of `name` in `directory` (not following symlinks),
    /// overlay ones excluded; none when it cannot be read.
    static func xattrs(_ directory: DirectoryHandle?, _ name: FilePath) -> [String: [UInt8]] {
        ((try? directory?.xattrs(name)) ?? [:]).filter { !isOverlayPrivate($0.key) }
    }
}
