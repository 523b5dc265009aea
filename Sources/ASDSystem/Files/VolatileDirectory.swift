#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Why an existing directory under VOLATILE is not one asd may use: anyone can
/// create names in a world-writable VOLATILE such as /tmp, so a directory asd
/// did not make itself (a symlink, someone else's directory, one others can
/// write into) could steer root's writes anywhere.
public struct UnsafeDirectory: Error, Equatable, Sendable {
    public enum Problem: Equatable, Sendable {
        case symlink
        case notDirectory
        case notOwnedByRoot
        case writableByOthers
    }

    public let path: FilePath
    public let problem: Problem
    /// Owner and mode bits of what is there (of the link itself for a symlink).
    public let uid: UInt32
    public let permissions: UInt32
}

/// A failure while making asd's directories under VOLATILE.
public enum VolatileDirectoryError: Error, Equatable, Sendable {
    /// A system call failed: `operation` on `path`.
    case system(operation: String, path: FilePath, errno: Errno)
    /// Something is already there that asd must not use.
    case unsafe(UnsafeDirectory)
}

/// Creates asd's directories below VOLATILE without ever following a symlink:
/// each component is made with mkdirat(2) and opened with openat(2)
/// O_NOFOLLOW|O_DIRECTORY relative to its parent's descriptor, starting from a
/// descriptor of VOLATILE itself, and owner and mode are set through the
/// descriptor (fchown, fchmod). The directories leading to the leaf are root's
/// alone (0700): applications reach the data through the bind mount at the
/// target's own path, so nobody needs to pass through them, and a file that
/// the target's parent directory protects on disk stays protected.
public enum VolatileDirectory {
    /// Opens `volatile`, then walks `parents` below it (each created root-owned
    /// 0700 when missing, or checked when present: a real directory owned by
    /// root, not writable by group or others; a 0755 one of an older asd is
    /// narrowed to 0700), then creates `leaf` in the last one with `mode`, `uid`
    /// and `gid` (an existing leaf directory is kept as it is; parents are root
    /// only, so only root can have put it there).
    /// Returns the full paths of the parents it created, outermost first, and
    /// whether it created the leaf.
    public static func make(
        in volatile: FilePath, parents: [FilePath], leaf: FilePath, mode: UInt32, uid: UInt32, gid: UInt32
    ) throws(VolatileDirectoryError) -> (createdParents: [FilePath], createdLeaf: Bool) {
        var fd = try open(volatile)
        defer { close(fd) }
        try checkBase(fd, volatile)
        var path = volatile
        var created: [FilePath] = []
        for name in parents {
            path = path.appending(name)
            let (child, made) = try openOrCreate(name, in: fd, path: path)
            close(fd)
            fd = child
            if made {
                created.append(path)
            } else {
                try checkOwned(child, path)
            }
        }
        let leafPath = path.appending(leaf)
        let (leafFD, madeLeaf) = try openOrCreate(leaf, in: fd, path: leafPath)
        defer { close(leafFD) }
        if madeLeaf {
            try attempt("set the owner and mode of", leafPath) { () throws(Errno) in
                _ = try retryingEINTR(.changeOwner) { fchown(leafFD, uid, gid) }
                _ = try retryingEINTR(.changeMode) { fchmod(leafFD, mode_t(mode & 0o7777)) }
            }
        }
        return (created, madeLeaf)
    }

    /// VOLATILE itself (named by root in the config, so it may be reached
    /// through symlinks) must be root's, and sticky when others may write in it
    /// (as /tmp and /dev/shm are): otherwise its owner could rename asd's
    /// directories away and put others in their place.
    private static func checkBase(_ fd: Int32, _ path: FilePath) throws(VolatileDirectoryError) {
        let status = try fstatus(fd, path)
        if status.uid != 0 {
            throw .unsafe(UnsafeDirectory(path: path, problem: .notOwnedByRoot, uid: status.uid, permissions: status.permissions))
        }
        if status.permissions & 0o022 != 0 && status.permissions & 0o1000 == 0 {
            throw .unsafe(UnsafeDirectory(path: path, problem: .writableByOthers, uid: status.uid, permissions: status.permissions))
        }
    }

    /// An existing parent must be root's and closed to others; an older asd's
    /// 0755 is narrowed to 0700.
    private static func checkOwned(_ fd: Int32, _ path: FilePath) throws(VolatileDirectoryError) {
        let status = try fstatus(fd, path)
        if status.uid != 0 {
            throw .unsafe(UnsafeDirectory(path: path, problem: .notOwnedByRoot, uid: status.uid, permissions: status.permissions))
        }
        if status.permissions & 0o022 != 0 {
            throw .unsafe(UnsafeDirectory(path: path, problem: .writableByOthers, uid: status.uid, permissions: status.permissions))
        }
        if status.permissions & 0o7777 != 0o700 {
            try attempt("make root-only (0700)", path) { () throws(Errno) in
                _ = try retryingEINTR(.changeMode) { fchmod(fd, 0o700) }
            }
        }
    }

    /// mkdirat(2) 0700 root:root, then openat(2) O_NOFOLLOW|O_DIRECTORY. When
    /// the name exists, only a real directory is opened; a symlink or anything
    /// else is refused, naming what it is and who owns it.
    private static func openOrCreate(_ name: FilePath, in parent: Int32, path: FilePath) throws(VolatileDirectoryError) -> (Int32, Bool) {
        var made = true
        do throws(Errno) {
            _ = try name.withCString { (c) throws(Errno) in try retryingEINTR(.makeDirectory) { mkdirat(parent, c, 0o700) } }
        } catch {
            guard error == .exists else { throw .system(operation: "create the directory", path: path, errno: error) }
            made = false
        }
        let fd: Int32
        do throws(Errno) {
            fd = try name.withCString { (c) throws(Errno) in
                try retryingEINTR(.open) { openat(parent, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            }
        } catch {
            guard error == Errno(rawValue: ELOOP) || error == .notDirectory else {
                throw .system(operation: "open the directory", path: path, errno: error)
            }
            var st = stat()
            let found = name.withCString { fstatat(parent, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0
            let problem: UnsafeDirectory.Problem = found && st.st_mode & S_IFMT == S_IFLNK ? .symlink : .notDirectory
            throw .unsafe(UnsafeDirectory(path: path, problem: problem, uid: found ? st.st_uid : 0,
                                          permissions: found ? UInt32(st.st_mode) & 0o7777 : 0))
        }
        if made {
            do throws(Errno) {
                _ = try retryingEINTR(.changeOwner) { fchown(fd, 0, 0) }
                _ = try retryingEINTR(.changeMode) { fchmod(fd, 0o700) }
            } catch {
                close(fd)
                throw .system(operation: "make root-only (0700)", path: path, errno: error)
            }
        }
        return (fd, made)
    }

    private static func open(_ path: FilePath) throws(VolatileDirectoryError) -> Int32 {
        try attempt("open", path) { () throws(Errno) in
            try path.withCString { (c) throws(Errno) in try retryingEINTR { Glibc.open(c, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } }
        }
    }

    private static func fstatus(_ fd: Int32, _ path: FilePath) throws(VolatileDirectoryError) -> FileStatus {
        try attempt("read the owner and mode of", path) { () throws(Errno) in
            var st = stat()
            _ = try retryingEINTR { fstat(fd, &st) }
            return FileStatus(st)
        }
    }

    private static func attempt<T>(
        _ operation: String, _ path: FilePath, _ body: () throws(Errno) -> T
    ) throws(VolatileDirectoryError) -> T {
        do throws(Errno) {
            return try body()
        } catch {
            throw .system(operation: operation, path: path, errno: error)
        }
    }
}
