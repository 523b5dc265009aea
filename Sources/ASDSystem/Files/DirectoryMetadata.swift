#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims
import Synchronization

/// Metadata and removal relative to a directory descriptor: the entry is
/// `name` inside the directory ("." for the directory itself), and no call
/// here follows a symlink in the last component.
extension DirectoryHandle {
    /// fchownat(2) with AT_SYMLINK_NOFOLLOW.
    public func changeOwner(_ name: FilePath, uid: UInt32, gid: UInt32) throws(Errno) {
        _ = try name.withCString { (c) throws(Errno) in
            try retryingEINTR(.changeOwner) { fchownat(fd, c, uid, gid, AT_SYMLINK_NOFOLLOW) }
        }
    }

    /// fchmodat(2) with AT_SYMLINK_NOFOLLOW: a symlink swapped in meanwhile
    /// is refused (EOPNOTSUPP), never followed.
    public func changeMode(_ name: FilePath, _ permissions: UInt32) throws(Errno) {
        _ = try name.withCString { (c) throws(Errno) in
            try retryingEINTR(.changeMode) { fchmodat(fd, c, mode_t(permissions & 0o7777), AT_SYMLINK_NOFOLLOW) }
        }
    }

    /// utimensat(2) with AT_SYMLINK_NOFOLLOW, nanosecond precision.
    public func setTimes(_ name: FilePath, access: FileTime, modification: FileTime) throws(Errno) {
        var times = [access.timespec, modification.timespec]
        _ = try name.withCString { (c) throws(Errno) in
            try retryingEINTR(.setTimes) { utimensat(fd, c, &times, AT_SYMLINK_NOFOLLOW) }
        }
    }

    /// `/proc/self/fd/<fd>/<name>`: the entry reached through this descriptor,
    /// for the l*xattr(2) calls, which have no *at form. The kernel resolves
    /// the descriptor link to this very directory, so nothing above it is
    /// looked up again; the l* calls do not follow the last component.
    func descriptorPath(_ name: FilePath) -> FilePath {
        "/proc/self/fd/\(fd)/\(name)"
    }

    /// Extended attributes of `name` (llistxattr/lgetxattr through the descriptor).
    public func xattrs(_ name: FilePath) throws(Errno) -> [String: [UInt8]] {
        try FileOps.xattrs(descriptorPath(name))
    }

    /// llistxattr(2) length of `name`'s list (0: none).
    /// listxattrat(2) relative to the descriptor where the kernel has it (one
    /// lookup instead of a walk through /proc, which cost a fifth of a write-back's
    /// CPU, doc/DESIGN.md §12), else through `descriptorPath`.
    public func xattrListLength(_ name: FilePath) throws(Errno) -> Int {
        if !Self.noListxattrat.load(ordering: .relaxed) {
            let size = name.withCString { casd_listxattrat_nofollow(fd, $0, nil, 0) }
            if size >= 0 { return size }
            switch Errno.current {
            case .notSupported: return 0
            case .noSystemCall: Self.noListxattrat.store(true, ordering: .relaxed)
            case .interrupted: break
            case let error: throw error
            }
        }
        return try FileOps.xattrListLength(descriptorPath(name))
    }

    /// Set once listxattrat(2) answered ENOSYS.
    static let noListxattrat = Atomic<Bool>(false)

    /// lsetxattr(2) on `name`.
    public func setXattr(_ name: FilePath, attribute: String, value: [UInt8]) throws(Errno) {
        try FileOps.setXattr(descriptorPath(name), name: attribute, value: value)
    }

    /// lremovexattr(2) on `name`.
    public func removeXattr(_ name: FilePath, attribute: String) throws(Errno) {
        try FileOps.removeXattr(descriptorPath(name), name: attribute)
    }

    /// Copies every attribute of `name` in `source` onto `newName` here
    /// (see `FileOps.copyXattrs` for `tolerant`).
    public func copyXattrs(from source: DirectoryHandle, _ name: FilePath, to newName: FilePath, tolerant: Bool = false) throws(Errno) {
        try FileOps.copyXattrs(from: source.descriptorPath(name), to: descriptorPath(newName), tolerant: tolerant)
    }

    /// `rm -rf name` relative to this directory, never crossing into another
    /// mount and never following a symlink: each directory below is opened
    /// with O_NOFOLLOW from its parent's descriptor and emptied with
    /// unlinkat(2). A missing `name` is success; a non-directory is unlinked.
    /// Mount points inside are left alone with their content, everything
    /// else is removed, and then EBUSY is thrown; `name` itself being a mount
    /// point is refused with EBUSY untouched. Directories lacking owner rwx
    /// are made 0700 first so they can be emptied.
    public func removeTree(_ name: FilePath) throws(Errno) {
        guard let status = try statusIfExists(name) else { return }
        guard status.isDirectory else {
            try ignoringMissing { () throws(Errno) in try remove(name) }
            return
        }
        if try isMountRoot(name) { throw Errno.busy }
        if status.permissions & 0o700 != 0o700 { try? changeMode(name, 0o700) }
        let child = try openDirectory(name)
        if try child.empty(device: status.device) { throw Errno.busy }
        try ignoringMissing { () throws(Errno) in try remove(name, directory: true) }
    }

    /// Removes everything in this directory; returns true when a mount point
    /// was kept (so it could not be emptied).
    private func empty(device: UInt64) throws(Errno) -> Bool {
        var keptMountPoint = false
        for name in try entries() {
            // Most entries are files: unlinkat(2) first spares their fstatat(2); a
            // directory refuses (EISDIR) and goes the long way, as does any other error.
            do throws(Errno) {
                try remove(name)
                continue
            } catch {
                if error == .noEntry { continue }
            }
            guard let status = try statusIfExists(name) else { continue }
            if !status.isDirectory {
                try ignoringMissing { () throws(Errno) in try remove(name) }
                continue
            }
            var mounted = status.device != device
            if !mounted { mounted = try isMountRoot(name) }
            if mounted {
                keptMountPoint = true
                continue
            }
            if status.permissions & 0o700 != 0o700 { try? changeMode(name, 0o700) }
            let child = try openDirectory(name)
            if try child.empty(device: device) {
                keptMountPoint = true
                continue
            }
            try ignoringMissing { () throws(Errno) in try remove(name, directory: true) }
        }
        return keptMountPoint
    }

    private func ignoringMissing(_ body: () throws(Errno) -> Void) throws(Errno) {
        do { try body() } catch { if error != .noEntry { throw error } }
    }
}
