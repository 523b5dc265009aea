#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// What one walk of a directory tree finds (`FileOps.summarize`): enough
/// for both parse's "dir size" and the hard-link safety check.
public struct TreeSummary: Equatable, Sendable {
    /// Allocated bytes (st_blocks × 512) of the root and everything below it
    /// on the same mount, each hard-linked inode once: `du -s -x -B1`
    /// (a mount point's own root directory is counted, its content is not).
    public var diskUsage: UInt64
    /// Regular files below the root with more than one link, each name
    /// counted, as `find -type f -links +1 | wc -l` (0 for a file root).
    public var hardLinkedFiles: Int

    public init(diskUsage: UInt64, hardLinkedFiles: Int) {
        self.diskUsage = diskUsage
        self.hardLinkedFiles = hardLinkedFiles
    }
}

/// A depth-first walk of a directory tree that never follows symlinks and
/// never descends into another mount: a subdirectory on another device, or
/// the root of a (bind) mount of the same device (statx STATX_ATTR_MOUNT_ROOT),
/// is reported with `isMountPoint` and not entered.
public struct FileTreeWalker {
    public struct Entry: Sendable {
        /// Path relative to the root, e.g. "a/b/c" (never empty: the root is not reported).
        let relativePath: FilePath
        public let status: FileStatus
        /// A directory that is a mount point; its content is not visited.
        let isMountPoint: Bool
    }

    public let root: FilePath

    public init(root: FilePath) { self.root = root }

    /// Calls `visit` for every entry below the root, a directory before its
    /// content. Throws the first failure (of the walk or of `visit`).
    public func walk(_ visit: (Entry) throws(Errno) -> Void) throws(Errno) {
        let handle = try DirectoryHandle(path: root)
        let device = try handle.status().device
        try walk(handle, prefix: FilePath(), device: device, visit)
    }

    private func walk(
        _ directory: DirectoryHandle, prefix: FilePath, device: UInt64,
        _ visit: (Entry) throws(Errno) -> Void
    ) throws(Errno) {
        for name in try directory.entries() {
            let status: FileStatus
            do {
                status = try directory.status(name)
            } catch {
                if error == .noEntry { continue }  // vanished meanwhile
                throw error
            }
            let path = prefix.appending(name)
            guard status.isDirectory else {
                try visit(Entry(relativePath: path, status: status, isMountPoint: false))
                continue
            }
            var mounted = status.device != device
            if !mounted { mounted = try directory.isMountRoot(name) }
            try visit(Entry(relativePath: path, status: status, isMountPoint: mounted))
            if mounted { continue }
            let child: DirectoryHandle
            do {
                child = try directory.openDirectory(name)
            } catch {
                if error == .noEntry { continue }
                throw error
            }
            try walk(child, prefix: path, device: device, visit)
        }
    }
}

extension FileOps {
    /// Apparent size (`du -sb`-like) of `path`: the bytes of its regular
    /// files, each hard-linked inode counted once, not crossing mounts.
    static func directorySize(_ path: FilePath) throws(Errno) -> UInt64 {
        var total: UInt64 = 0
        var seen = Set<UInt64>()
        try FileTreeWalker(root: path).walk { entry throws(Errno) in
            let status = entry.status
            guard status.isRegular else { return }
            if status.linkCount > 1 && !seen.insert(status.inode).inserted { return }
            total += UInt64(max(status.size, 0))
        }
        return total
    }

    /// Allocated space (st_blocks × 512, like `du -s`) of `path` and all it
    /// holds, each hard-linked inode counted once, not crossing mounts.
    public static func diskUsage(_ path: FilePath) throws(Errno) -> UInt64 {
        try summarize(path).diskUsage
    }

    /// One walk of `path` (see `TreeSummary`), in parallel on big trees.
    /// `workers`: threads to use at most (nil: one per CPU); a number given
    /// also starts them at once instead of after the first 500 entries,
    /// so tests can exercise the parallel walk on small trees.
    /// Throws the first failure of the walk (an entry vanishing meanwhile is
    /// not one), like `diskUsage` always did.
    public static func summarize(_ path: FilePath, workers: Int? = nil) throws(Errno) -> TreeSummary {
        let rootStatus = try status(path)
        let rootBlocks = UInt64(max(rootStatus.blocks, 0))
        guard rootStatus.isDirectory else { return TreeSummary(diskUsage: rootBlocks * 512, hardLinkedFiles: 0) }
        let fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, DirectoryHandle.openFlags) } }
        let root = try ScanDirectory(adopting: fd)
        var st = stat()
        _ = try retryingEINTR { fstat(root.fd, &st) }
        let scan = TreeScan(device: UInt64(st.st_dev), workers: workers ?? TreeScan.defaultWorkers,
                            parallelAfter: workers == nil ? 500 : 0)
        let tally = try scan.run(root: root)
        let blocks = rootBlocks + tally.blocks + tally.linkedBlocks.values.reduce(0, +)
        return TreeSummary(diskUsage: blocks * 512, hardLinkedFiles: tally.hardLinkedFiles)
    }

    /// The first regular file below `path` with more than one link (as
    /// `find -type f -links +1`) and how many such files there are; nil when
    /// there are none.
    public static func firstHardLinkedFile(in path: FilePath) throws(Errno) -> (example: FilePath, count: Int)? {
        var example: FilePath?
        var count = 0
        try FileTreeWalker(root: path).walk { entry throws(Errno) in
            guard entry.status.isRegular, entry.status.linkCount > 1 else { return }
            count += 1
            if example == nil { example = path.appending(entry.relativePath) }
        }
        guard let example else { return nil }
        return (example, count)
    }

    /// `rm -rf path`, descriptor-relative below the parent of `path` (see
    /// `DirectoryHandle.removeTree`): a missing path is success, a
    /// non-directory is unlinked, mounts inside are kept (then EBUSY), and
    /// a `path` that is itself a mount point is refused with EBUSY.
    public static func removeTree(_ path: FilePath) throws(Errno) {
        let trimmed = path.trimmingTrailingSlashes
        let parent: DirectoryHandle
        do {
            parent = try DirectoryHandle(resolving: trimmed.directory)
        } catch {
            if error == .noEntry || error == .notDirectory { return }
            throw error
        }
        try parent.removeTree(trimmed.lastComponent)
    }
}
