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
        public let relativePath: String
        public let status: FileStatus
        /// A directory that is a mount point; its content is not visited.
        public let isMountPoint: Bool
    }

    public let root: String

    public init(root: String) { self.root = root }

    /// Calls `visit` for every entry below the root, a directory before its
    /// content. Throws the first failure (of the walk or of `visit`).
    public func walk(_ visit: (Entry) throws(Errno) -> Void) throws(Errno) {
        let handle = try DirectoryHandle(path: root)
        let device = try handle.status().device
        try walk(handle, prefix: "", device: device, visit)
    }

    private func walk(
        _ directory: DirectoryHandle, prefix: String, device: UInt64,
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
            let path = prefix + name
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
            try walk(child, prefix: path + "/", device: device, visit)
        }
    }
}

extension FileOps {
    /// Apparent size (`du -sb`-like) of `path`: the bytes of its regular
    /// files, each hard-linked inode counted once, not crossing mounts.
    public static func directorySize(_ path: String) throws(Errno) -> UInt64 {
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
    public static func diskUsage(_ path: String) throws(Errno) -> UInt64 {
        try summarize(path).diskUsage
    }

    /// One walk of `path` (see `TreeSummary`), in parallel on big trees.
    /// `workers`: threads to use at most (nil: one per CPU); a number given
    /// also starts them at once instead of after the first 500 entries,
    /// so tests can exercise the parallel walk on small trees.
    /// Throws the first failure of the walk (an entry vanishing meanwhile is
    /// not one), like `diskUsage` always did.
    public static func summarize(_ path: String, workers: Int? = nil) throws(Errno) -> TreeSummary {
        let rootStatus = try status(path)
        let rootBlocks = UInt64(max(rootStatus.blocks, 0))
        guard rootStatus.isDirectory else { return TreeSummary(diskUsage: rootBlocks * 512, hardLinkedFiles: 0) }
        let fd = try retryingEINTR { open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
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
    public static func firstHardLinkedFile(in path: String) throws(Errno) -> (example: String, count: Int)? {
        var example: String?
        var count = 0
        try FileTreeWalker(root: path).walk { entry throws(Errno) in
            guard entry.status.isRegular, entry.status.linkCount > 1 else { return }
            count += 1
            if example == nil { example = path + "/" + entry.relativePath }
        }
        guard let example else { return nil }
        return (example, count)
    }

    /// `rm -rf path` that never crosses into another mount. A missing path
    /// is success; a non-directory is unlinked. Mount points inside the tree
    /// (another device, or a bind mount of the same one) are left alone with
    /// their content, everything else is removed, and then EBUSY is thrown.
    /// A root that is itself a mount point is refused with EBUSY untouched.
    /// Directories lacking owner rwx are made 0700 first so they can be emptied.
    public static func removeTree(_ path: String) throws(Errno) {
        guard let status = try statusIfExists(path) else { return }
        guard status.isDirectory else {
            try unlink(path)
            return
        }
        if try isMountRoot(path) { throw Errno.busy }
        if status.permissions & 0o700 != 0o700 { try? changeMode(path, 0o700) }
        let handle = try DirectoryHandle(path: path)
        let keptMountPoint = try emptyDirectory(handle, device: status.device)
        if keptMountPoint { throw Errno.busy }
        try removeDirectory(path)
    }

    /// Removes everything in `directory`; returns true when a mount point was
    /// kept (so the directory could not be emptied).
    private static func emptyDirectory(_ directory: DirectoryHandle, device: UInt64) throws(Errno) -> Bool {
        var keptMountPoint = false
        for name in try directory.entries() {
            let status: FileStatus
            do {
                status = try directory.status(name)
            } catch {
                if error == .noEntry { continue }
                throw error
            }
            if !status.isDirectory {
                try ignoringMissing { () throws(Errno) in try directory.remove(name) }
                continue
            }
            var mounted = status.device != device
            if !mounted { mounted = try directory.isMountRoot(name) }
            if mounted {
                keptMountPoint = true
                continue
            }
            if status.permissions & 0o700 != 0o700 { try? directory.changeMode(name, 0o700) }
            let child = try directory.openDirectory(name)
            if try emptyDirectory(child, device: device) {
                keptMountPoint = true
                continue
            }
            try ignoringMissing { () throws(Errno) in try directory.remove(name, directory: true) }
        }
        return keptMountPoint
    }

    private static func ignoringMissing(_ body: () throws(Errno) -> Void) throws(Errno) {
        do { try body() } catch { if error != .noEntry { throw error } }
    }
}
