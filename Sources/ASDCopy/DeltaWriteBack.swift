import ASDSystem
import Synchronization

/// The write-back of a changed regular file that exists on disk as a regular
/// file, writing only the blocks that differ (doc/DESIGN.md §6.3), for `TreeMirror`:
///
/// - Reflinks (btrfs, xfs): the disk file is cloned (FICLONE) to a temp name,
///   the changed blocks are written into the clone, which gets the owner,
///   xattrs, mode and times of the RAM copy and is renamed over the old name.
///   The old inode, and the snapshot sharing it, stay untouched. (Also for
///   files with one link: on btrfs the journal's fdatasyncs each write the
///   log tree, 3.8 MB against 0.7 for the clones of the RRD write-back of
///   Tests/bench/watch-wear.sh; on xfs both cost about the same: doc/DESIGN.md §6.7.)
/// - No reflinks, one link (not shared with the snapshot): changed in place,
///   through a redo journal in the temp directory (`RedoJournal`).
/// - No reflinks and shared with the snapshot, or most of the file changed:
///   not handled here (nil); the caller writes the whole file, as before.
///
/// Work is batched: one journal and one flush for up to `batchFiles` files
/// or `batchBytes` of changes. `flush()` then: journal written and flushed
/// (fdatasync, fsync of its directory), clones' new blocks mapped (below),
/// changes applied in place, clones renamed, the journal retired
/// (`retireJournal`: up to 64 files, their data flushed, then it goes).
/// A clone is renamed only once its new blocks are mapped into it, so that
/// the rename cannot reach the disk before them. Where FIEMAP_FLAG_SYNC
/// waits for that (`FileSystemInfo.mapsDataOnFiemapSync`: btrfs from Linux
/// 6.1, xfs) each clone is waited for that way, and the write-back's final
/// syncfs commits the blocks and the renames at once: on btrfs one
/// transaction commit per write-back instead of two. Elsewhere one syncfs
/// per batch flushes the clones first.
/// The write-back's own final syncfs makes the changes durable; a journal not
/// retired goes only then, with the temp directory (`StagingMount.close`). A
/// crash before the journal is flushed leaves the old files (a torn journal is
/// discarded at the next start); after it, the next start replays the
/// journal (`RedoReplay`; replaying an applied journal changes nothing).
final class DeltaWriteBack: Sendable {
    struct InPlace: Sendable {
        let record: RedoJournal.Record
        let directory: DirectoryHandle
        let name: FilePath
        let source: FileStatus
        let sourceDirectory: DirectoryHandle
        /// The destination directory's path, for messages.
        let shown: FilePath
        /// The disk file as compared; recorded only if nothing else changed it since.
        let scanned: FileStatus
        let recording: Recording?
    }

    struct Clone: Sendable {
        let tempDirectory: DirectoryHandle
        let tempName: FilePath
        let directory: DirectoryHandle
        let name: FilePath
        let shown: FilePath
        let inode: UInt64
        let replaces: FileStatus
        let recording: Recording?
    }

    /// The block checksums of the new content, for `BlockRecordStore`.
    struct Recording: Sendable {
        let blockSize: Int
        let hashes: [BlockHash]
    }

    struct Pending: Sendable {
        var inPlace: [InPlace] = []
        var clones: [Clone] = []
        var bytes = 0
        var count: Int { inPlace.count + clones.count }
    }

    static let batchBytes = 8 << 20
    static let batchFiles = 512
    /// Journalled changes above this (or above half the file) are written whole instead.
    static let journalLimit: Int64 = 32 << 20
    /// Changed bytes the comparison holds in memory for a clone; past it the
    /// clone is written from the RAM copy after the comparison (no record).
    static let cloneBufferLimit: Int64 = 64 << 20
    /// The checksum key when there is no record store (a fixed one: nothing is kept).
    static let unrecordedHasher = BlockHasher(seed: (0, 0))

    /// The temp directory (journals, clones), nil when unstaged (then no journal).
    let temp: LazyTempDirectory?
    /// Clones are ordered before their renames by `OpenFile.waitForMappedData`
    /// (true) or by one syncfs per batch (false).
    let mapsDataOnFiemap: Bool
    /// Inode of the destination root, recorded in each journal.
    let rootInode: UInt64
    /// The block records of the target (nil: none kept, e.g. tests).
    let records: BlockRecordStore?
    /// 0 unknown, 1 the file system clones, 2 it does not.
    private let reflinks = Atomic<Int>(0)
    private let counter = Atomic<Int>(0)
    private let pending = Mutex(Pending())

    init(temp: LazyTempDirectory?, rootInode: UInt64, mapsDataOnFiemap: Bool = false, records: BlockRecordStore? = nil,
         clones: Bool? = nil) {
        self.temp = temp
        if clones == false { reflinks.store(2, ordering: .relaxed) }
        self.rootInode = rootInode
        self.mapsDataOnFiemap = mapsDataOnFiemap
        self.records = records
    }

    /// Brings `name` in `destination` (now `existing`) up to date with `name` in
    /// `source`, if a delta write-back applies; returns the bytes it will write,
    /// or nil when the caller must write the whole file. `temp` is the open
    /// temp directory (nil when unstaged).
    func write(
        _ name: FilePath, in relative: FilePath, from source: DirectoryHandle, to destination: DirectoryHandle,
        existing: FileStatus, temp: DirectoryHandle?, shown: FilePath
    ) throws(Errno) -> Int64? {
        let shared = existing.linkCount > 1
        let journal = !shared && temp != nil
        guard journal || reflinks.load(ordering: .relaxed) != 2 else { return nil }
        let new = try source.openFile(name), old = try destination.openFile(name)
        let newStatus = try new.status(), oldStatus = try old.status()
        guard oldStatus.inode == existing.inode, oldStatus.linkCount == existing.linkCount else { return nil }
        let mayClone = reflinks.load(ordering: .relaxed) != 2
        let journalLimit = min(Self.journalLimit, max(64 << 10, newStatus.size / 2))
        guard let scan = try DeltaScan.scan(
            new: new, newSize: newStatus.size, old: old, oldSize: oldStatus.size, record: records?.record(for: oldStatus),
            hasher: records?.hasher ?? Self.unrecordedHasher, limit: mayClone ? Self.cloneBufferLimit : journalLimit)
        else {
            guard mayClone, let ranges = try BlockDiff.ranges(new: new, newSize: newStatus.size, old: old, oldSize: oldStatus.size)
            else { return nil }
            return try clone(new, newStatus, old, oldStatus, name, into: destination, temp: temp, shown, recording: nil) {
                (copy) throws(Errno) in try Self.copyRanges(ranges, from: new, to: copy)
            }
        }
        let recording = records.map { _ in Recording(blockSize: scan.blockSize, hashes: scan.hashes) }
        if scan.writes.isEmpty && newStatus.size == oldStatus.size && !shared {
            // Same bytes: only times (and owner, mode, xattrs) to set, each atomic in place.
            let unchanged = BlockRecord.Identity(try old.status()) == BlockRecord.Identity(oldStatus)
            try old.setTimes(access: newStatus.accessTime, modification: newStatus.modificationTime)
            try fixMetadata(name, in: destination, of: old, like: newStatus, from: source, shown: shown)
            if unchanged, let recording {
                records?.add(name, in: destination, written: try old.status(), blockSize: recording.blockSize,
                             hashes: recording.hashes, replacing: nil)
            }
            return 0
        }
        if mayClone, let written = try clone(new, newStatus, old, oldStatus, name, into: destination, temp: temp, shown,
                                              recording: recording, fill: { (copy) throws(Errno) in
            for write in scan.writes { try copy.write(write.bytes[...], at: write.offset) }
            return scan.changedBytes
        }) {
            return written
        }
        guard journal, scan.changedBytes <= journalLimit,
              (try? destination.openFile(name, writable: true)) != nil  // else it cannot be changed in place
        else { return nil }
        let record = RedoJournal.Record(
            directory: relative, name: name, inode: oldStatus.inode, size: newStatus.size,
            accessTime: newStatus.accessTime, modificationTime: newStatus.modificationTime, writes: scan.writes)
        let item = InPlace(record: record, directory: destination, name: name, source: newStatus, sourceDirectory: source,
                           shown: shown, scanned: oldStatus, recording: recording)
        pending.withLock {
            $0.inPlace.append(item)
            $0.bytes += record.dataBytes
        }
        return Int64(record.dataBytes)
    }

    /// The reflink path; nil when the file system cannot clone (remembered).
    /// `fill` writes the changed bytes into the clone. The new content is
    /// recorded only if the disk file did not change between its comparison
    /// and its clone.
    private func clone(
        _ new: OpenFile, _ newStatus: FileStatus, _ old: OpenFile, _ oldStatus: FileStatus, _ name: FilePath,
        into destination: DirectoryHandle, temp: DirectoryHandle?, _ shown: FilePath, recording: Recording?,
        fill: (OpenFile) throws(Errno) -> Int64
    ) throws(Errno) -> Int64? {
        let directory = temp ?? destination
        let tempName: FilePath = ".asd-tmp-\(ProcessIdentity.pid)-d\(counter.add(1, ordering: .relaxed).newValue)"
        let copy = try directory.createFile(tempName)
        var written: Int64 = 0
        var recording = recording
        do throws(Errno) {
            do throws(Errno) {
                try copy.clone(from: old)
            } catch {
                guard error.meansNoReflink else { throw error }
                if error != .invalid { reflinks.store(2, ordering: .relaxed) }
                try? directory.remove(tempName)
                return nil
            }
            reflinks.store(1, ordering: .relaxed)
            if BlockRecord.Identity(try old.status()) != BlockRecord.Identity(oldStatus) { recording = nil }
            written = try fill(copy)
            // Not to the same size: xfs would copy the shared last block to zero its tail.
            if try copy.status().size != newStatus.size { try copy.truncate(to: newStatus.size) }
            // As FileOps.copyFile: owner, then xattrs (and ACLs), then mode, then times.
            try copy.setOwner(uid: newStatus.uid, gid: newStatus.gid)
            try copy.copyXattrs(from: new)
            try copy.setMode(newStatus.permissions)
            try copy.setTimes(access: newStatus.accessTime, modification: newStatus.modificationTime)
            // Its blocks go to disk while the walk goes on; `flush` waits for them.
            if mapsDataOnFiemap { copy.startWriteback() }
        } catch {
            try? directory.remove(tempName)
            throw error
        }
        let item = Clone(tempDirectory: directory, tempName: tempName, directory: destination, name: name, shown: shown,
                         inode: try copy.status().inode, replaces: oldStatus, recording: recording)
        pending.withLock {
            $0.clones.append(item)
            $0.bytes += Int(written)
        }
        return written
    }

    /// Drops a batch that will not be completed (the walk failed): its clones
    /// are removed (unstaged, they lie beside the files in the target); its
    /// in-place changes were neither journalled nor applied, so the files are
    /// untouched.
    func discardPending() {
        let batch = pending.withLock { state in
            defer { state = Pending() }
            return state
        }
        for clone in batch.clones { try? clone.tempDirectory.remove(clone.tempName) }
    }

    /// Flushes when the batch is full.
    func flushIfFull() throws(CopyError) {
        let full = pending.withLock { $0.bytes >= Self.batchBytes || $0.count >= Self.batchFiles }
        if full { try flush() }
    }

    /// Completes the pending batch (see the type's comment for the order).
    func flush() throws(CopyError) {
        let batch = pending.withLock { state in
            defer { state = Pending() }
            return state
        }
        guard batch.count > 0 else { return }
        let temp = batch.inPlace.isEmpty ? nil : try self.temp?.open()
        var journalName: FilePath? = nil, applied: [OpenFile] = []  // kept open only when retiring
        let retires = batch.inPlace.count <= Self.syncEachFiles
        var path: FilePath = batch.inPlace.first.map { $0.shown.appending($0.name) }
            ?? batch.clones.first.map { $0.shown.appending($0.name) } ?? ""
        do throws(Errno) {
            if let temp, !batch.inPlace.isEmpty {
                let name: FilePath = "asd-\(ProcessIdentity.pid)-\(counter.add(1, ordering: .relaxed).newValue)\(RedoReplay.suffix)"
                let journal = RedoJournal(rootInode: rootInode, records: batch.inPlace.map(\.record)).encoded()
                let file = try temp.createFile(name)
                try file.write(journal[...], at: 0)
                try file.dataSync()
                try temp.sync()
                journalName = name
            }
            // Every clone's new blocks are mapped (or, one flush, durable) before it replaces a file.
            var mapped = mapsDataOnFiemap
            for clone in batch.clones where mapped {
                path = clone.shown.appending(clone.name)
                do throws(Errno) {
                    try clone.tempDirectory.openFile(clone.tempName).waitForMappedData()
                } catch {
                    guard error.meansNoReflink else { throw error }
                    mapped = false  // no FIEMAP here after all: flush instead
                }
            }
            if !mapped, let first = batch.clones.first { try first.tempDirectory.syncFilesystem() }
            for item in batch.inPlace {
                path = item.shown.appending(item.name)
                let file = try item.directory.openFile(item.name, writable: true)
                let before = try file.status()
                guard before.inode == item.record.inode else { continue }
                try RedoReplay.apply(item.record, to: file)
                if retires { applied.append(file) }
                try fixMetadata(item.name, in: item.directory, of: file, like: item.source,
                                from: item.sourceDirectory, shown: item.shown)
                if let recording = item.recording, BlockRecord.Identity(before) == BlockRecord.Identity(item.scanned) {
                    records?.add(item.name, in: item.directory, written: try file.status(), blockSize: recording.blockSize,
                                 hashes: recording.hashes, replacing: nil)
                }
            }
            for clone in batch.clones {
                path = clone.shown.appending(clone.name)
                try clone.tempDirectory.rename(clone.tempName, to: clone.directory, as: clone.name)
                if let recording = clone.recording, let now = try? clone.directory.status(clone.name), now.inode == clone.inode {
                    records?.add(clone.name, in: clone.directory, written: now, blockSize: recording.blockSize,
                                 hashes: recording.hashes, replacing: clone.replaces)
                }
            }
            if retires, let temp, let journalName { try retireJournal(journalName, in: temp, after: applied) }
        } catch {
            // A written journal stays: the next start replays it (StagingMount keeps it).
            for clone in batch.clones { try? clone.tempDirectory.remove(clone.tempName) }
            throw .system(operation: "write back the changed blocks of", path: path, errno: error)
        }
    }
}
