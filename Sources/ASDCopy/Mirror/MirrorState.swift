import ASDSystem
import Synchronization

/// One directory being mirrored: its descriptor in the source, in the
/// destination and (overlay write-back) in the upper layer, each opened
/// relative to its parent's. `relative` is its path below the roots, for
/// messages and for the steps after the walk. Held by the jobs of its
/// entries, so it stays open until the last of them is done.
final class MirrorDirectory: Sendable {
    let src: DirectoryHandle
    let dst: DirectoryHandle
    let upper: DirectoryHandle?
    let relative: FilePath

    init(src: DirectoryHandle, dst: DirectoryHandle, upper: DirectoryHandle?, relative: FilePath) {
        self.src = src
        self.dst = dst
        self.upper = upper
        self.relative = relative
    }
}

enum MirrorJob: Sendable {
    /// A directory already open (the roots).
    case directory(MirrorDirectory)
    /// The subdirectory `name` of `parent`, opened when the job runs.
    case subdirectory(parent: MirrorDirectory, name: FilePath)
    /// A big regular file, copied as a job of its own.
    case file(directory: MirrorDirectory, name: FilePath, status: FileStatus, existing: FileStatus?)
}

/// What the workers share: counters, and the lists finished after the walk.
final class MirrorState: Sendable {
    /// The roots, from which the steps after the walk reopen directories.
    let root: MirrorDirectory
    /// The temp directory of `.update` (made on first use), or nil (temp files beside each file).
    let tempDirectory: LazyTempDirectory?
    /// Writes changed files' changed blocks only (`.update`).
    let delta: DeltaWriteBack?
    let files = Atomic<Int>(0)
    let bytes = Atomic<Int64>(0)
    let vanished = Atomic<Int>(0)
    let deleted = Atomic<Int>(0)
    let tempCounter = Atomic<Int>(0)
    let lastProgress = Atomic<Int64>(0)
    /// Every directory mirrored (relative path, source status), parents first.
    let directories = Mutex<[(FilePath, FileStatus)]>([])
    /// Names to delete, by the relative path of their directory.
    let deletions = Mutex<[(FilePath, [FilePath])]>([])
    /// Temp copies built, to be renamed once their data is flushed (`commitRenames`).
    let pendingRenames = Mutex<[PendingRename]>([])
    private let started = ContinuousClock.now

    init(root: MirrorDirectory, tempDirectory: LazyTempDirectory?, delta: DeltaWriteBack? = nil) {
        self.root = root
        self.tempDirectory = tempDirectory
        self.delta = delta
    }

    func add(bytes: Int64) {
        files.add(1, ordering: .relaxed)
        self.bytes.add(bytes, ordering: .relaxed)
    }

    var report: TreeMirror.Report {
        TreeMirror.Report(
            files: files.load(ordering: .relaxed), bytes: bytes.load(ordering: .relaxed),
            vanished: vanished.load(ordering: .relaxed), deleted: deleted.load(ordering: .relaxed))
    }

    /// One progress line at most every half second, for a terminal.
    func reportProgress(_ log: any Log) {
        guard log.showsProgress else { return }
        let elapsed = ContinuousClock.now - started
        let tenths = elapsed.components.seconds * 10 + elapsed.components.attoseconds / 100_000_000_000_000_000
        let last = lastProgress.load(ordering: .relaxed)
        guard tenths >= last + 5,
            lastProgress.compareExchange(expected: last, desired: tenths, ordering: .relaxed).exchanged
        else { return }
        log.progress("  \(files.load(ordering: .relaxed)) files, \(formatBytes(UInt64(max(0, bytes.load(ordering: .relaxed))))) copied")
    }
}
