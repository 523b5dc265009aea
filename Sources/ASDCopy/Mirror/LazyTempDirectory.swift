import ASDSystem
import Synchronization

/// A write-back's temp directory (`.base-backup_asd-tmp`, see `StagingMount`),
/// made the first time a file is actually written through it. A write-back
/// that writes no file (an unchanged resync; only metadata or deletions) never
/// creates and removes it: on btrfs that alone costs a transaction commit,
/// some 260 KiB written. Crash recovery still finds and removes a leftover
/// one (`recoverUngracefulState`), and redo journals are only ever in it.
public final class LazyTempDirectory: Sendable {
    public let path: FilePath
    private let prepare: @Sendable () throws(CopyError) -> Void
    private let handle = Mutex<DirectoryHandle?>(nil)

    /// `prepare` makes the directory (fresh and empty, `StagingMount.prepareTempDirectory`);
    /// without it the directory must exist already.
    public init(path: FilePath, prepare: @escaping @Sendable () throws(CopyError) -> Void = {}) {
        self.path = path
        self.prepare = prepare
    }

    /// The open directory; made on the first call (under a lock: the mirror's
    /// workers ask concurrently).
    public func open() throws(CopyError) -> DirectoryHandle {
        try handle.withLock { (current) throws(CopyError) -> DirectoryHandle in
            if let current { return current }
            try prepare()
            let opened = try CopyError.attempt("open the temporary directory", path) { () throws(Errno) in
                try DirectoryHandle(path: path)
            }
            current = opened
            return opened
        }
    }
}
