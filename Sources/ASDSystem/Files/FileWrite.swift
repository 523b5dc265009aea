#if canImport(Glibc)
@preconcurrency import Glibc
#endif

extension FileOps {
    /// Writes `contents` to a temp file beside `path` (open O_EXCL, write,
    /// fchmod, fsync), renames it over `path` and fsyncs the directory, so
    /// readers see the old or the new file and a crash leaves no torn one.
    public static func writeFileAtomically(_ path: FilePath, contents: [UInt8], mode: UInt32) throws(Errno) {
        let temp = temporarySibling(of: path, tag: "new")
        let fd = try temp.withCString { (c) throws(Errno) in
            try retryingEINTR(.open) { open(c, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        }
        do throws(Errno) {
            var offset = 0
            while offset < contents.count {
                let written = try retryingEINTR(.write) {
                    contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                }
                offset += written
            }
            _ = try retryingEINTR(.changeMode) { fchmod(fd, mode_t(mode)) }
            _ = try retryingEINTR(.fsync) { fsync(fd) }
            close(fd)
            try rename(temp, to: path)
        } catch {
            close(fd)
            try? unlink(temp)
            throw error
        }
        try fsyncDirectory(path.directory)
    }
}
