#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

extension FileOps {
    /// Copies the regular file `source` to the new file `destination`
    /// (which must not exist: O_EXCL): content via copy_file_range(2), falling
    /// back to read(2)/write(2) across file systems; then owner (fchown),
    /// xattrs (fsetxattr, after chown so security.capability survives), mode
    /// (fchmod, after chown so setuid/setgid bits stay) and times (futimens).
    /// The data is not fsynced; call `fsyncFile` when it must be durable.
    /// On failure the partial destination is removed.
    /// Returns the bytes copied.
    @discardableResult
    public static func copyFile(from source: FilePath, to destination: FilePath) throws(Errno) -> Int64 {
        try copyFile(directoryFD: AT_FDCWD, source, toDirectoryFD: AT_FDCWD, destination)
    }

    /// `copyFile` with each side named relative to an open directory (openat(2)).
    public static func copyFile(
        directoryFD: Int32, _ source: FilePath, toDirectoryFD: Int32, _ destination: FilePath
    ) throws(Errno) -> Int64 {
        let input = try source.withCString { (c) throws(Errno) in
            try retryingEINTR(.open) { openat(directoryFD, c, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        }
        defer { close(input) }
        var st = stat()
        _ = try retryingEINTR { fstat(input, &st) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Errno.invalid }
        let output = try destination.withCString { (c) throws(Errno) in
            try retryingEINTR(.open) { openat(toDirectoryFD, c, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        }
        var closed = false
        defer { if !closed { close(output) } }
        do throws(Errno) {
            try copyContent(from: input, to: output, size: Int(st.st_size))
            _ = try retryingEINTR(.changeOwner) { fchown(output, st.st_uid, st.st_gid) }
            try copyXattrs(fromFD: input, toFD: output)
            _ = try retryingEINTR(.changeMode) { fchmod(output, st.st_mode & 0o7777) }
            var times = [st.st_atim, st.st_mtim]
            _ = try retryingEINTR(.setTimes) { futimens(output, &times) }
            // Never retried: Linux releases the descriptor even when close
            // reports EINTR, and a retry could close one another thread opened.
            closed = true
            if close(output) != 0 && errno != EINTR { throw Errno.current }
        } catch {
            destination.withCString { _ = Glibc.unlinkat(toDirectoryFD, $0, 0) }
            throw error
        }
        return Int64(st.st_size)
    }

    /// copy_file_range(2) until EOF; sendfile(2) when the kernel refuses a
    /// copy between these file systems (EXDEV: ext4 to tmpfs), still without
    /// a trip through user space; read(2)/write(2) as the last resort.
    static func copyContent(from input: Int32, to output: Int32, size: Int) throws(Errno) {
        let chunk = max(size, 1 << 20)
        var useRange = true
        while useRange {
            let copied = syscall(.copyFileRange) { casd_copy_file_range(input, output, chunk) }
            if copied == 0 { return }
            if copied > 0 { continue }
            let error = Errno.current
            switch error.rawValue {
            case EINTR: continue
            case EXDEV, EINVAL, ENOSYS, EOPNOTSUPP: useRange = false
            default: throw error
            }
        }
        // Both offsets are still 0 here: copy_file_range copied nothing.
        var useSendfile = true
        while useSendfile {
            let sent = syscall(.sendfile) { sendfile(output, input, nil, chunk) }
            if sent == 0 { return }
            if sent > 0 { continue }
            let error = Errno.current
            switch error.rawValue {
            case EINTR: continue
            case EINVAL, ENOSYS: useSendfile = false
            default: throw error
            }
        }
        var buffer = [UInt8](repeating: 0, count: min(max(size, 4096), 1 << 17))
        while true {
            let got = try retryingEINTR(.read) { buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) } }
            if got == 0 { return }
            var offset = 0
            while offset < got {
                let written = try retryingEINTR(.write) {
                    buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, got - offset) }
                }
                offset += written
            }
        }
    }
}
