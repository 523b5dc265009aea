import ASDSystem
/// Makes `destination` an exact copy of `source` (names as bytes, types,
/// content, modes, owners, nanosecond mtimes, symlink targets, device numbers,
/// xattrs and so ACLs), in process and on every CPU. It replaces rsync for
/// asd's two copies:
///
/// - `.fill` (sync): `destination` is the new, empty tmpfs copy; every entry
///   is created in place (a failure rolls the whole sync back).
/// - `.update` (resync, unsync): `destination` is the disk copy. An entry that
///   differs in type, size or mtime (to the nanosecond, doc/DESIGN.md §6.2) is built
///   under a temporary name in `tempDirectory` and renamed over the old one
///   once its data is flushed (`commitRenames`: one syncfs, then the renames,
///   in batches), so a crash leaves the old or the new file, never a torn or
///   empty one (doc/DESIGN.md §6), and inodes shared with the hard-link snapshot are
///   never written (5.7).
///   A changed regular file that is a regular file on disk too goes through
///   `DeltaWriteBack` first, which writes only its changed blocks (5.13).
///   An entry that only differs in owner, mode or xattrs is fixed in place when
///   it has one link, and rebuilt like a changed one when it has more (it is
///   shared with the snapshot). Entries missing from `source` are deleted once
///   everything else is written (rsync's --delete-after); a directory a
///   write-back makes gets its owner, xattrs and mode at once, and every
///   directory's times (and any other metadata change) come last, deepest first.
///
/// Every directory is opened relative to its parent's descriptor with
/// O_NOFOLLOW|O_DIRECTORY, every entry is created, changed and removed with
/// the *at calls relative to its directory's descriptor: a directory that a
/// user swaps for a symlink meanwhile is refused, never followed.
///
/// Entries that vanish from `source` while it runs are skipped and counted
/// (rsync's exit 24). Like `rsync -a` without -H and -x, hard links are copied
/// as separate files and mounts inside `source` are copied through.
struct TreeMirror: Sendable {
    enum Mode: Sendable {
        case fill
        case update(tempDirectory: FilePath?)
    }

    struct Report: Sendable {
        var files = 0
        var bytes: Int64 = 0
        var vanished = 0
        var deleted = 0
    }

    let source: FilePath
    let destination: FilePath
    let mode: Mode
    /// Names directly below the roots that are neither copied nor deleted
    /// (the running marker, a temp dir inside the destination).
    let excludedTopNames: Set<FilePath>
    let log: any Log
    /// Overlay mode: the upper layer. Only entries present there can differ
    /// from the disk copy (the lower layer is the sync-time snapshot, and every
    /// change since sync was copied up), so only they are compared and only
    /// directories present there are entered: O(changes), not O(tree).
    /// Deletions are still found by listing each visited directory.
    var changedOnlyIn: FilePath? = nil
    /// Makes the temp directory of `.update` when a file is first written
    /// through it (`LazyTempDirectory`); by default it must exist.
    var prepareTempDirectory: @Sendable () throws(CopyError) -> Void = {}
    /// `.update`: the target's block records, used and updated by `DeltaWriteBack`.
    var blockRecords: BlockRecordStore? = nil
    /// RAM_ONLY and DISK_ONLY: matching entries are neither copied, entered nor
    /// deleted, on either side.
    var filter: ExclusionFilter = .none
    /// Files at least this big get a job of their own, so both CPUs copy.
    static let bigFile: Int64 = 1 << 20

    func run() throws(CopyError) -> Report {
        var temp: LazyTempDirectory?
        if case .update(let tempDirectory?) = mode {
            temp = LazyTempDirectory(path: tempDirectory, prepare: prepareTempDirectory)
        }
        let rootStatus = try CopyError.attempt("read", source) { () throws(Errno) in try FileOps.status(source) }
        let root = try CopyError.attempt("open the directory", source) { () throws(Errno) in
            MirrorDirectory(
                src: try DirectoryHandle(path: source), dst: try DirectoryHandle(path: destination),
                upper: try changedOnlyIn.map { (upper) throws(Errno) in try DirectoryHandle(path: upper) }, relative: "")
        }
        let state = MirrorState(root: root, tempDirectory: temp, delta: try deltaWriter(temp: temp, root: root.dst))
        state.directories.withLock { $0.append(("", rootStatus)) }
        let queue = WorkStack<MirrorJob, CopyError>()
        defer { discardUncommitted(state) }  // temp copies left by a failed walk or commit
        try queue.run([.directory(root)], workers: min(ProcessIdentity.onlineCPUs, 4)) { job throws(CopyError) in
            if let signal = Signals.pending.map(Signals.name) {
                throw .interrupted(signal: signal, during: "the copy to \(destination)")
            }
            switch job {
            case .directory(let directory):
                queue.push(try mirrorDirectory(directory, state: state))
            case .subdirectory(let parent, let name):
                guard let directory = try open(name, in: parent, state: state) else { return }
                queue.push(try mirrorDirectory(directory, state: state))
            case .file(let directory, let name, let status, let existing):
                try mirrorEntry(name, status: status, existing: existing, in: directory, state: state)
            }
            state.reportProgress(log)
        }
        try state.delta?.flush()
        try commitRenames(state)
        try deleteExtras(state)
        try applyDirectoryMetadata(state)
        if log.showsProgress { log.progress("") }
        return state.report
    }

    /// Mirrors the entries of one directory; returns the jobs for its
    /// subdirectories and big files.
    private func mirrorDirectory(_ directory: MirrorDirectory, state: MirrorState) throws(CopyError) -> [MirrorJob] {
        let relative = directory.relative
        let excluded = relative.isEmpty ? excludedTopNames : []
        let names = try CopyError.attempt("list", source.appending(relative)) { () throws(Errno) in
            try directory.src.entries()
        }.filter { !excluded.contains($0) }
        var present = Set<FilePath>()
        if case .update = mode {
            present = Set(try CopyError.attempt("list", destination.appending(relative)) { () throws(Errno) in
                try directory.dst.entries()
            })
            let wanted = Set(names)
            let extras = present.filter { !wanted.contains($0) && !excluded.contains($0) && !keptOut($0, in: directory) }
            if !extras.isEmpty { state.deletions.withLock { $0.append((relative, Array(extras))) } }
        }
        var candidates = names
        if changedOnlyIn != nil {
            let changed = Set((try? directory.upper?.entries()) ?? [])
            candidates = names.filter(changed.contains)
        }
        var jobs: [MirrorJob] = []
        for name in candidates {
            let path = relative.appending(name)
            let status: FileStatus
            do throws(Errno) {
                status = try directory.src.status(name)
            } catch {
                if error == .noEntry { state.vanished.add(1, ordering: .relaxed); continue }
                throw .system(operation: "read", path: source.appending(path), errno: error)
            }
            if !filter.isEmpty && filter.excludes(path, isDirectory: status.isDirectory) { continue }
            let existing = present.contains(name) ? try? directory.dst.status(name) : nil
            if status.isDirectory {
                if existing?.isDirectory != true {
                    try CopyError.attempt("create the directory", destination.appending(path)) { () throws(Errno) in
                        if existing != nil { try directory.dst.removeTree(name) }
                        try directory.dst.makeDirectory(name)
                    }
                    // A write-back gives a new directory its owner, xattrs and mode at
                    // once (times come last, below): a crash meanwhile must not leave
                    // the disk copy a directory whose mode never existed (doc/DESIGN.md §6.2).
                    if case .update = mode, let made = try? directory.dst.status(name) {
                        try EntryBuilder.fixMetadata(
                            name, in: directory.dst, made, to: status, from: directory.src, name, shown: destination.appending(path))
                    }
                }
                state.directories.withLock { $0.append((path, status)) }
                jobs.append(.subdirectory(parent: directory, name: name))
            } else if status.isRegular && status.size >= Self.bigFile {
                jobs.append(.file(directory: directory, name: name, status: status, existing: existing))
            } else {
                try mirrorEntry(name, status: status, existing: existing, in: directory, state: state)
            }
        }
        return jobs
    }

    /// Whether the destination's `name` is left alone by the filter.
    private func keptOut(_ name: FilePath, in directory: MirrorDirectory) -> Bool {
        guard !filter.isEmpty else { return false }
        let isDirectory = (try? directory.dst.status(name))?.isDirectory ?? false
        return filter.excludes(directory.relative.appending(name), isDirectory: isDirectory)
    }

    /// Brings one non-directory entry up to date.
    private func mirrorEntry(
        _ name: FilePath, status: FileStatus, existing: FileStatus?, in directory: MirrorDirectory, state: MirrorState
    ) throws(CopyError) {
        let src = directory.src, dst = directory.dst
        guard case .update = mode else {
            try vanishTolerant(name, in: directory, state) { () throws(Errno) in
                state.add(bytes: try EntryBuilder.build(name, status, from: src, into: dst, as: name))
            }
            return
        }
        if let existing, existing.type == status.type, sameContent(status, existing, name, directory) {
            if EntryBuilder.sameMetadata(status, existing)
                && EntryBuilder.xattrsEqual(src, name, dst, name) { return }
            if existing.isRegular && existing.linkCount == 1 {
                try EntryBuilder.fixMetadata(
                    name, in: dst, existing, to: status, from: src, name, shown: destination.appending(directory.relative))
                return
            }
        }
        if try writeChangedBlocks(name, status, existing, in: directory, state) { return }
        let temp = try state.tempDirectory?.open() ?? dst
        let tempName: FilePath = ".asd-tmp-\(ProcessIdentity.pid)-\(state.tempCounter.add(1, ordering: .relaxed).newValue)"
        try vanishTolerant(name, in: directory, state) { () throws(Errno) in
            let bytes = try EntryBuilder.build(name, status, from: src, into: temp, as: tempName)
            // A copy that cannot be hashed only gets no record.
            let recording = (try? state.delta?.recording(ofCopy: tempName, in: temp, like: status, replacing: existing)) ?? nil
            // Renamed by `commitRenames`, after one syncfs has flushed its data.
            state.pendingRenames.withLock {
                $0.append(PendingRename(
                    temp: temp, tempName: tempName, directory: dst, name: name,
                    replacesDirectory: existing?.isDirectory == true, shown: destination.appending(directory.relative),
                    recording: recording))
            }
            state.add(bytes: bytes)
        }
        try commitRenamesIfFull(state)
    }

    /// Same content: same size and mtime (nanoseconds) for files, same
    /// target for symlinks, same device number for nodes.
    private func sameContent(_ a: FileStatus, _ b: FileStatus, _ name: FilePath, _ directory: MirrorDirectory) -> Bool {
        switch a.type {
        case .regular: return a.size == b.size && a.modificationTime == b.modificationTime
        case .symlink: return (try? directory.src.readSymlink(name)) == (try? directory.dst.readSymlink(name))
        case .charDevice, .blockDevice: return a.rdev == b.rdev
        default: return true
        }
    }

    /// Runs `body`; ENOENT while `name` is gone from the source means it vanished.
    private func vanishTolerant(
        _ name: FilePath, in directory: MirrorDirectory, _ state: MirrorState, _ body: () throws(Errno) -> Void
    ) throws(CopyError) {
        do throws(Errno) {
            try body()
        } catch {
            if error == .noEntry && (try? directory.src.status(name)) == nil {
                state.vanished.add(1, ordering: .relaxed)
                return
            }
            let path = directory.relative.appending(name)
            throw .system(operation: "copy \(source.appending(path)) to", path: destination.appending(path), errno: error)
        }
    }

    /// The subdirectory `name` of `parent` on every side, each opened relative
    /// to its parent's descriptor; nil (counted as vanished) when it is gone
    /// from the source. A destination directory is made before its job
    /// exists, so its absence is an error.
    private func open(_ name: FilePath, in parent: MirrorDirectory, state: MirrorState) throws(CopyError) -> MirrorDirectory? {
        let relative = parent.relative.appending(name)
        let src: DirectoryHandle
        do throws(Errno) {
            src = try parent.src.openDirectory(name)
        } catch {
            guard error == .noEntry || error == .notDirectory else {
                throw .system(operation: "open the directory", path: source.appending(relative), errno: error)
            }
            state.vanished.add(1, ordering: .relaxed)
            return nil
        }
        let dst = try CopyError.attempt("open the directory", destination.appending(relative)) { () throws(Errno) in
            try parent.dst.openDirectory(name)
        }
        return MirrorDirectory(src: src, dst: dst, upper: try? parent.upper?.openDirectory(name), relative: relative)
    }

    /// Deletes what the source no longer has, relative to each parent's
    /// descriptor (reopened from the root one component at a time).
    private func deleteExtras(_ state: MirrorState) throws(CopyError) {
        for (relative, names) in state.deletions.withLock({ $0 }) {
            let path = destination.appending(relative)
            guard let parent = try? state.root.dst.openDirectory(relative: relative) else { continue }
            for name in names {
                guard (try? parent.statusIfExists(name)) != nil else { continue }
                try CopyError.attempt("remove", path.appending(name)) { () throws(Errno) in
                    _ = try filter.removeTree(name, in: parent, relative: relative.appending(name))
                }
                state.deleted.add(1, ordering: .relaxed)
            }
        }
    }

    /// Owner, xattrs, mode and times of every directory, children before
    /// parents (a parent's mtime moves when its entries change), through
    /// the directory's own descriptor.
    private func applyDirectoryMetadata(_ state: MirrorState) throws(CopyError) {
        let directories = state.directories.withLock { $0 }
        for (relative, status) in directories.reversed() {
            guard let dst = try? state.root.dst.openDirectory(relative: relative),
                  let existing = try? dst.status() else { continue }
            let src = try? state.root.src.openDirectory(relative: relative)
            // A directory's size is its file system's own count (tmpfs and disk ones
            // differ): compared, it would make every resync rewrite every directory inode.
            var wanted = status
            wanted.size = existing.size
            if EntryBuilder.sameMetadata(wanted, existing) && existing.modificationTime == status.modificationTime
                && EntryBuilder.xattrsEqual(src, ".", dst, ".") { continue }
            try EntryBuilder.fixMetadata(
                ".", in: dst, existing, to: status, from: src, ".", shown: destination.appending(relative), times: true)
        }
    }
}
