#if canImport(Glibc)
@preconcurrency import Glibc
#endif

extension FileOps {
    /// Writes `contents` to a temp file beside `path` (open O_EXCL, write,
    /// fchmod, fsync), renames it over `path` and fsyncs the directory, so
    /// readers see the old or the new file and a crash leaves no torn one.
    public static func writeFileAtomically(_ path: String, contents: [UInt8], mode: UInt32) throws(Errno) {
        let temp = temporarySibling(of: path, tag: "new")
        let fd = try retryingEINTR { open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        do throws(Errno) {
            var offset = 0
            while offset < contents.count {
                let written = try retryingEINTR {
                    contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                }
                offset += written
            }
            _ = try retryingEINTR { fchmod(fd, mode_t(mode)) }
            _ = try retryingEINTR { fsync(fd) }
            close(fd)
            try rename(temp, to: path)
        } catch {
            close(fd)
            _ = Glibc.unlink(temp)
            throw error
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        try fsyncDirectory(directory)
    }
}
