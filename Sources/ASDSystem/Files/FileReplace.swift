#if canImport(Glibc)
@preconcurrency import Glibc
#endif

extension DirectoryHandle {
    /// Replaces the file `name` in this directory atomically: a temp file
    /// `tempName` created here O_EXCL|O_NOFOLLOW (mode 0600 until written),
    /// filled, fchmod to `mode`, fsync'd, renamed over `name` (renameat(2):
    /// a reader opens the old file or the new one, never a part), and the
    /// directory fsync'd. Nothing is looked up by path, and a symlink planted
    /// at either name is replaced, never followed. A temp file left by a
    /// process that died (same name: its pid was reused) is removed first.
    public func replaceFile(_ name: FilePath, tempName: FilePath, contents: [UInt8], mode: UInt32) throws(Errno) {
        let fd: Int32
        do throws(Errno) {
            fd = try createExclusive(tempName, mode: 0o600)
        } catch where error == .exists {
            try remove(tempName)
            fd = try createExclusive(tempName, mode: 0o600)
        }
        do throws(Errno) {
            var done = 0
            while done < contents.count {
                done += try retryingEINTR(.write) { contents.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) } }
            }
            _ = try retryingEINTR(.changeMode) { fchmod(fd, mode_t(mode)) }
            _ = try retryingEINTR(.fsync) { fsync(fd) }
        } catch {
            close(fd)
            try? remove(tempName)
            throw error
        }
        close(fd)
        do throws(Errno) {
            try rename(tempName, to: self, as: name)
        } catch {
            try? remove(tempName)
            throw error
        }
        try sync()
    }
}
