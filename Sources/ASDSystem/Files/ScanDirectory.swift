#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A directory opened by the scan (opendir via openat(2) + fdopendir(3)).
/// Subdirectories still waiting to be read are opened relative to it, so it
/// stays open until the last of them is taken; closedir(3) when released.
final class ScanDirectory: @unchecked Sendable {
    let stream: OpaquePointer
    let fd: Int32

    /// fdopendir(3) on `fd`; the stream owns it from then on.
    init(adopting fd: Int32) throws(Errno) {
        guard let stream = fdopendir(fd) else {
            let error = Errno.current
            close(fd)
            throw error
        }
        self.stream = stream
        self.fd = dirfd(stream)
    }

    deinit { closedir(stream) }
}

/// A subdirectory found but not read yet: its name (NUL-terminated) in `parent`.
struct PendingDirectory: @unchecked Sendable {
    let parent: ScanDirectory
    let name: [CChar]
}
