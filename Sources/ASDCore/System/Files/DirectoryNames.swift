#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Byte-exact names for new code: the same *at(2) calls as `DirectoryHandle`'s
/// String methods, but names are `FilePath`s, so a name that is not UTF-8
/// survives (readdir(3) gives bytes; `String(cString:)` would rewrite them).
extension DirectoryHandle {
    /// open(2) O_DIRECTORY|O_NOFOLLOW of `path`.
    public convenience init(filePath path: FilePath) throws(Errno) {
        let fd = try path.withCString { (name) throws(Errno) -> Int32 in
            try retryingEINTR { open(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        self.init(adopting: fd)
    }

    /// openat(2) of the subdirectory `name`.
    public func openDirectory(named name: FilePath) throws(Errno) -> DirectoryHandle {
        let fd = try name.withCString { (cName) throws(Errno) -> Int32 in
            try retryingEINTR { openat(self.fd, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        return DirectoryHandle(adopting: fd)
    }

    /// Every name but "." and "..", as bytes (readdir(3) on a dup(2)).
    public func entryNames() throws(Errno) -> [FilePath] {
        let copy = try retryingEINTR { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(copy) else {
            let error = Errno.current
            close(copy)
            throw error
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [FilePath] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Errno.current }
                return names
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { FilePath(cString: $0) }
            }
            if name.bytes != [0x2e] && name.bytes != [0x2e, 0x2e] { names.append(name) }
        }
    }

    /// fstatat(2) with AT_SYMLINK_NOFOLLOW of `name`.
    public func status(named name: FilePath) throws(Errno) -> FileStatus {
        var st = stat()
        _ = try name.withCString { (cName) throws(Errno) -> Int32 in
            try retryingEINTR { fstatat(fd, cName, &st, AT_SYMLINK_NOFOLLOW) }
        }
        return FileStatus(st)
    }
}

/// A file with no name (memfd_create(2)): a list handed to a child as its
/// stdin, which never touches a disk and vanishes with its last descriptor.
public final class AnonymousFile: Sendable {
    public let fd: Int32

    private typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    private static let memfdCreate: MemfdCreate? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "memfd_create") else { return nil }
        return unsafeBitCast(symbol, to: MemfdCreate.self)
    }()

    /// Creates the file holding `bytes`, positioned at its start.
    public init(name: String, bytes: [UInt8]) throws(Errno) {
        guard let create = Self.memfdCreate else { throw Errno(rawValue: ENOSYS) }
        let fd = try retryingEINTR { create(name, 1 /* MFD_CLOEXEC */) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let error = Errno.current
                close(fd)
                throw error
            }
            written += count
        }
        if lseek(fd, 0, SEEK_SET) < 0 {
            let error = Errno.current
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
