#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// A file with no name (memfd_create(2)): a list handed to a child as its
/// stdin, which never touches a disk and vanishes with its last descriptor.
public final class AnonymousFile: Sendable {
    public let fd: Int32

    /// Creates the file holding `bytes`, positioned at its start.
    public init(name: String, bytes: [UInt8]) throws(Errno) {
        let fd = try retryingEINTR { casd_memfd_create_cloexec(name) }
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
