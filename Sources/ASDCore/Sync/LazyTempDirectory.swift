import Synchronization

/// A write-back's temp directory (`.base-backup_asd-tmp`, see `StagingMount`),
/// made the first time a file is actually written through it. A write-back
/// that writes no file (an unchanged resync; only metadata or deletions) never
/// creates and removes it: on btrfs that alone costs a transaction commit,
/// some 260 KiB written. Crash recovery still finds and removes a leftover
/// one (`recoverUngracefulState`), and redo journals are only ever in it.
final class LazyTempDirectory: Sendable {
    let path: FilePath
    private let prepare: @Sendable () throws(ASDError) -> Void
    private let handle = Mutex<DirectoryHandle?>(nil)

    /// `prepare` makes the directory (fresh and empty, `StagingMount.prepareTempDirectory`);
    /// without it the directory must exist already.
    init(path: FilePath, prepare: @escaping @Sendable () throws(ASDError) -> Void = {}) {
        self.path = path
        self.prepare = prepare
    }

    /// The open directory; made on the first call (under a lock: the mirror's
    /// workers ask concurrently).
    func open() throws(ASDError) -> DirectoryHandle {
        try handle.withLock { (current) throws(ASDError) -> DirectoryHandle in
            if let current { return current }
            try prepare()
            let opened = try ASDError.attempt("open the temporary directory", path) { () throws(Errno) in
                try DirectoryHandle(path: path)
            }
            current = opened
            return opened
        }
    }
}
