import ASDSystem
/// Where `asd watch` learns that a target changed (doc/DESIGN.md §12): the
/// best the kernel offers, tried in order, and what it reports turned into
/// target numbers. Any doubt (a lost event, a directory that cannot be
/// watched, an event that cannot be placed) reports every target.
final class ChangeSource {
    enum Kind: String, CaseIterable {
        /// fanotify, one filesystem mark with file handles.
        case fanotify
        /// inotify, one watch per directory.
        case inotify
        /// No events: every target is written back every RESYNC_DELAY.
        case scan
    }

    let kind: Kind
    /// The directory each target's changes land in (tmpfs copy, or the
    /// overlay's upper layer), in target order.
    let roots: [FilePath]
    private var fanotify: FanotifyFeed?
    private var inotify: InotifyFeed?
    private let log: any Log

    private init(kind: Kind, roots: [FilePath], fanotify: FanotifyFeed?, inotify: InotifyFeed?, log: any Log) {
        self.kind = kind
        self.roots = roots
        self.fanotify = fanotify
        self.inotify = inotify
        self.log = log
    }

    /// Events of this write-back child are our own (fanotify reports pids).
    func ignore(child pid: Int32) { fanotify?.ownChild = pid }

    /// The descriptor to poll; nil for a timed scan.
    var descriptor: Int32? { fanotify?.fd ?? inotify?.fd }

    /// Tries `only` (ASD_WATCH_SOURCE), else fanotify, inotify, scan.
    static func open(roots: [FilePath], only: Kind? = nil, log: any Log) -> ChangeSource {
        let order = only.map { [$0] } ?? Kind.allCases
        for kind in order {
            switch kind {
            case .fanotify:
                do throws(Errno) {
                    let feed = try FanotifyFeed(watching: roots)
                    return ChangeSource(kind: .fanotify, roots: roots, fanotify: feed, inotify: nil, log: log)
                } catch {
                    log.debug("fanotify cannot watch \(roots.map(\.description).joined(separator: ", ")): \(error); trying inotify.")
                }
            case .inotify:
                do throws(Errno) {
                    let feed = try InotifyFeed()
                    for root in roots { try feed.watchTree(root) }
                    return ChangeSource(kind: .inotify, roots: roots, fanotify: nil, inotify: feed, log: log)
                } catch {
                    log.warning("inotify cannot watch the RAM copies (\(error); raise fs.inotify.max_user_watches when it is ENOSPC); changes are found by a scan every RESYNC_DELAY instead.")
                }
            case .scan:
                break
            }
        }
        return ChangeSource(kind: .scan, roots: roots, fanotify: nil, inotify: nil, log: log)
    }

    /// The targets (indices into `roots`) with changes queued now.
    func read() -> Set<Int> {
        let changed = readChanges()
        if changed == nil {
            log.info("The change queue overflowed or a change could not be placed; every target is written back.")
        }
        return changed ?? Set(roots.indices)
    }

    /// nil: every target (a doubt).
    private func readChanges() -> Set<Int>? {
        let all: Set<Int>? = nil
        if let fanotify {
            var changed: Set<Int> = []
            for change in fanotify.read() {
                guard let path = path(of: change) else { return all }
                if let index = target(of: path) { changed.insert(index) }
            }
            return changed
        }
        guard let inotify else { return [] }
        var changed: Set<Int> = []
        for change in inotify.read() {
            guard let path = path(of: change) else { return all }
            guard let index = target(of: path) else { continue }
            changed.insert(index)
            do throws(Errno) {
                switch change {
                case .newDirectory(let directory): try watchNew(directory, in: inotify)
                case .directoryMoved: try inotify.watchTree(roots[index])  // refresh the paths
                default: break
                }
            } catch {
                degradeToScan(error)
                return all
            }
        }
        return changed
    }

    /// A directory that vanished before it could be watched is no doubt:
    /// its removal is an event of its own.
    private func watchNew(_ directory: FilePath, in feed: InotifyFeed) throws(Errno) {
        do throws(Errno) {
            try feed.watchTree(directory)
        } catch {
            if error != .noEntry && error != .notDirectory && error != .tooManySymlinks { throw error }
        }
    }

    private func degradeToScan(_ error: Errno) {
        log.warning("inotify cannot watch a new directory (\(error); raise fs.inotify.max_user_watches when it is ENOSPC); from now on changes are found by a scan every RESYNC_DELAY.")
        inotify = nil
    }

    /// True once inotify gave up (the loop then scans on its timer).
    var scans: Bool { fanotify == nil && inotify == nil }

    private func path(of change: FileChange) -> FilePath? {
        switch change {
        case .changed(let path), .newDirectory(let path), .directoryMoved(let path): return path
        case .unknown: return nil
        }
    }

    /// The target whose root holds `path`.
    func target(of path: FilePath) -> Int? {
        roots.firstIndex { path.isWithin($0) }
    }
}
