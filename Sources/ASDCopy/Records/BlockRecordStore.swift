import ASDSystem
import Synchronization

/// The block records of one target during one write-back (doc/DESIGN.md
/// §6.6): loaded from `path` (a file in a root-only directory
/// under VOLATILE) when the write-back starts, looked up by the disk file's
/// device and inode and used only when its whole identity still matches,
/// updated as files are written, and saved by `commit()` only after the
/// write-back's own flush. The file lives in RAM like the data it speaks of
/// in the page cache: a power cut loses both, a crash of asd loses neither.
public final class BlockRecordStore: Sendable {
    /// A file written by this write-back, to be recorded once it is durable.
    struct Pending: Sendable {
        let directory: DirectoryHandle
        let name: FilePath
        /// What fstat said right after asd's last change to the file (the
        /// inode, size and mtime asd gave it, and the ctime that left);
        /// a record is made only if the file still looks exactly like this
        /// after the flush.
        let written: BlockRecord.Identity
        let blockSize: Int
        let hashes: [BlockHash]
        /// The record the file had before (its old inode), dropped.
        let replaces: BlockRecord.Identity?
    }

    public let path: FilePath
    public let hasher: BlockHasher
    private let records: [BlockRecord.Key: BlockRecord]
    private let pending = Mutex<[Pending]>([])

    /// Loads `path`; a missing, unreadable or corrupt file gives an empty store with a new seed.
    public init(path: FilePath) {
        self.path = path
        let loaded = (try? readFile(path)).flatMap { try? BlockRecordFile.decode($0) }
        hasher = BlockHasher(seed: loaded?.seed ?? BlockHasher.randomSeed())
        var records: [BlockRecord.Key: BlockRecord] = [:]
        for record in loaded?.records ?? [] { records[record.identity.key] = record }
        self.records = records
    }

    public var count: Int { records.count }

    /// The record of the disk file `status` describes, if its identity is
    /// unchanged since it was recorded.
    public func record(for status: FileStatus) -> BlockRecord? {
        let identity = BlockRecord.Identity(status)
        guard status.isRegular, let record = records[identity.key], record.identity == identity else { return nil }
        return record
    }

    /// Notes that `name` in `directory` now holds blocks with `hashes`, as
    /// fstat showed it (`written`) after asd's last change to it.
    func add(
        _ name: FilePath, in directory: DirectoryHandle, written: FileStatus, blockSize: Int, hashes: [BlockHash],
        replacing old: FileStatus?
    ) {
        guard written.size >= BlockRecord.minimumFileSize,
              hashes.count == BlockRecord.blockCount(written.size, blockSize) else { return }
        let item = Pending(directory: directory, name: name, written: BlockRecord.Identity(written),
                           blockSize: blockSize, hashes: hashes, replaces: old.map(BlockRecord.Identity.init))
        pending.withLock { $0.append(item) }
    }

    /// Forgets what this write-back noted (it failed: nothing it wrote is known to be durable).
    public func discard() {
        pending.withLock { $0.removeAll() }
    }

    /// After the flush: records every noted file that still has the identity
    /// it had after asd's last change (anything else, or a file that is
    /// gone, gets no record), keeps the records of files not written, and
    /// replaces the file atomically (temp file, rename). Failing, it removes
    /// the file: a missing record only costs a read.
    public func commit() throws(Errno) {
        let written = pending.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        var records = self.records
        for item in written {
            if let old = item.replaces, records[old.key]?.identity == old { records[old.key] = nil }
            guard let now = try? item.directory.status(item.name), now.isRegular,
                  BlockRecord.Identity(now) == item.written else { continue }
            records[item.written.key] = BlockRecord(identity: item.written, blockSize: item.blockSize, hashes: item.hashes)
        }
        guard !written.isEmpty || records.count != self.records.count else { return }
        let file = BlockRecordFile(seed: hasher.seed, records: Array(records.values))
        do throws(Errno) {
            try FileOps.writeFileAtomically(path, contents: file.encoded(), mode: 0o600)
        } catch {
            try? FileOps.unlink(path)
            throw error
        }
    }
}
