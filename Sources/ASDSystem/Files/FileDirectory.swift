#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// An open directory descriptor. Operations take a name relative to it
/// (the *at(2) calls): a walk goes from descriptor to descriptor, one
/// component at a time, so a directory swapped for a symlink meanwhile is
/// refused (ELOOP/ENOTDIR), never followed. Names are bytes (`FilePath`).
/// Closed with close(2) when released.
public final class DirectoryHandle: Sendable {
    public let fd: Int32

    public init(adopting fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    static let openFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

    /// open(2) O_DIRECTORY|O_NOFOLLOW: fails with ENOTDIR/ELOOP on anything
    /// but a real directory in the last component.
    public convenience init(path: FilePath) throws(Errno) {
        let fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, DirectoryHandle.openFlags) } }
        self.init(adopting: fd)
    }

    /// open(2) O_DIRECTORY, following symlinks: for a directory root set up
    /// (VOLATILE, the parent of a target), never for one a user owns.
    public convenience init(resolving path: FilePath) throws(Errno) {
        let fd = try path.withCString { (c) throws(Errno) in
            try retryingEINTR { open(c, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        }
        self.init(adopting: fd)
    }

    /// openat(2) O_DIRECTORY|O_NOFOLLOW of the subdirectory `name` (one component).
    public func openDirectory(_ name: FilePath) throws(Errno) -> DirectoryHandle {
        let fd = try name.withCString { (c) throws(Errno) in try retryingEINTR(.open) { openat(self.fd, c, DirectoryHandle.openFlags) } }
        return DirectoryHandle(adopting: fd)
    }

    /// Descends through `relative` one component at a time (each opened with
    /// O_NOFOLLOW relative to the one before); "" is this directory again.
    public func openDirectory(relative: FilePath) throws(Errno) -> DirectoryHandle {
        var current = try openDirectory(".")
        for component in relative.components { current = try current.openDirectory(component) }
        return current
    }

    /// fdopendir(3) on a dup(2) of the descriptor, then readdir(3): every
    /// name except "." and "..", as the bytes the kernel returns.
    public func entries() throws(Errno) -> [FilePath] {
        let copy = try retryingEINTR { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(copy) else {
            let error = Errno.current
            close(copy)
            throw error
        }
        defer { closedir(stream) }
        rewinddir(stream)
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var names: [FilePath] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Errno.current }
                return names
            }
            let name = UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            if name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0)) { continue }
            names.append(FilePath(cString: name))
        }
    }

    /// fstat(2) of the directory itself.
    public func status() throws(Errno) -> FileStatus {
        var st = stat()
        _ = try retryingEINTR { fstat(fd, &st) }
        return FileStatus(st)
    }

    /// fstatat(2) with AT_SYMLINK_NOFOLLOW.
    public func status(_ name: FilePath) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try name.withCString { (c) throws(Errno) in try retryingEINTR { fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) } }
        return FileStatus(st)
    }

    /// fstatat(2) returning nil when `name` does not exist.
    public func statusIfExists(_ name: FilePath) throws(Errno) -> FileStatus? {
        do { return try status(name) } catch {
            if error == .noEntry { return nil }
            throw error
        }
    }

    /// statx(2) STATX_ATTR_MOUNT_ROOT of `name`.
    public func isMountRoot(_ name: FilePath) throws(Errno) -> Bool {
        return try name.withCString { (c) throws(Errno) in
            try FileOps.isMountRoot(directoryFD: fd, name: c)
        }
    }

    /// mkdirat(2) (mode is filtered by the umask; set it afterwards).
    public func makeDirectory(_ name: FilePath, mode: UInt32 = 0o700) throws(Errno) {
        _ = try name.withCString { (c) throws(Errno) in try retryingEINTR(.makeDirectory) { mkdirat(fd, c, mode_t(mode)) } }
    }

    /// linkat(2): `newName` in `directory` becomes another name for `name` here.
    public func hardLink(_ name: FilePath, to directory: DirectoryHandle, as newName: FilePath) throws(Errno) {
        _ = try name.withCString { (from) throws(Errno) in
            try newName.withCString { (to) throws(Errno) in try retryingEINTR(.link) { linkat(fd, from, directory.fd, to, 0) } }
        }
    }

    /// readlinkat(2): the target bytes of a symlink.
    public func readSymlink(_ name: FilePath) throws(Errno) -> FilePath {
        try FileOps.readLink(directoryFD: fd, name: name)
    }

    /// symlinkat(2).
    public func createSymlink(_ name: FilePath, target: FilePath) throws(Errno) {
        _ = try target.withCString { (t) throws(Errno) in
            try name.withCString { (c) throws(Errno) in try retryingEINTR(.link) { symlinkat(t, fd, c) } }
        }
    }

    /// mknodat(2): fifo, socket or device node.
    public func makeNode(_ name: FilePath, type: FileType, permissions: UInt32, rdev: UInt64 = 0) throws(Errno) {
        _ = try name.withCString { (c) throws(Errno) in
            try retryingEINTR { mknodat(fd, c, type.formatBits | (permissions & 0o7777), dev_t(rdev)) }
        }
    }

    /// unlinkat(2); `directory: true` passes AT_REMOVEDIR (rmdir).
    public func remove(_ name: FilePath, directory: Bool = false) throws(Errno) {
        _ = try name.withCString { (c) throws(Errno) in
            try retryingEINTR(.unlink) { unlinkat(fd, c, directory ? AT_REMOVEDIR : 0) }
        }
    }

    /// renameat(2): `name` here becomes `newName` in `directory`, replacing it
    /// atomically (both must be on one mount).
    public func rename(_ name: FilePath, to directory: DirectoryHandle, as newName: FilePath) throws(Errno) {
        _ = try name.withCString { (from) throws(Errno) in
            try newName.withCString { (to) throws(Errno) in try retryingEINTR(.rename) { renameat(fd, from, directory.fd, to) } }
        }
    }

    /// renameat2(2) with RENAME_NOREPLACE: like `rename`, but EEXIST when
    /// `newName` exists in `directory`, which is never replaced.
    public func renameExclusively(_ name: FilePath, to directory: DirectoryHandle, as newName: FilePath) throws(Errno) {
        _ = try name.withCString { (from) throws(Errno) in
            try newName.withCString { (to) throws(Errno) in
                try retryingEINTR(.rename) { casd_renameat_noreplace(fd, from, directory.fd, to) }
            }
        }
    }

    /// Copies the regular file `name` to the new file `newName` in `directory`
    /// (see `FileOps.copyFile`); returns the bytes copied.
    @discardableResult
    public func copyFile(_ name: FilePath, to directory: DirectoryHandle, as newName: FilePath) throws(Errno) -> Int64 {
        try FileOps.copyFile(directoryFD: fd, name, toDirectoryFD: directory.fd, newName)
    }

    /// fsync(2) of the directory: makes its entries durable.
    public func sync() throws(Errno) {
        _ = try retryingEINTR(.fsync) { fsync(fd) }
    }
}
