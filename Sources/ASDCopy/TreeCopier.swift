import ASDSystem
/// The one seam between the engine and what copies files. The engine builds a
/// copier from its settings once (`Engine.init`) and from then on only calls
/// these three entry points; it never asks which implementation runs.
///
/// Both implementations give the same guarantees (doc/DESIGN.md §6): exact copies
/// (content, type, mode, owner, nanosecond mtime, xattrs and ACLs, symlink
/// targets, device numbers, names as bytes); on write-back, every changed file
/// is built under a temporary name in `tempDirectory` and renamed into place
/// (never written in place, so inodes shared with the hard-link snapshot keep
/// the sync-time state), deletions come last, and source entries vanishing
/// meanwhile are counted, not errors.
public protocol TreeCopier: Sendable {
    /// "built-in" or "rsync", for `asd parse` and debug output.
    var name: String { get }

    /// Throws when this copier cannot run on this system (a missing or too old
    /// program), before anything is touched.
    func checkAvailable() throws(CopyError)

    /// sync: copies the disk copy `source` into the new, empty tmpfs copy,
    /// leaving out `excludedTopNames` directly below the root and what `filter` excludes.
    func fill(from source: FilePath, into destination: FilePath, excludedTopNames: [FilePath], filter: ExclusionFilter) throws(CopyError) -> CopyReport

    /// resync and unsync: makes `job.destination` (the disk copy, seen through
    /// the staging mount) an exact copy of `job.source` (the tmpfs copy), the
    /// running marker excluded.
    func writeBack(_ job: WriteBackJob) throws(CopyError) -> CopyReport
}

extension TreeCopier {
    /// `fill` with nothing left out but `excludedTopNames`.
    public func fill(from source: FilePath, into destination: FilePath, excludedTopNames: [FilePath]) throws(CopyError) -> CopyReport {
        try fill(from: source, into: destination, excludedTopNames: excludedTopNames, filter: .none)
    }
}

/// The running marker asd keeps at the top of a target's tmpfs copy
/// (doc/DESIGN.md, "On-disk layout"): never copied to disk, never deleted there.
public let runningMarkerName: FilePath = ".flagged"

/// What a write-back copies, and where its temporary files go.
public struct WriteBackJob: Sendable {
    /// The tmpfs copy (in overlay mode the merged view).
    public var source: FilePath
    /// The target's on-disk directory.
    public var destination: FilePath
    /// Beside `destination` on the same mount, outside the target; nil when the
    /// target is a file system of its own (temp files then go beside each file).
    public var tempDirectory: FilePath?
    /// Names directly below the roots that are neither copied nor deleted.
    public var excludedTopNames: [FilePath] = [runningMarkerName]
    /// Overlay mode: the upper layer. Only what it holds can differ from the
    /// disk copy (the lower layer is the sync-time snapshot), so only that is
    /// compared and copied: O(changes), not O(tree).
    public var changedOnlyIn: FilePath? = nil
    /// When the target went into tmpfs (the running marker's mtime): a file of
    /// the tmpfs copy whose ctime is older has not changed since, not even its
    /// metadata. nil: unknown, every file may have changed.
    public var syncedAt: FileTime? = nil
    /// Makes `tempDirectory` (fresh and empty) when the copy first needs it.
    public var prepareTempDirectory: @Sendable () throws(CopyError) -> Void = {}
    /// The block records of the target (built-in copier; see `BlockRecordStore`).
    public var blockRecords: BlockRecordStore? = nil
    /// RAM_ONLY and DISK_ONLY (doc/DESIGN.md §2): neither copied nor deleted.
    public var filter: ExclusionFilter = .none

    public init(
        source: FilePath, destination: FilePath, tempDirectory: FilePath?,
        excludedTopNames: [FilePath] = [runningMarkerName], changedOnlyIn: FilePath? = nil, syncedAt: FileTime? = nil,
        prepareTempDirectory: @escaping @Sendable () throws(CopyError) -> Void = {}, blockRecords: BlockRecordStore? = nil
    ) {
        self.source = source
        self.destination = destination
        self.tempDirectory = tempDirectory
        self.excludedTopNames = excludedTopNames
        self.changedOnlyIn = changedOnlyIn
        self.syncedAt = syncedAt
        self.prepareTempDirectory = prepareTempDirectory
        self.blockRecords = blockRecords
    }
}

/// What a copy did; counts an implementation does not know are nil.
public struct CopyReport: Sendable, Equatable {
    /// Entries written (created or replaced).
    public var written: Int? = nil
    public var bytes: Int64? = nil
    public var deleted: Int? = nil
    /// Source entries that vanished while they were copied (rsync's exit 24).
    public var vanished = 0

    /// "12 entries (3.4 MiB) written, 2 deleted" with what is known.
    public var summary: String {
        var parts: [String] = []
        if let written { parts.append("\(written) entries" + (bytes.map { " (\(formatBytes(UInt64(max(0, $0)))))" } ?? "") + " written") }
        if let deleted { parts.append("\(deleted) deleted") }
        if vanished > 0 { parts.append("\(vanished) vanished") }
        return parts.isEmpty ? "copy done" : parts.joined(separator: ", ")
    }
}

/// The built-in copier: `TreeMirror`, in process, on every CPU.
public struct BuiltinCopier: TreeCopier {
    public let log: any Log

    public init(log: any Log) { self.log = log }
    public var name: String { "built-in" }

    public func checkAvailable() throws(CopyError) {}

    public func fill(from source: FilePath, into destination: FilePath, excludedTopNames: [FilePath], filter: ExclusionFilter) throws(CopyError) -> CopyReport {
        var mirror = TreeMirror(source: source, destination: destination, mode: .fill, excludedTopNames: Set(excludedTopNames), log: log)
        mirror.filter = filter
        let report = try mirror.run()
        return CopyReport(written: report.files, bytes: report.bytes, deleted: nil, vanished: report.vanished)
    }

    public func writeBack(_ job: WriteBackJob) throws(CopyError) -> CopyReport {
        var mirror = TreeMirror(
            source: job.source, destination: job.destination, mode: .update(tempDirectory: job.tempDirectory),
            excludedTopNames: Set(job.excludedTopNames), log: log)
        mirror.changedOnlyIn = job.changedOnlyIn
        mirror.prepareTempDirectory = job.prepareTempDirectory
        mirror.blockRecords = job.blockRecords
        mirror.filter = job.filter
        let report = try mirror.run()
        return CopyReport(written: report.files, bytes: report.bytes, deleted: report.deleted, vanished: report.vanished)
    }
}
