#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// An open directory descriptor. Operations take a name relative to it
/// (the *at(2) calls), which is faster than whole paths for big trees and
/// immune to a parent being renamed meanwhile. Never follows symlinks.
/// Closed with close(2) when released.
public final class DirectoryHandle: Sendable {
    let fd: Int32

    init(adopting fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// open(2) O_DIRECTORY|O_NOFOLLOW: fails with ENOTDIR/ELOOP on anything
    /// but a real directory.
    public convenience init(path: String) throws(Errno) {
        let fd = try retryingEINTR { open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        self.init(adopting: fd)
    }

    /// openat(2) of the subdirectory `name`.
    public func openDirectory(_ name: String) throws(Errno) -> DirectoryHandle {
        let fd = try retryingEINTR { openat(self.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        return DirectoryHandle(adopting: fd)
    }

    /// fdopendir(3) on a dup(2) of the descriptor, then readdir(3): every
    /// name except "." and "..".
    public func entries() throws(Errno) -> [String] {
        let copy = try retryingEINTR { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(copy) else {
            let error = Errno.current
            close(copy)
            throw error
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Errno.current }
                return names
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// fstat(2) of the directory itself.
    public func status() throws(Errno) -> FileStatus {
        var st = stat()
        _ = try retryingEINTR { fstat(fd, &st) }
        return FileStatus(st)
    }

    /// fstatat(2) with AT_SYMLINK_NOFOLLOW.
    public func status(_ name: String) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try retryingEINTR { fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) }
        return FileStatus(st)
    }

    /// statx(2) STATX_ATTR_MOUNT_ROOT of `name`.
    public func isMountRoot(_ name: String) throws(Errno) -> Bool {
        try FileOps.isMountRoot(directoryFD: fd, name: name)
    }

    /// mkdirat(2) (mode is filtered by the umask; set it afterwards).
    public func makeDirectory(_ name: String, mode: UInt32 = 0o700) throws(Errno) {
        _ = try retryingEINTR { mkdirat(fd, name, mode_t(mode)) }
    }

    /// linkat(2): `newName` in `directory` becomes another name for `name` here.
    public func hardLink(_ name: String, to directory: DirectoryHandle, as newName: String) throws(Errno) {
        _ = try retryingEINTR { linkat(fd, name, directory.fd, newName, 0) }
    }

    /// readlinkat(2).
    public func readSymlink(_ name: String) throws(Errno) -> String {
        try FileOps.readLink(directoryFD: fd, name: name)
    }

    /// symlinkat(2).
    public func createSymlink(_ name: String, target: String) throws(Errno) {
        _ = try retryingEINTR { symlinkat(target, fd, name) }
    }

    /// mknodat(2): fifo, socket or device node.
    public func makeNode(_ name: String, type: FileType, permissions: UInt32, rdev: UInt64 = 0) throws(Errno) {
        _ = try retryingEINTR { mknodat(fd, name, type.formatBits | (permissions & 0o7777), dev_t(rdev)) }
    }

    /// fchownat(2) with AT_SYMLINK_NOFOLLOW.
    public func changeOwner(_ name: String, uid: UInt32, gid: UInt32) throws(Errno) {
        _ = try retryingEINTR { fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) }
    }

    /// fchmodat(2) (never call it on a symlink: Linux would follow it).
    public func changeMode(_ name: String, _ permissions: UInt32) throws(Errno) {
        _ = try retryingEINTR { fchmodat(fd, name, mode_t(permissions & 0o7777), 0) }
    }

    /// utimensat(2) with AT_SYMLINK_NOFOLLOW, nanosecond precision.
    public func setTimes(_ name: String, access: FileTime, modification: FileTime) throws(Errno) {
        var times = [access.timespec, modification.timespec]
        _ = try retryingEINTR { utimensat(fd, name, &times, AT_SYMLINK_NOFOLLOW) }
    }

    /// unlinkat(2); `directory: true` passes AT_REMOVEDIR (rmdir).
    public func remove(_ name: String, directory: Bool = false) throws(Errno) {
        _ = try retryingEINTR { unlinkat(fd, name, directory ? AT_REMOVEDIR : 0) }
    }

    /// openat(2) of `path` relative to this directory (any depth, no symlinks
    /// followed in the last component).
    public func openDirectory(relative path: String) throws(Errno) -> DirectoryHandle {
        path.isEmpty ? try openDirectory(".") : try openDirectory(path)
    }

    /// renameat(2): `name` here becomes `newName` in `directory`, replacing it
    /// atomically (both must be on one mount).
    public func rename(_ name: String, to directory: DirectoryHandle, as newName: String) throws(Errno) {
        _ = try retryingEINTR { renameat(fd, name, directory.fd, newName) }
    }

    /// Copies the regular file `name` to the new file `newName` in `directory`
    /// (see `FileOps.copyFile`); returns the bytes copied.
    @discardableResult
    public func copyFile(_ name: String, to directory: DirectoryHandle, as newName: String) throws(Errno) -> Int64 {
        try FileOps.copyFile(directoryFD: fd, name, toDirectoryFD: directory.fd, newName)
    }

    /// fsync(2) of the directory: makes its entries durable.
    public func sync() throws(Errno) {
        _ = try retryingEINTR { fsync(fd) }
    }
}
