import Synchronization

/// Makes `destination` an exact copy of `source` (names, types, content, modes,
/// owners, nanosecond mtimes, symlink targets, device numbers, xattrs and so
/// ACLs), in process and on every CPU. It replaces rsync for asd's two copies:
///
/// - `.fill` (sync): `destination` is the new, empty tmpfs copy; every entry
///   is created in place (a failure rolls the whole sync back).
/// - `.update` (resync, unsync): `destination` is the disk copy. An entry that
///   differs in type, size or mtime (to the nanosecond, SPEC 5.5) is built
///   under a temporary name in `tempDirectory` and renamed over the old one
///   once all their data is flushed, so a crash leaves the old or the new
///   file, never a torn or empty one (SPEC 5.3),
///   and inodes shared with the hard-link snapshot are never written (5.7).
///   An entry that only differs in owner, mode or xattrs is fixed in place when
///   it has one link, and rebuilt like a changed one when it has more (it is
///   shared with the snapshot). Entries missing from `source` are deleted once
///   everything else is written (rsync's --delete-after); directory metadata
///   comes last, deepest first.
///
/// Entries that vanish from `source` while it runs are skipped and counted
/// (rsync's exit 24). Like `rsync -a` without -H and -x, hard links are copied
/// as separate files and mounts inside `source` are copied through.
struct TreeMirror: Sendable {
    enum Mode: Sendable {
        case fill
        case update(tempDirectory: String?)
    }

    struct Report: Sendable {
        var files = 0
        var bytes: Int64 = 0
        var vanished = 0
        var deleted = 0
    }

    let source: String
    let destination: String
    let mode: Mode
    /// Names directly below the roots that are neither copied nor deleted
    /// (the running marker, a temp dir inside the destination).
    let excludedTopNames: Set<String>
    let log: any Log
    /// Overlay mode: the upper layer. Only entries present there can differ
    /// from the disk copy (the lower layer is the sync-time snapshot, and every
    /// change since sync was copied up), so only they are compared and only
    /// directories present there are entered: O(changes), not O(tree).
    /// Deletions are still found by listing each visited directory.
    var changedOnlyIn: String? = nil
    /// Files at least this big get a job of their own, so both CPUs copy.
    static let bigFile: Int64 = 1 << 20

    func run() throws(ASDError) -> Report {
        var temp: DirectoryHandle?
        if case .update(let tempDirectory?) = mode {
            temp = try attempt("open the temporary directory", tempDirectory) { () throws(Errno) in
                try DirectoryHandle(path: tempDirectory)
            }
        }
        let state = MirrorState(tempDirectory: temp)
        let root = try attempt("read", source) { () throws(Errno) in try FileOps.status(source) }
        state.directories.withLock { $0.append(("", root)) }
        let queue = WorkStack<MirrorJob, ASDError>()
        defer { discardUncommitted(state) }  // temp copies left by a failed walk or commit
        try queue.run([.directory("")], workers: min(ProcessIdentity.onlineCPUs, 4)) { job throws(ASDError) in
            if let signal = Signals.pending.map(Signals.name) {
                throw .interrupted(signal: signal, during: "the copy to \(destination)")
            }
            switch job {
            case .directory(let relative):
                queue.push(try mirrorDirectory(relative, state: state))
            case .file(let directory, let name, let status, let existing):
                guard let (src, dst) = try openDirectories(directory, state: state) else { return }
                try mirrorEntry(name, status: status, existing: existing, in: directory, src: src, dst: dst, state: state)
            }
            state.reportProgress(log)
        }
        try commitRenames(state)
        try deleteExtras(state)
        try applyDirectoryMetadata(state)
        if log.showsProgress { log.progress("") }
        return state.report
    }

    /// Mirrors the entries of one directory; returns the jobs for its
    /// subdirectories and big files.
    private func mirrorDirectory(_ relative: String, state: MirrorState) throws(ASDError) -> [MirrorJob] {
        guard let (src, dst) = try openDirectories(relative, state: state) else { return [] }
        let excluded = relative.isEmpty ? excludedTopNames : []
        let names = try attempt("list", join(source, relative)) { () throws(Errno) in try src.entries() }
            .filter { !excluded.contains($0) }
        var present = Set<String>()
        if case .update = mode {
            present = Set(try attempt("list", join(destination, relative)) { () throws(Errno) in try dst.entries() })
            let wanted = Set(names)
            let extras = present.filter { !wanted.contains($0) && !excluded.contains($0) }.map { join(relative, $0) }
            if !extras.isEmpty { state.deletions.withLock { $0.append(contentsOf: extras) } }
        }
        var candidates = names
        if let upper = changedOnlyIn {
            let changed = Set((try? FileOps.listDirectory(join(upper, relative))) ?? [])
            candidates = names.filter(changed.contains)
        }
        var jobs: [MirrorJob] = []
        for name in candidates {
            let status: FileStatus
            do throws(Errno) {
                status = try src.status(name)
            } catch {
                if error == .noEntry { state.vanished.add(1, ordering: .relaxed); continue }
                throw .system(operation: "read", path: join(source, join(relative, name)), errno: error)
            }
            let existing = present.contains(name) ? try? dst.status(name) : nil
            let path = join(relative, name)
            if status.isDirectory {
                if existing?.isDirectory != true {
                    if let existing { try removeEntry(path, existing) }
                    try attempt("create the directory", join(destination, path)) { () throws(Errno) in
                        try dst.makeDirectory(name)
                    }
                }
                state.directories.withLock { $0.append((path, status)) }
                jobs.append(.directory(path))
            } else if status.isRegular && status.size >= Self.bigFile {
                jobs.append(.file(directory: relative, name: name, status: status, existing: existing))
            } else {
                try mirrorEntry(name, status: status, existing: existing, in: relative, src: src, dst: dst, state: state)
            }
        }
        return jobs
    }

    /// Brings one non-directory entry up to date.
    private func mirrorEntry(
        _ name: String, status: FileStatus, existing: FileStatus?, in relative: String,
        src: DirectoryHandle, dst: DirectoryHandle, state: MirrorState
    ) throws(ASDError) {
        let path = join(relative, name)
        let sourcePath = join(source, path), destPath = join(destination, path)
        guard case .update(let tempDirectory) = mode else {
            try vanishTolerant(sourcePath, state) { () throws(Errno) in
                state.add(bytes: try EntryBuilder.build(name, status, from: src, sourcePath, into: dst, as: name, destPath))
            }
            return
        }
        if let existing, existing.type == status.type, sameContent(status, existing, sourcePath, destPath) {
            if EntryBuilder.sameMetadata(status, existing)
                && EntryBuilder.xattrsEqual(sourcePath, destPath) { return }
            if existing.isRegular && existing.linkCount == 1 {
                try EntryBuilder.fixMetadata(destPath, existing, to: status, from: sourcePath)
                return
            }
        }
        let temp = state.tempDirectory
        let tempName = ".asd-tmp-\(ProcessIdentity.pid)-\(state.tempCounter.add(1, ordering: .relaxed).newValue)"
        let tempPath = join(tempDirectory ?? TargetPaths.split(destPath).parent, tempName)
        try vanishTolerant(sourcePath, state) { () throws(Errno) in
            let bytes = try EntryBuilder.build(name, status, from: src, sourcePath, into: temp ?? dst, as: tempName, tempPath)
            let rename = PendingRename(temp: tempPath, destination: destPath, replacesDirectory: existing?.isDirectory == true)
            state.pendingRenames.withLock { $0.append(rename) }  // by `commitRenames`, data first
            state.add(bytes: bytes)
        }
    }

    /// Same content: same size and mtime (nanoseconds) for files, same
    /// target for symlinks, same device number for nodes.
    private func sameContent(_ a: FileStatus, _ b: FileStatus, _ aPath: String, _ bPath: String) -> Bool {
        switch a.type {
        case .regular: return a.size == b.size && a.modificationTime == b.modificationTime
        case .symlink: return (try? FileOps.readSymlink(aPath)) == (try? FileOps.readSymlink(bPath))
        case .charDevice, .blockDevice: return a.rdev == b.rdev
        default: return true
        }
    }

    private func deleteExtras(_ state: MirrorState) throws(ASDError) {
        let doomed = state.deletions.withLock { $0 }
        for relative in doomed {
            let path = join(destination, relative)
            guard let status = try? FileOps.status(path) else { continue }
            try removeEntry(relative, status)
            state.deleted.add(1, ordering: .relaxed)
        }
    }

    private func removeEntry(_ relative: String, _ status: FileStatus) throws(ASDError) {
        let path = join(destination, relative)
        try attempt("remove", path) { () throws(Errno) in
            if status.isDirectory { try FileOps.removeTree(path) } else { try FileOps.unlink(path) }
        }
    }

    /// Owner, xattrs, mode and times of every directory, children before
    /// parents (a parent's mtime moves when its entries change).
    private func applyDirectoryMetadata(_ state: MirrorState) throws(ASDError) {
        let directories = state.directories.withLock { $0 }
        for (relative, status) in directories.reversed() {
            let sourcePath = join(source, relative), destPath = join(destination, relative)
            guard let existing = try? FileOps.status(destPath) else { continue }
            if EntryBuilder.sameMetadata(status, existing) && existing.modificationTime == status.modificationTime
                && EntryBuilder.xattrsEqual(sourcePath, destPath) { continue }
            try EntryBuilder.fixMetadata(destPath, existing, to: status, from: sourcePath, times: true)
        }
    }

    /// Runs `body`; ENOENT while `sourcePath` is gone means it vanished.
    private func vanishTolerant(_ sourcePath: String, _ state: MirrorState, _ body: () throws(Errno) -> Void) throws(ASDError) {
        do throws(Errno) {
            try body()
        } catch {
            if error == .noEntry && !FileOps.exists(sourcePath) {
                state.vanished.add(1, ordering: .relaxed)
                return
            }
            throw .system(operation: "copy \(sourcePath) to", path: destinationFor(sourcePath), errno: error)
        }
    }

    private func destinationFor(_ sourcePath: String) -> String {
        destination + sourcePath.dropFirst(source.count)
    }

    /// The directory `relative` in the source and in the destination; nil
    /// (counted as vanished) when it is gone from the source. A destination
    /// directory is made before its job exists, so its absence is an error.
    private func openDirectories(
        _ relative: String, state: MirrorState
    ) throws(ASDError) -> (DirectoryHandle, DirectoryHandle)? {
        let sourcePath = join(source, relative)
        let src: DirectoryHandle
        do throws(Errno) {
            src = try DirectoryHandle(path: sourcePath)
        } catch {
            guard error == .noEntry || error == .notDirectory else {
                throw .system(operation: "open the directory", path: sourcePath, errno: error)
            }
            state.vanished.add(1, ordering: .relaxed)
            return nil
        }
        let destPath = join(destination, relative)
        let dst = try attempt("open the directory", destPath) { () throws(Errno) in try DirectoryHandle(path: destPath) }
        return (src, dst)
    }

    private func attempt<T>(_ operation: String, _ path: String, _ body: () throws(Errno) -> T) throws(ASDError) -> T {
        do throws(Errno) { return try body() } catch {
            throw .system(operation: operation, path: path, errno: error)
        }
    }
}

private func join(_ base: String, _ name: String) -> String {
    if name.isEmpty { return base }
    if base.isEmpty { return name }
    return base.hasSuffix("/") ? base + name : base + "/" + name
}

enum MirrorJob: Sendable {
    case directory(String)
    case file(directory: String, name: String, status: FileStatus, existing: FileStatus?)
}

/// What the workers share: counters, and the lists finished after the walk.
final class MirrorState: Sendable {
    /// The open temp directory of `.update`, or nil (temp files beside each file).
    let tempDirectory: DirectoryHandle?
    let files = Atomic<Int>(0)
    let bytes = Atomic<Int64>(0)
    let vanished = Atomic<Int>(0)
    let deleted = Atomic<Int>(0)
    let tempCounter = Atomic<Int>(0)
    let lastProgress = Atomic<Int64>(0)
    let directories = Mutex<[(String, FileStatus)]>([])
    let deletions = Mutex<[String]>([])
    let pendingRenames = Mutex<[PendingRename]>([])
    private let started = ContinuousClock.now

    init(tempDirectory: DirectoryHandle?) { self.tempDirectory = tempDirectory }

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
