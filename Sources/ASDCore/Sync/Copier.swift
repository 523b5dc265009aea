/// The one seam between the engine and what copies files. The engine builds a
/// copier from its settings once (`Engine.init`) and from then on only calls
/// these three entry points; it never asks which implementation runs.
///
/// Both implementations give the same guarantees (SPEC §5, §6): exact copies
/// (content, type, mode, owner, nanosecond mtime, xattrs and ACLs, symlink
/// targets, device numbers, names as bytes); on write-back, every changed file
/// is built under a temporary name in `tempDirectory` and renamed into place
/// (never written in place, so inodes shared with the hard-link snapshot keep
/// the sync-time state), deletions come last, and source entries vanishing
/// meanwhile are counted, not errors.
protocol TreeCopier: Sendable {
    /// "built-in" or "rsync", for `asd parse` and debug output.
    var name: String { get }

    /// Throws when this copier cannot run on this system (a missing or too old
    /// program), before anything is touched.
    func checkAvailable() throws(ASDError)

    /// sync: copies the disk copy `source` into the new, empty tmpfs copy,
    /// leaving out `excludedTopNames` directly below the root.
    func fill(from source: FilePath, into destination: FilePath, excludedTopNames: [FilePath]) throws(ASDError) -> CopyReport

    /// resync and unsync: makes `job.destination` (the disk copy, seen through
    /// the staging mount) an exact copy of `job.source` (the tmpfs copy), the
    /// running marker excluded.
    func writeBack(_ job: WriteBackJob) throws(ASDError) -> CopyReport
}

/// What a write-back copies, and where its temporary files go.
struct WriteBackJob: Sendable {
    /// The tmpfs copy (in overlay mode the merged view).
    var source: FilePath
    /// The target's on-disk directory.
    var destination: FilePath
    /// Beside `destination` on the same mount, outside the target; nil when the
    /// target is a file system of its own (temp files then go beside each file).
    var tempDirectory: FilePath?
    /// Names directly below the roots that are neither copied nor deleted.
    var excludedTopNames: [FilePath] = [TargetPaths.flagName]
    /// Overlay mode: the upper layer. Only what it holds can differ from the
    /// disk copy (the lower layer is the sync-time snapshot), so only that is
    /// compared and copied: O(changes), not O(tree).
    var changedOnlyIn: FilePath? = nil
    /// When the target went into tmpfs (the running marker's mtime): a file of
    /// the tmpfs copy whose ctime is older has not changed since, not even its
    /// metadata. nil: unknown, every file may have changed.
    var syncedAt: FileTime? = nil
    /// Makes `tempDirectory` (fresh and empty) when the copy first needs it.
    var prepareTempDirectory: @Sendable () throws(ASDError) -> Void = {}
    /// The block records of the target (built-in copier; see `BlockRecordStore`).
    var blockRecords: BlockRecordStore? = nil
}

/// What a copy did; counts an implementation does not know are nil.
struct CopyReport: Sendable, Equatable {
    /// Entries written (created or replaced).
    var written: Int? = nil
    var bytes: Int64? = nil
    var deleted: Int? = nil
    /// Source entries that vanished while they were copied (rsync's exit 24).
    var vanished = 0

    /// "12 entries (3.4 MiB) written, 2 deleted" with what is known.
    var summary: String {
        var parts: [String] = []
        if let written { parts.append("\(written) entries" + (bytes.map { " (\(formatBytes(UInt64(max(0, $0)))))" } ?? "") + " written") }
        if let deleted { parts.append("\(deleted) deleted") }
        if vanished > 0 { parts.append("\(vanished) vanished") }
        return parts.isEmpty ? "copy done" : parts.joined(separator: ", ")
    }
}

/// The built-in copier: `TreeMirror`, in process, on every CPU.
struct BuiltinCopier: TreeCopier {
    let log: any Log
    var name: String { "built-in" }

    func checkAvailable() throws(ASDError) {}

    func fill(from source: FilePath, into destination: FilePath, excludedTopNames: [FilePath]) throws(ASDError) -> CopyReport {
        let report = try TreeMirror(source: source, destination: destination, mode: .fill, excludedTopNames: Set(excludedTopNames), log: log).run()
        return CopyReport(written: report.files, bytes: report.bytes, deleted: nil, vanished: report.vanished)
    }

    func writeBack(_ job: WriteBackJob) throws(ASDError) -> CopyReport {
        var mirror = TreeMirror(
            source: job.source, destination: job.destination, mode: .update(tempDirectory: job.tempDirectory),
            excludedTopNames: Set(job.excludedTopNames), log: log)
        mirror.changedOnlyIn = job.changedOnlyIn
        mirror.prepareTempDirectory = job.prepareTempDirectory
        mirror.blockRecords = job.blockRecords
        let report = try mirror.run()
        return CopyReport(written: report.files, bytes: report.bytes, deleted: report.deleted, vanished: report.vanished)
    }
}

extension Engine {
    /// The copier `settings` choose (USE_RSYNC).
    static func makeCopier(_ settings: Settings, log: any Log) -> any TreeCopier {
        settings.useRsync ? RsyncCopier(log: log, onEveryTree: settings.rsyncOnEveryTree) : BuiltinCopier(log: log)
    }
}
