#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Thin wrappers over the file system calls asd needs. Each throws the
/// `Errno` of the failing call; callers convert it (`ASDError.attempt`)
/// with what they were doing. Nothing here follows a symlink unless its
/// name says so.
public enum FileOps {
    // MARK: Directories

    /// opendir(3) / readdir(3): the names in `path`, without "." and "..",
    /// in the order the file system returns them.
    static func listDirectory(_ path: FilePath) throws(Errno) -> [FilePath] {
        let fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } }
        return try DirectoryHandle(adopting: fd).entries()
    }

    /// mkdir(2) 0700, then owner and mode set through the new directory's own
    /// descriptor (opened O_NOFOLLOW: a symlink swapped in meanwhile is
    /// refused, never chowned or chmodded through), so the umask does not
    /// interfere. `uid`/`gid` nil keep the creator's. EEXIST when it exists.
    public static func makeDirectory(
        _ path: FilePath, mode: UInt32, uid: UInt32? = nil, gid: UInt32? = nil
    ) throws(Errno) {
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { mkdir(c, 0o700) } }
        let directory = try DirectoryHandle(path: path)
        if uid != nil || gid != nil {
            try directory.changeOwner(".", uid: uid ?? UInt32.max, gid: gid ?? UInt32.max)
        }
        try directory.changeMode(".", mode)
    }

    /// `mkdir -p`: creates `path` and any missing parents. Missing parents
    /// are created 0755, root-owned when running as root; the last component
    /// gets `mode` (and `uid`/`gid` when given). Existing directories are
    /// left as they are; an existing non-directory fails with ENOTDIR.
    public static func makeDirectories(
        _ path: FilePath, mode: UInt32 = 0o755, uid: UInt32? = nil, gid: UInt32? = nil
    ) throws(Errno) {
        if let existing = try statusIfExists(path) {
            if existing.isDirectory { return }
            throw Errno.notDirectory
        }
        let trimmed = path.trimmingTrailingSlashes
        let parent = trimmed.parent
        if parent != trimmed && !parent.isEmpty {
            let root: UInt32? = geteuid() == 0 ? 0 : nil
            try makeDirectories(parent, mode: 0o755, uid: root, gid: root)
        }
        do {
            try makeDirectory(trimmed, mode: mode, uid: uid, gid: gid)
        } catch {
            // Lost a race with another creator: fine if it is a directory now.
            guard error == .exists, try status(trimmed).isDirectory else { throw error }
        }
    }

    /// rmdir(2).
    public static func removeDirectory(_ path: FilePath) throws(Errno) {
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { rmdir(c) } }
    }

    // MARK: Links and nodes

    /// link(2): a new name `newPath` for the file `existing` (not followed).
    public static func hardLink(_ existing: FilePath, _ newPath: FilePath) throws(Errno) {
        _ = try existing.withCString { (from) throws(Errno) in
            try newPath.withCString { (to) throws(Errno) in try retryingEINTR(.link) { linkat(AT_FDCWD, from, AT_FDCWD, to, 0) } }
        }
    }

    /// readlink(2): the target bytes of a symlink.
    public static func readSymlink(_ path: FilePath) throws(Errno) -> FilePath {
        try readLink(directoryFD: AT_FDCWD, name: path)
    }

    /// readlinkat(2) with a growing buffer.
    static func readLink(directoryFD: Int32, name: FilePath) throws(Errno) -> FilePath {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = try name.withCString { (c) throws(Errno) in
                try retryingEINTR {
                    buffer.withUnsafeMutableBufferPointer { raw in
                        raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: capacity) {
                            readlinkat(directoryFD, c, $0, capacity)
                        }
                    }
                }
            }
            if count < capacity { return FilePath(buffer[..<count]) }
            capacity *= 4
        }
    }

    /// symlink(2): creates `path` pointing at `target` (which may dangle).
    public static func createSymlink(_ path: FilePath, target: FilePath) throws(Errno) {
        _ = try target.withCString { (t) throws(Errno) in
            try path.withCString { (c) throws(Errno) in try retryingEINTR { symlink(t, c) } }
        }
    }

    /// mknod(2) (mkfifo(3) for a fifo): a fifo, socket or device node with
    /// `permissions`; `rdev` is the device number for devices.
    public static func makeNode(
        _ path: FilePath, type: FileType, permissions: UInt32, rdev: UInt64 = 0
    ) throws(Errno) {
        _ = try path.withCString { (c) throws(Errno) in
            try retryingEINTR { mknod(c, type.formatBits | (permissions & 0o7777), dev_t(rdev)) }
        }
    }

    // MARK: Metadata

    /// lchown(2): nil keeps the current owner or group. Does not follow symlinks.
    public static func changeOwner(_ path: FilePath, uid: UInt32?, gid: UInt32?) throws(Errno) {
        _ = try path.withCString { (c) throws(Errno) in
            try retryingEINTR { lchown(c, uid ?? UInt32.max, gid ?? UInt32.max) }
        }
    }

    /// fchmodat(2) on `path` (including setuid/setgid/sticky bits). A symlink
    /// is followed, as Linux cannot change a symlink's mode.
    public static func changeMode(_ path: FilePath, _ permissions: UInt32) throws(Errno) {
        _ = try path.withCString { (c) throws(Errno) in
            try retryingEINTR { fchmodat(AT_FDCWD, c, mode_t(permissions & 0o7777), 0) }
        }
    }

    /// utimensat(2) with AT_SYMLINK_NOFOLLOW: sets access and modification
    /// times with nanosecond precision on `path` itself.
    public static func setTimes(_ path: FilePath, access: FileTime, modification: FileTime) throws(Errno) {
        var times = [access.timespec, modification.timespec]
        _ = try path.withCString { (c) throws(Errno) in
            try retryingEINTR { utimensat(AT_FDCWD, c, &times, AT_SYMLINK_NOFOLLOW) }
        }
    }

    // MARK: Names

    /// rename(2): atomically replaces `destination` (same file system only).
    public static func rename(_ source: FilePath, to destination: FilePath) throws(Errno) {
        _ = try source.withCString { (from) throws(Errno) in
            try destination.withCString { (to) throws(Errno) in try retryingEINTR(.rename) { Glibc.rename(from, to) } }
        }
    }

    /// unlink(2): removes a non-directory name.
    public static func unlink(_ path: FilePath) throws(Errno) {
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR(.unlink) { Glibc.unlink(c) } }
    }

    /// `path` + ".<tag>-<getpid()>": a temp name next to `path`, on the same
    /// file system (so rename(2) can move it into place) and unique per process.
    public static func temporarySibling(of path: FilePath, tag: String) -> FilePath {
        path + ".\(tag)-\(getpid())"
    }

    // MARK: Durability

    /// open(2) O_NOFOLLOW + fsync(2) + close(2): flushes a file's data and metadata.
    static func fsyncFile(_ path: FilePath) throws(Errno) {
        try flush(path, flags: O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    }

    /// open(2) O_DIRECTORY + fsync(2): makes entries created, renamed or
    /// removed in `path` durable.
    static func fsyncDirectory(_ path: FilePath) throws(Errno) {
        try flush(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    /// open(2) with `flags`, fsync(2), close(2) (never retried: Linux
    /// releases the descriptor even when close reports EINTR).
    public static func flush(_ path: FilePath, flags: Int32) throws(Errno) {
        let fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, flags) } }
        defer { close(fd) }
        _ = try retryingEINTR(.fsync) { Glibc.fsync(fd) }
    }

    // MARK: Users

    /// getpwuid_r(3): the user name of `uid`, or the number as text.
    public static func userName(uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let rc = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
            if rc == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            guard rc == 0, result != nil, let name = entry.pw_name else { return String(uid) }
            return String(cString: name)
        }
    }

    /// getgrgid_r(3): the group name of `gid`, or the number as text.
    static func groupName(gid: UInt32) -> String {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let rc = getgrgid_r(gid, &entry, &buffer, buffer.count, &result)
            if rc == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            guard rc == 0, result != nil, let name = entry.gr_name else { return String(gid) }
            return String(cString: name)
        }
    }
}

extension Errno {
    /// EMLINK: the inode has the maximum number of links.
    public static let tooManyLinks = Errno(rawValue: EMLINK)
}

extension FileOps {
    /// lstat(2) succeeds: something (even a dangling symlink) is at `path`.
    public static func exists(_ path: FilePath) -> Bool {
        (try? status(path)) != nil
    }

    /// lstat(2) shows a directory (a symlink to one does not count).
    public static func isDirectory(_ path: FilePath) -> Bool {
        (try? status(path))?.isDirectory ?? false
    }
}
