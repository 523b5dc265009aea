import ASDSystem
/// Applies redo journals (`RedoJournal`): right after they are written, and at
/// the next start when asd died while applying one. Replaying is idempotent
/// (every record carries the whole new content of its blocks, the new size and
/// the new times), so a journal is removed only once its files are flushed.
public enum RedoReplay {
    /// Journal files are `NAME.redo` in asd's temp directory.
    public static let suffix = ".redo"

    public struct Outcome: Equatable, Sendable {
        /// Complete journals replayed, and the files they rewrote.
        public var replayed = 0
        public var files = 0
        /// Records whose file is gone or is another inode now (left alone).
        public var skipped = 0
        /// Torn journals discarded (no file had been touched yet).
        public var discarded: [FilePath] = []
        /// Journals for another directory than `root` (discarded; never applied).
        public var foreign: [FilePath] = []
    }

    /// The journal names in `directory`.
    public static func journals(in directory: DirectoryHandle) throws(Errno) -> [FilePath] {
        try directory.entries().filter { $0.hasSuffix(FilePath(suffix)) }.sorted()
    }

    /// Writes the record's blocks into `file`, sets its size, then its times.
    /// The size only when it differs: a truncate to the same size is not free
    /// (ext4 zeroes the tail of the last block and writes it, doc/DESIGN.md §6.3).
    public static func apply(_ record: RedoJournal.Record, to file: OpenFile) throws(Errno) {
        for write in record.writes { try file.write(write.bytes[...], at: write.offset) }
        if try file.status().size != record.size { try file.truncate(to: record.size) }
        try file.setTimes(access: record.accessTime, modification: record.modificationTime)
    }

    /// The record's file below `root`, opened for writing; nil when it no
    /// longer exists or is not the inode the journal was written for.
    public static func open(_ record: RedoJournal.Record, under root: DirectoryHandle) throws(Errno) -> OpenFile? {
        do throws(Errno) {
            let directory = try root.openDirectory(components: record.directory)
            let file = try directory.openFile(record.name, writable: true)
            return try file.status().inode == record.inode ? file : nil
        } catch {
            if error == .noEntry || error == .notDirectory || error == .symlinkLoop || error == .invalid { return nil }
            throw error
        }
    }

    /// Replays every complete journal in `temp` onto the tree at `root` (its
    /// files flushed with one syncfs), then removes it; removes torn ones.
    public static func replayAll(in temp: DirectoryHandle, root: DirectoryHandle) throws(Errno) -> Outcome {
        var outcome = Outcome()
        for name in try journals(in: temp) {
            let file = try temp.openFile(name)
            let bytes = try file.read(at: 0, count: Int(try file.status().size))
            let journal: RedoJournal
            do throws(RedoJournal.Torn) {
                journal = try RedoJournal.decode(bytes)
            } catch {
                outcome.discarded.append(name)
                try temp.remove(name)
                continue
            }
            guard try root.status().inode == journal.rootInode else {
                outcome.foreign.append(name)
                try temp.remove(name)
                continue
            }
            for record in journal.records {
                guard let target = try open(record, under: root) else { outcome.skipped += 1; continue }
                try apply(record, to: target)
                outcome.files += 1
            }
            try root.syncFilesystem()
            try temp.remove(name)
            outcome.replayed += 1
        }
        if !outcome.discarded.isEmpty || outcome.replayed > 0 || !outcome.foreign.isEmpty { try temp.sync() }
        return outcome
    }
}
