/// Copies single entries into a disk tree the safe way: a complete new inode is
/// built in the temp directory and renamed over the destination, so a crash
/// leaves the old or the new version, never a torn one, and inodes shared
/// with the snapshot are never modified.
struct EntryCopier {
    let tempDirectory: String?
    private var counter = 0

    init(tempDirectory: String?) { self.tempDirectory = tempDirectory }

    /// Overlay bookkeeping attributes never leave the overlay.
    static func isOverlayPrivate(_ name: String) -> Bool {
        name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.")
    }

    mutating func ensureDirectory(_ path: String, like model: FileStatus) throws(ASDError) {
        if let existing = try? FileOps.status(path) {
            if existing.isDirectory { return }
            try remove(path)
        }
        try attempt("create the directory", path) { () throws(Errno) in
            try FileOps.makeDirectory(path, mode: model.permissions, uid: model.uid, gid: model.gid)
        }
    }

    func remove(_ path: String) throws(ASDError) {
        guard let status = try? FileOps.status(path) else { return }
        try attempt("remove", path) { () throws(Errno) in
            if status.isDirectory { try FileOps.removeTree(path) } else { try FileOps.unlink(path) }
        }
    }

    /// Replaces `dest` unless it already matches `source` in type, size, mtime
    /// (nanoseconds), mode, owner and extended attributes.
    mutating func copyIfChanged(from source: String, status: FileStatus, to dest: String) throws(ASDError) {
        if let existing = try? FileOps.status(dest), Self.sameMetadata(status, existing),
           Self.xattrs(source) == Self.xattrs(dest) {
            return
        }
        try replace(from: source, status: status, to: dest)
    }

    mutating func replace(from source: String, status: FileStatus, to dest: String) throws(ASDError) {
        let temp = nextTempPath(beside: dest)
        do throws(Errno) {
            switch status.type {
            case .regular:
                try FileOps.copyFile(from: source, to: temp)
            case .symlink:
                try FileOps.createSymlink(temp, target: try FileOps.readSymlink(source))
                try FileOps.changeOwner(temp, uid: status.uid, gid: status.gid)
                try FileOps.copyXattrs(from: source, to: temp, tolerant: true)
                try FileOps.setTimes(temp, access: status.accessTime, modification: status.modificationTime)
            case .directory:
                return
            default:
                try FileOps.makeNode(temp, type: status.type, permissions: status.permissions, rdev: status.rdev)
                try FileOps.changeOwner(temp, uid: status.uid, gid: status.gid)
                try FileOps.changeMode(temp, status.permissions)
                try FileOps.copyXattrs(from: source, to: temp, tolerant: true)
                try FileOps.setTimes(temp, access: status.accessTime, modification: status.modificationTime)
            }
            if let existing = try? FileOps.status(dest), existing.isDirectory {
                try FileOps.removeTree(dest)
            }
            try FileOps.rename(temp, to: dest)
        } catch {
            try? FileOps.unlink(temp)
            throw .system(operation: "copy \(source) to", path: dest, errno: error)
        }
    }

    func applyDirectoryMetadata(from source: String, status: FileStatus, to dest: String) throws(ASDError) {
        try attempt("set owner, mode and times of", dest) { () throws(Errno) in
            try FileOps.changeOwner(dest, uid: status.uid, gid: status.gid)
            try FileOps.changeMode(dest, status.permissions)
            let wanted = Self.xattrs(source)
            let present = Self.xattrs(dest)
            for (name, value) in wanted where present[name] != value {
                try FileOps.setXattr(dest, name: name, value: value)
            }
            for name in present.keys where wanted[name] == nil {
                try FileOps.removeXattr(dest, name: name)
            }
            try FileOps.setTimes(dest, access: status.accessTime, modification: status.modificationTime)
        }
    }

    /// Runs `copy` (the write-back of one entry, a file or a whole directory); when
    /// it fails because something was not found and `source` no longer exists, the
    /// entry vanished while we copied it: that is normal for a directory in use
    /// (rsync's exit 24) and it is skipped. When `source` exists again (deleted and
    /// re-created meanwhile) the copy is tried again, up to three times in all.
    static func toleratingVanishing(_ source: String, _ copy: () throws(ASDError) -> Void) throws(ASDError) {
        var attempt = 1
        while true {
            do throws(ASDError) {
                try copy()
                return
            } catch {
                guard case .system(_, _, let code) = error, code == .noEntry, attempt < 3 else { throw error }
                if !FileOps.exists(source) { return }
                attempt += 1
            }
        }
    }

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

    private mutating func nextTempPath(beside dest: String) -> String {
        counter += 1
        let name = ".asd-tmp-\(ProcessIdentity.pid)-\(counter)"
        if let tempDirectory { return tempDirectory + "/" + name }
        return TargetPaths.split(dest).parent + "/" + name
    }

    private func attempt(_ operation: String, _ path: String, _ body: () throws(Errno) -> Void) throws(ASDError) {
        do throws(Errno) { try body() } catch {
            throw .system(operation: operation, path: path, errno: error)
        }
    }
}
