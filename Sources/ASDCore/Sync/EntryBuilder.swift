/// Builds one non-directory entry as a copy of another, and fixes the
/// metadata of an existing entry, for `TreeMirror`. Order matters: owner
/// before xattrs (chown drops security.capability) and before mode (chown
/// clears setuid/setgid bits), xattrs before mode (so an ACL mask ends equal
/// to the mode's group bits), times last.
enum EntryBuilder {
    /// Creates `newName` in `directory` like `name` in `source` (its path
    /// `sourcePath`; `newPath` is the new entry's path, for the xattr calls).
    /// Returns the bytes of content copied.
    static func build(
        _ name: String, _ status: FileStatus, from source: DirectoryHandle, _ sourcePath: String,
        into directory: DirectoryHandle, as newName: String, _ newPath: String
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
            try FileOps.copyXattrs(from: sourcePath, to: newPath, tolerant: true)
        default:
            try directory.makeNode(newName, type: status.type, permissions: status.permissions, rdev: status.rdev)
            try directory.changeOwner(newName, uid: status.uid, gid: status.gid)
            try FileOps.copyXattrs(from: sourcePath, to: newPath, tolerant: true)
            try directory.changeMode(newName, status.permissions)
        }
        try directory.setTimes(newName, access: status.accessTime, modification: status.modificationTime)
        return 0
    }

    /// Gives the existing file or directory `path` (now `current`) the owner,
    /// xattrs (the same set), mode and, with `times`, the times of `status` /
    /// `sourcePath`.
    static func fixMetadata(
        _ path: String, _ current: FileStatus, to status: FileStatus, from sourcePath: String, times: Bool = false
    ) throws(ASDError) {
        do throws(Errno) {
            let chowned = current.uid != status.uid || current.gid != status.gid
            if chowned { try FileOps.changeOwner(path, uid: status.uid, gid: status.gid) }
            if chowned || !xattrsEqual(sourcePath, path) {
                let wanted = xattrs(sourcePath)
                let present = xattrs(path)
                for name in present.keys where wanted[name] == nil {
                    try FileOps.removeXattr(path, name: name)
                }
                for (name, value) in wanted where present[name] != value {
                    try FileOps.setXattr(path, name: name, value: value)
                }
            }
            if chowned || current.permissions != status.permissions {
                try FileOps.changeMode(path, status.permissions)
            }
            if times { try FileOps.setTimes(path, access: status.accessTime, modification: status.modificationTime) }
        } catch {
            throw .system(operation: "set owner, mode, xattrs and times of", path: path, errno: error)
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

    /// Same xattrs on both paths (overlay ones aside); one llistxattr(2) per
    /// side settles the common case of none at all.
    static func xattrsEqual(_ a: String, _ b: String) -> Bool {
        if (try? FileOps.xattrListLength(a)) == 0 && (try? FileOps.xattrListLength(b)) == 0 { return true }
        return xattrs(a) == xattrs(b)
    }

    /// Extended attributes of `path` (not following symlinks), overlay ones excluded.
    static func xattrs(_ path: String) -> [String: [UInt8]] {
        ((try? FileOps.xattrs(path)) ?? [:]).filter { !isOverlayPrivate($0.key) }
    }
}
