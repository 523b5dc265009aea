#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Operations on descriptors asd opened itself (a directory reached with
/// `SafePath`, a file it created), so that nothing is looked up by path again.
extension DirectoryHandle {
    /// openat(2) O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW of the new regular file
    /// `name`, created with `mode` (the umask can only narrow it). Fails with
    /// EEXIST when anything, a symlink included, is there. The caller closes
    /// the descriptor (`FileOps.closeDescriptor`).
    public func createExclusive(_ name: FilePath, mode: UInt32) throws(Errno) -> Int32 {
        try name.withCString { (c) throws(Errno) in
            try retryingEINTR(.open) { openat(fd, c, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(mode)) }
        }
    }
}

extension FileOps {
    /// close(2).
    public static func closeDescriptor(_ fd: Int32) { close(fd) }

    /// fsync(2) of an open descriptor.
    public static func fsyncDescriptor(_ fd: Int32) throws(Errno) {
        _ = try retryingEINTR(.fsync) { fsync(fd) }
    }

    /// fstat(2) of an open descriptor.
    public static func descriptorStatus(_ fd: Int32) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try retryingEINTR { fstat(fd, &st) }
        return FileStatus(st)
    }
}

extension DirectoryHandle {
    /// The directory `path` reached by `SafePath` up to its parent and then
    /// opened O_NOFOLLOW|O_DIRECTORY by name.
    public static func safelyOpening(_ path: FilePath) throws(SafePath.Failure) -> DirectoryHandle {
        let parent = path.parent.isEmpty ? FilePath("/") : path.parent
        let directory = try SafePath.openDirectory(parent)
        let name = path.lastComponent
        do throws(Errno) {
            return try directory.openDirectory(name)
        } catch {
            throw .system(path: path, errno: error)
        }
    }

    /// Copies the xattrs of `source` onto this directory (flistxattr/fsetxattr).
    public func copyXattrs(from source: DirectoryHandle) throws(Errno) {
        try FileOps.copyXattrs(fromFD: source.fd, toFD: fd)
    }

    /// fchown(2), fchmod(2) and futimens(2) of the directory itself, in that
    /// order (chown clears setuid/setgid bits; times last).
    public func setMetadata(uid: UInt32, gid: UInt32, permissions: UInt32, access: FileTime, modification: FileTime) throws(Errno) {
        try setOwnerAndMode(uid: uid, gid: gid, permissions: permissions)
        var times = [access.timespec, modification.timespec]
        _ = try retryingEINTR(.setTimes) { futimens(fd, &times) }
    }
}

extension DirectoryHandle {
    /// fchown(2) then fchmod(2) of the directory itself.
    public func setOwnerAndMode(uid: UInt32, gid: UInt32, permissions: UInt32) throws(Errno) {
        _ = try retryingEINTR(.changeOwner) { fchown(fd, uid, gid) }
        _ = try retryingEINTR(.changeMode) { fchmod(fd, mode_t(permissions & 0o7777)) }
    }
}
