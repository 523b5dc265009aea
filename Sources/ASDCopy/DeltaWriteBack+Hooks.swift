import ASDSystem
extension DeltaWriteBack {
    /// A whole copy built by `TreeMirror`, hashed before its rename.
    struct CopyRecording: Sendable {
        let inode: UInt64
        let replaces: FileStatus?
        let recording: Recording
    }

    /// The block checksums of the copy `name` in `directory` (just written,
    /// so read from the page cache), when block records are kept and the
    /// file is big enough to get one.
    func recording(ofCopy name: FilePath, in directory: DirectoryHandle, like status: FileStatus, replacing old: FileStatus?)
        throws(Errno) -> CopyRecording?
    {
        guard let records, status.isRegular, status.size >= BlockRecord.minimumFileSize else { return nil }
        let file = try directory.openFile(name)
        let copy = try file.status()
        let blockSize = BlockRecord.blockSize(forFileSize: copy.size)
        var hashes: [BlockHash] = []
        hashes.reserveCapacity(BlockRecord.blockCount(copy.size, blockSize))
        let chunk = max(BlockDiff.chunk, blockSize)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < copy.size {
            let got = try file.read(into: buffer, at: offset)
            guard got > 0 else { return nil }
            records.hasher.appendHashes(of: UnsafeRawBufferPointer(rebasing: buffer[..<got]), blockSize: blockSize, to: &hashes)
            offset += Int64(got)
        }
        return CopyRecording(inode: copy.inode, replaces: old, recording: Recording(blockSize: blockSize, hashes: hashes))
    }

    /// After `name` in `directory` was renamed from a copy `recording` describes.
    func noteRenamed(_ name: FilePath, in directory: DirectoryHandle, _ copy: CopyRecording) {
        guard let now = try? directory.status(name), now.inode == copy.inode else { return }
        records?.add(name, in: directory, written: now, blockSize: copy.recording.blockSize,
                     hashes: copy.recording.hashes, replacing: copy.replaces)
    }

    /// In-place batches of up to this many files retire their journal early.
    static let syncEachFiles = 64

    /// After a batch was applied in place: the data of its files made durable
    /// (fdatasync, file by file; for blocks overwritten in place that is a
    /// device flush and no journal commit), then its journal removed. The new
    /// times and the journal's removal then reach the disk in the write-back's
    /// final syncfs, and the temp directory goes in that same commit: one
    /// journal commit per write-back fewer (doc/DESIGN.md §6.3). The file
    /// system commits metadata in order, so once the removal is durable, the
    /// times are too; before, the journal is replayed. Bigger batches keep
    /// their journal until the final syncfs (a flush per file would cost more).
    func retireJournal(_ name: FilePath, in temp: DirectoryHandle, after files: [OpenFile]) throws(Errno) {
        for file in files { file.startWriteback() }  // their allocations in one transaction
        for file in files { try file.dataSync() }
        try temp.remove(name)
    }

    /// Writes `ranges` of `new` into `copy`, a megabyte at a time; returns the bytes written.
    static func copyRanges(_ ranges: [ByteRange], from new: OpenFile, to copy: OpenFile) throws(Errno) -> Int64 {
        var written: Int64 = 0
        for range in ranges {
            var offset = range.offset
            while offset < range.end {
                let piece = try new.read(at: offset, count: Int(min(range.end - offset, 1 << 20)))
                if piece.isEmpty { break }
                try copy.write(piece[...], at: offset)
                offset += Int64(piece.count)
            }
            written += offset - range.offset
        }
        return written
    }

    /// Owner, xattrs and mode of the changed file like the RAM copy's (a write
    /// can drop setuid bits and security.capability), relative to its directory
    /// as `EntryBuilder` does.
    func fixMetadata(
        _ name: FilePath, in directory: DirectoryHandle, of file: OpenFile, like status: FileStatus,
        from source: DirectoryHandle, shown: FilePath
    ) throws(Errno) {
        let current = try file.status()
        do throws(CopyError) {
            try EntryBuilder.fixMetadata(name, in: directory, current, to: status, from: source, name, shown: shown)
        } catch {
            if case .system(_, _, let errno) = error { throw errno }
            throw Errno.invalid
        }
    }
}

extension TreeMirror {
    /// The delta writer of an `.update` run (nil for `.fill`).
    func deltaWriter(temp: LazyTempDirectory?, root: DirectoryHandle) throws(CopyError) -> DeltaWriteBack? {
        guard case .update = mode else { return nil }
        let inode = try CopyError.attempt("read", destination) { () throws(Errno) in try root.status().inode }
        let magic = try? root.fileSystemMagic()
        let fiemap = magic.map { FileSystemInfo.mapsDataOnFiemapSync(magic: $0) } ?? false
        return DeltaWriteBack(temp: temp, rootInode: inode, mapsDataOnFiemap: fiemap, records: blockRecords,
                              clones: magic.map { FileSystemInfo.neverClones(magic: $0) ? false : nil } ?? nil)
    }

    /// `mirrorEntry`'s hook: true when the delta write-back took care of the
    /// entry (or it vanished from the source meanwhile), false when the whole
    /// entry must be written.
    func writeChangedBlocks(
        _ name: FilePath, _ status: FileStatus, _ existing: FileStatus?, in directory: MirrorDirectory, _ state: MirrorState
    ) throws(CopyError) -> Bool {
        guard let delta = state.delta, let existing, existing.isRegular, status.isRegular else { return false }
        let shown = destination.appending(directory.relative)
        let temp = try delta.temp?.open()
        do throws(Errno) {
            guard let bytes = try delta.write(name, in: directory.relative, from: directory.src, to: directory.dst,
                                              existing: existing, temp: temp, shown: shown) else { return false }
            state.add(bytes: bytes)
        } catch {
            guard error == .noEntry && (try? directory.src.status(name)) == nil else {
                throw .system(operation: "copy \(source.appending(directory.relative).appending(name)) to",
                              path: shown.appending(name), errno: error)
            }
            state.vanished.add(1, ordering: .relaxed)
        }
        try delta.flushIfFull()
        return true
    }
}
