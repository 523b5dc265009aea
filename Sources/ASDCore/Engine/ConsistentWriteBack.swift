import ASDCopy
import ASDSystem

/// Consistent write-back (doc/DESIGN.md, "Consistent write-back"): the disk
/// copy receives a set of files that existed together at one instant in the
/// tmpfs copy, as a power cut at that instant would have left them.
///
/// Each round: a capture tree in VOLATILE is brought up to date while the
/// target's writers run; then the processes with files open below the target
/// are stopped (`ProcessFreezer`, ptrace: no job-control side effects, never
/// asd, its ancestors, pid 1, journald or a traced process), the tree is
/// scanned and brought up to date once more and scanned again: when the two
/// scans agree, the capture is one instant. The writers run again at once;
/// the write-back then copies from the capture. Files the capture holds as
/// hard links (those not modified since the last write-back) are checked
/// afterwards; one that changed meanwhile is copied next round.
extension Engine {
    static let captureRounds = 3
    static let stopAttempts = 3
    /// Longest wait for the writers to reach their stop (µs); past it they run on
    /// and the capture is optimistic (checked by the scans alone).
    static let stopDeadline: Int64 = 100_000

    /// `$VOLATILE/.capture-<instance>-USER`: the captures of this instance.
    func captureBase(_ paths: TargetPaths) -> FilePath {
        "\(settings.volatile)/.capture-\(invocation.instanceName)-\(paths.user)"
    }

    /// Writes `source` back through `write` (given the tree to copy from), from
    /// a capture of one instant when one can be had. Returns whether the
    /// write-back was consistent; when it was not, it is done anyway, from the
    /// latest state, with a warning naming the files that kept changing.
    /// Overlay mode: `source` is the upper layer and `lower` the lower one;
    /// `write` gets a read-only overlay of the captured upper layer over
    /// `lower`, and the captured upper layer (what changed).
    func writeBackConsistently(
        _ paths: TargetPaths, from source: FilePath, lower: FilePath? = nil,
        write: (_ source: FilePath, _ upper: FilePath?) throws(ASDError) -> Void
    ) throws(ASDError) -> Bool {
        let base = captureBase(paths)
        /// No capture to be had (VOLATILE full, a tree that cannot be linked):
        /// the live tree is written back, as before consistent write-back existed.
        func fallBack(_ error: ASDError) throws(ASDError) -> Bool {
            log.warning("Cannot capture \(paths.target) at one instant (\(error.message)); writing it back while it may change, so the disk copy may hold a state that never existed.")
            removeCapture(base)
            try write(lower == nil ? source : paths.tmpfsCopy, lower == nil ? nil : source)
            return false
        }
        let lastWriteBack = WriteBackRecord.read(daemonFile: invocation.daemonFile).times[paths.target]
        let synced = (try? FileOps.status(paths.flag))?.modificationTime ?? FileTime(seconds: 0, nanoseconds: 0)
        let recent = lastWriteBack.map { FileTime(seconds: $0 - 10, nanoseconds: 0) } ?? synced
        let live = (tree: lower == nil ? source : paths.tmpfsCopy, upper: lower == nil ? nil : source)
        if try writeBackDirectly(paths, source: source, recent: recent, write: { () throws(ASDError) in
            try write(live.tree, live.upper)
        }) {
            return true
        }
        var tree: CaptureTree
        do throws(ASDError) {
            tree = try prepareCapture(paths, source: source, base: base, overlay: lower != nil)
        } catch {
            return try fallBack(error)
        }
        defer { removeCapture(base) }
        let view = base.appending("view")
        var budget = captureBudget()
        var hot = Set<FilePath>()
        var unsettled: [FilePath] = []
        for round in 1...Self.captureRounds {
            do throws(ASDError) {
                unsettled = try capture(&tree, paths, recent: recent, hot: hot, budget: &budget)
                if let lower {
                    try ASDError.attempt("mount a read-only overlay of the capture at", view) { () throws(Errno) in
                        try Mount.mountOverlayReadOnly(lowers: [tree.root, lower], at: view)
                    }
                }
            } catch {
                return try fallBack(error)
            }
            do {
                defer { if lower != nil { _ = try? Mount.unmountRecursive(view, lazy: true) } }
                try write(lower == nil ? tree.root : view, lower == nil ? nil : tree.root)
            }
            let changed = tree.linksChanged()
            log.debug("Capture round \(round) of \(paths.target): \(tree.copiedBytes) bytes copied, \(unsettled.count) entries unsettled, \(changed.count) linked files changed during the write-back")
            if unsettled.isEmpty && changed.isEmpty { return true }
            unsettled += changed
            hot.formUnion(changed)
        }
        let names = unsettled.prefix(5).map { paths.target.appending($0).description }.joined(separator: ", ")
        let more = unsettled.count > 5 ? " and \(unsettled.count - 5) more" : ""
        log.warning("The write-back of \(paths.target) is not consistent: \(names)\(more) kept changing while asd captured them (a writer asd could not stop, or too little free space in VOLATILE). The disk copy holds their latest state, which may mix two instants; the next write-back tries again.")
        return false
    }

    /// The write-back without a capture (doc/DESIGN.md, "Consistent write-back", idle
    /// targets): when no process has a file open below the target, or nothing in it
    /// was modified since shortly before the last write-back, the live tree is written
    /// back while the kernel watches its file system (`ChangeWatch`); without a watch,
    /// a scan before and one after. Returns whether nothing changed meanwhile (that
    /// write-back was one instant); false also when it was not tried.
    private func writeBackDirectly(
        _ paths: TargetPaths, source: FilePath, recent: FileTime, write: () throws(ASDError) -> Void
    ) throws(ASDError) -> Bool {
        let probe = CaptureTree(source: source, root: "", excludedTopNames: [TargetPaths.flagName],
                                filter: settings.exclusions.filter(for: paths.target))
        let watch = try? ChangeWatch(fileSystemOf: source)
        var before: CaptureTree.Scan?
        if watch == nil {
            guard let scan = try? probe.scan() else { return false }
            before = scan
        }
        if !stoppableWriters(paths, source: source).isEmpty {
            // Written to while it may be open: only if nothing in it is recent (no listing kept).
            guard let modified = before.map({ $0.modified(since: recent) }) ?? (try? probe.modified(since: recent)),
                  !modified else { return false }
        }
        try write()
        let unchanged: Bool
        if let watch {
            unchanged = !watch.sawChanges()
        } else {
            unchanged = before.flatMap { old in (try? probe.scan()).map { CaptureTree.differences(old, $0).isEmpty } } ?? false
        }
        log.debug("Wrote \(paths.target) back without a capture (\(watch == nil ? "scans" : "change watch")): \(unchanged ? "nothing changed meanwhile" : "it changed meanwhile; capturing")")
        return unchanged
    }

    /// One capture: an optimistic pass, then up to `stopAttempts` passes with
    /// the writers stopped. Returns the entries that still changed (none:
    /// the tree is one instant).
    private func capture(
        _ tree: inout CaptureTree, _ paths: TargetPaths, recent: FileTime, hot: Set<FilePath>, budget: inout Int64
    ) throws(ASDError) -> [FilePath] {
        try update(&tree, to: try scan(tree), recent: recent, hot: hot, budget: &budget)
        var unsettled: [FilePath] = []
        for _ in 1...Self.stopAttempts {
            let writers = stoppableWriters(paths, source: tree.source)
            let freezer = ProcessFreezer()
            let stopped = writers.isEmpty || freezer.stop(writers, deadline: Clock.monotonicMicroseconds() + Self.stopDeadline)
            let began = Clock.monotonicMicroseconds()
            let before: CaptureTree.Scan, after: CaptureTree.Scan
            do throws(ASDError) {
                before = try scan(tree)
                try update(&tree, to: before, recent: recent, hot: hot, budget: &budget)
                after = try scan(tree)
            } catch {
                freezer.release()
                throw error
            }
            freezer.release()
            log.debug("Captured \(paths.target) with \(stopped ? writers.count : 0) of \(writers.count) writers stopped for \(Clock.monotonicMicroseconds() - began) µs")
            unsettled = CaptureTree.differences(before, after)
            if unsettled.isEmpty { return [] }
            try update(&tree, to: after, recent: recent, hot: hot, budget: &budget)
        }
        return unsettled
    }

    private func update(
        _ tree: inout CaptureTree, to scan: CaptureTree.Scan, recent: FileTime, hot: Set<FilePath>, budget: inout Int64
    ) throws(ASDError) {
        try ASDError.copying { () throws(CopyError) in try tree.update(to: scan, recent: recent, hot: hot, budget: &budget) }
    }

    private func scan(_ tree: CaptureTree) throws(ASDError) -> CaptureTree.Scan {
        try ASDError.attempt("read the tree", tree.source) { () throws(Errno) in try tree.scan() }
    }

    /// Processes with files open below the target, minus those never stopped:
    /// asd and its ancestors, pid 1, systemd-journald, and traced ones.
    func stoppableWriters(_ paths: TargetPaths, source: FilePath) -> [Int32] {
        let roots = Array(Set([paths.target, paths.tmpfsCopy, source, paths.overlayUpper]))
        return OpenFiles.users(of: roots, excluding: OpenFiles.protectedPids()).filter { pid in
            let status = OpenFiles.status(of: pid)
            return status["TracerPid"] == "0" && status["Name"] != "systemd-journal"
        }
    }

    /// Bytes a capture may copy: VOLATILE's free space less a reserve (1/16
    /// of its size, at least 8 MiB) for the applications.
    func captureBudget() -> Int64 {
        guard let info = try? FileSystemInfo.of(settings.volatile) else { return 0 }
        let reserve = max(info.totalBytes / 16, 8 << 20)
        return info.availableBytes > reserve ? Int64(info.availableBytes - reserve) : 0
    }

    /// An empty capture tree for `paths` (a stale one, left by a killed asd, removed).
    /// Overlay mode adds `base/view`, the mount point of the captured view.
    private func prepareCapture(
        _ paths: TargetPaths, source: FilePath, base: FilePath, overlay: Bool
    ) throws(ASDError) -> CaptureTree {
        removeCapture(base)
        let root = base.appending("tree") + paths.target
        try ASDError.attempt("create the capture directory", root) { () throws(Errno) in
            try FileOps.makeDirectory(base, mode: 0o700, uid: 0, gid: 0)
            if overlay { try FileOps.makeDirectory(base.appending("view"), mode: 0o700, uid: 0, gid: 0) }
            var path = base.appending("tree")
            try FileOps.makeDirectory(path, mode: 0o700, uid: 0, gid: 0)
            for component in paths.target.components {
                path = path.appending(component)
                try FileOps.makeDirectory(path, mode: 0o700, uid: 0, gid: 0)
            }
        }
        return CaptureTree(source: source, root: root, excludedTopNames: [TargetPaths.flagName], overlay: overlay,
                           filter: settings.exclusions.filter(for: paths.target))
    }

    /// Removes a capture (hard links and copies only: the live files stay),
    /// its view unmounted first (left mounted by a killed asd).
    func removeCapture(_ base: FilePath) {
        _ = try? Mount.unmountRecursive(base, lazy: true)
        let (parent, name) = base.split
        try? DirectoryHandle(path: parent.isEmpty ? "/" : parent).removeTree(name)
    }
}
