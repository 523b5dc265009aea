#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Whether anything changed on a file system during a span of time, from the
/// kernel: a fanotify(7) group with a mark on the whole file system reports
/// every change of content (write, truncate), metadata (mode, owner, times,
/// xattrs) and names (create, delete, rename) made from the moment the watch
/// exists, by any process in any mount namespace (doc/DESIGN.md,
/// "Consistent write-back"). Not reported, as by any scan of the tree:
/// stores through a shared memory mapping.
///
/// The watch only says "something changed somewhere on this file system":
/// the caller treats any event as a change of its own tree. A queue that
/// overflows reports that too (an event of its own).
public final class ChangeWatch {
    private let fd: Int32

    /// Starts watching the file system that holds `path`. Throws when the
    /// kernel offers no such watch (no fanotify, a file system without file
    /// identifiers, no CAP_SYS_ADMIN).
    public init(fileSystemOf path: FilePath) throws(Errno) {
        fd = try retryingEINTR { path.withCString { casd_fanotify_watch_filesystem($0) } }
    }

    deinit { close(fd) }

    /// Whether a change was reported since the watch began (or since the last
    /// call that returned true: the events read are gone). A failed read
    /// counts as a change.
    public func sawChanges() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return count > 0 }
            if errno != EINTR { return errno != EAGAIN }
        }
    }
}
