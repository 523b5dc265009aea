#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// An open regular file, for the delta write-back: positional reads and
/// writes, truncation, times, data flushes and reflink clones, all on the
/// descriptor (never a path). Closed with close(2) when released.
public final class OpenFile: Sendable {
    public let fd: Int32

    public init(adopting fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// fstat(2).
    public func status() throws(Errno) -> FileStatus {
        var st = stat()
        _ = try retryingEINTR { fstat(fd, &st) }
        return FileStatus(st)
    }

    /// pread(2) until `count` bytes or end of file; returns what was read.
    public func read(at offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try read(into: raw, at: offset) } }
        buffer.removeLast(count - (try got.get()))
        return buffer
    }

    /// pread(2) into `buffer` until it is full or the file ends; returns the bytes read.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        var done = 0
        while done < buffer.count {
            let got = try retryingEINTR(.read) { pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done)) }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// pwrite(2) of all of `bytes` at `offset`.
    public func write(_ bytes: ArraySlice<UInt8>, at offset: Int64) throws(Errno) {
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(Errno) in
                var done = 0
                while done < raw.count {
                    done += try retryingEINTR(.write) { pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done)) }
                }
            }
        }
        try outcome.get()
    }

    /// ftruncate(2).
    public func truncate(to size: Int64) throws(Errno) {
        _ = try retryingEINTR { ftruncate(fd, off_t(size)) }
    }

    /// futimens(2), nanosecond precision.
    public func setTimes(access: FileTime, modification: FileTime) throws(Errno) {
        var times = [access.timespec, modification.timespec]
        _ = try retryingEINTR(.setTimes) { futimens(fd, &times) }
    }

    /// fchown(2) (it clears setuid/setgid bits and security.capability: set those after).
    public func setOwner(uid: UInt32, gid: UInt32) throws(Errno) {
        _ = try retryingEINTR(.changeOwner) { fchown(fd, uid, gid) }
    }

    /// fchmod(2).
    public func setMode(_ permissions: UInt32) throws(Errno) {
        _ = try retryingEINTR(.changeMode) { fchmod(fd, mode_t(permissions & 0o7777)) }
    }

    /// Every xattr of `source` (ACLs included) set on this file (flistxattr/fgetxattr/fsetxattr).
    public func copyXattrs(from source: OpenFile) throws(Errno) {
        try FileOps.copyXattrs(fromFD: source.fd, toFD: fd)
    }

    /// fdatasync(2).
    public func dataSync() throws(Errno) {
        _ = try retryingEINTR(.fdatasync) { fdatasync(fd) }
    }

    /// syncfs(2) of the file system holding this file (all of its dirty data and metadata).
    public func syncFilesystem() throws(Errno) {
        _ = try retryingEINTR(.syncfs) { casd_syncfs(fd) }
    }

    /// ioctl(FICLONE): this (new, empty) file shares every extent of `source`
    /// (copy-on-write; nothing is written). EOPNOTSUPP, ENOTTY, EXDEV or EINVAL
    /// when the file system cannot do it.
    public func clone(from source: OpenFile) throws(Errno) {
        _ = try retryingEINTR(.clone) { casd_ficlone(fd, source.fd) }
    }
}

extension DirectoryHandle {
    /// openat(2) of the regular file `name` (O_NOFOLLOW): read-only, or
    /// read-write. ELOOP for a symlink; EINVAL (after opening) for anything
    /// but a regular file.
    public func openFile(_ name: FilePath, writable: Bool = false) throws(Errno) -> OpenFile {
        let fd = try name.withCString { (c) throws(Errno) in
            try retryingEINTR(.open) { openat(self.fd, c, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        }
        let file = OpenFile(adopting: fd)
        guard try file.status().isRegular else { throw Errno.invalid }
        return file
    }

    /// openat(2) O_CREAT|O_EXCL of a new, empty, root-only file `name`.
    public func createFile(_ name: FilePath) throws(Errno) -> OpenFile {
        let fd = try name.withCString { (c) throws(Errno) in
            try retryingEINTR(.open) { openat(self.fd, c, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        }
        return OpenFile(adopting: fd)
    }

    /// Opens the directory `relative` (components separated by '/', empty for
    /// this one) one component at a time, never following a symlink.
    public func openDirectory(components relative: FilePath) throws(Errno) -> DirectoryHandle {
        var current = self
        for component in relative.components {
            let fd = try component.withCString { (name) throws(Errno) in
                try retryingEINTR(.open) { openat(current.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            }
            current = DirectoryHandle(adopting: fd)
        }
        return current
    }

    /// syncfs(2) of the file system holding this directory.
    public func syncFilesystem() throws(Errno) {
        _ = try retryingEINTR(.syncfs) { casd_syncfs(fd) }
    }
}

extension Errno {
    public static let symlinkLoop = Errno(rawValue: ELOOP)
    static let notTTY = Errno(rawValue: ENOTTY)

    /// What FICLONE answers when the file system (or this pair of files) cannot share extents.
    public var meansNoReflink: Bool { [EOPNOTSUPP, ENOTTY, EXDEV, EINVAL, ENOSYS].contains(rawValue) }
}
