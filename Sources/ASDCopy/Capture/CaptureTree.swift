import ASDSystem

/// A copy of a live tree as it was at one instant, built in VOLATILE for the
/// write-back to read from (doc/DESIGN.md, "Consistent write-back"). Files
/// modified recently get a private copy; every other non-directory is a hard
/// link to the live file (no RAM), checked after the write-back
/// (`linksChanged`): a link whose file changed meanwhile may have been read
/// in its new state. Directories are real, with the live ones' metadata.
public struct CaptureTree {
    public typealias Scan = TreeListing

    public let source: FilePath
    public let root: FilePath
    let excludedTopNames: Set<FilePath>
    /// Overlay mode: the tree is an upper layer, whose overlay attributes
    /// (opaque directories) the capture keeps.
    let overlay: Bool
    /// RAM_ONLY and DISK_ONLY: left out of the capture as out of the write-back
    /// (a DISK_ONLY bind is the disk's own directory, not RAM to capture).
    let filter: ExclusionFilter
    /// What the capture holds: the scan it was last brought to.
    private(set) var entries = TreeListing()
    /// The entries held as private copies (the others are hard links or directories).
    private var copied = Set<FilePath>()
    /// Bytes the private copies hold.
    public private(set) var copiedBytes: Int64 = 0

    public init(source: FilePath, root: FilePath, excludedTopNames: Set<FilePath>, overlay: Bool = false,
                filter: ExclusionFilter = .none) {
        self.overlay = overlay
        self.filter = filter
        self.source = source
        self.root = root
        self.excludedTopNames = excludedTopNames
    }

    /// Every entry below `source` (the root's own status included), by descriptor.
    public func scan() throws(Errno) -> Scan {
        try TreeListing.scan(source, excludedTopNames: excludedTopNames, filter: filter)
    }

    /// Whether an entry below `source` (the root included) was modified at or
    /// after `recent`, or is a directory whose ctime is; stops at the first
    /// such entry and keeps no listing.
    public func modified(since recent: FileTime) throws(Errno) -> Bool {
        var found = false
        try TreeListing.walk(source, excludedTopNames: excludedTopNames, filter: filter) { directory in
            found = directory.modified(since: recent)
            return !found
        }
        return found
    }

    /// Paths whose entry differs between two scans (added, removed or changed).
    public static func differences(_ old: Scan, _ new: Scan) -> [FilePath] {
        TreeListing.differences(old, new)
    }

    /// Brings the capture to `scan`: removes what is gone, links or copies what
    /// is new or changed, then sets the metadata of the directories touched.
    /// A regular file modified at or after `recent`, or in `hot`, is copied while `budget`
    /// (bytes) lasts. An entry that vanished from the live tree meanwhile is
    /// left out: the caller's next scan sees the difference.
    public mutating func update(to scan: Scan, recent: FileTime, hot: Set<FilePath>, budget: inout Int64) throws(CopyError) {
        do throws(Errno) {
            try apply(scan, recent: recent, hot: hot, budget: &budget)
        } catch {
            throw .system(operation: "capture a consistent copy of", path: source, errno: error)
        }
    }

    /// One directory at a time, each opened once on both sides (parents come
    /// before their subdirectories in a scan, so a new one is made first).
    /// What could not be captured (gone from the live tree before it was
    /// linked, a directory that could not be opened) is left out of `entries`,
    /// so the next update makes it afresh; a name found in its way is replaced.
    private mutating func apply(_ scan: Scan, recent: FileTime, hot: Set<FilePath>, budget: inout Int64) throws(Errno) {
        let rootHandle = try DirectoryHandle(path: root)
        let sourceHandle = try DirectoryHandle(path: source)
        var touched = Set<FilePath>(), missed = Set<FilePath>()
        // The root's own metadata, also when no entry below it changed (an empty tree).
        if entries.directories.first.map({ !TreeListing.Record($0.status).same(TreeListing.Record(scan.directories[0].status)) }) ?? true {
            touched.insert("")
        }
        for directory in scan.directories {
            let path = directory.path
            guard let from = try? sourceHandle.openDirectory(relative: path),
                  let into = try? rootHandle.openDirectory(relative: path) else {
                missed.insert(path)
                continue
            }
            try TreeListing.merge(entries.directory(path), directory) { (bytes, old, new) throws(Errno) in
                if let old, let new, old.same(new) { return }
                let name = FilePath(bytes: Array(bytes)), entry = path.appending(name)
                touched.insert(path)
                if let old, !(old.isDirectory && new?.isDirectory == true) {
                    try? into.removeTree(name)
                    if copied.remove(entry) != nil { copiedBytes -= old.size }
                }
                guard let new else { return }
                if new.isDirectory {
                    if old?.isDirectory != true { try Self.replacing(name, in: into) { () throws(Errno) in try into.makeDirectory(name) } }
                    touched.insert(entry)
                    return
                }
                let copy = new.isRegular && (hot.contains(entry) || !(new.modificationTime < recent)) && new.size <= budget
                do throws(Errno) {
                    try Self.replacing(name, in: into) { () throws(Errno) in
                        if copy { try from.copyFile(name, to: into, as: name) } else { try from.hardLink(name, to: into, as: name) }
                    }
                    if copy {
                        budget -= new.size
                        copiedBytes += new.size
                        copied.insert(entry)
                    }
                } catch {
                    if error != .noEntry { throw error }
                    missed.insert(entry)
                }
            }
        }
        entries = scan
        entries.remove(missed)
        for path in touched.sorted().reversed() {
            guard let status = scan.directory(path)?.status, !missed.contains(path) else { continue }
            let from = path.isEmpty ? sourceHandle : try sourceHandle.openDirectory(relative: path)
            let into = path.isEmpty ? rootHandle : try rootHandle.openDirectory(relative: path)
            try EntryBuilder.copyDirectoryMetadata(from: from, to: into, status, overlayAttributes: overlay)
        }
    }

    /// Runs `make`; when `name` is in its way (left by an update that could
    /// not finish it), removes that and runs `make` again.
    private static func replacing(_ name: FilePath, in directory: DirectoryHandle, _ make: () throws(Errno) -> Void) throws(Errno) {
        do throws(Errno) {
            try make()
        } catch {
            guard error == .exists else { throw error }
            try directory.removeTree(name)
            try make()
        }
    }

    /// Linked (not copied) entries whose live file is no longer what the
    /// capture saw: the write-back may have read them in a later state.
    public func linksChanged() -> [FilePath] {
        guard let handle = try? DirectoryHandle(path: root) else { return [] }
        var changed: [FilePath] = []
        for directory in entries.directories {
            let opened = try? handle.openDirectory(relative: directory.path)
            for record in directory.records where !record.isDirectory {
                let path = directory.path(of: record)
                if copied.contains(path) { continue }
                let now = try? opened?.status(FilePath(bytes: Array(directory.name(record))))
                if now.map({ TreeListing.Record($0).same(record) }) != true { changed.append(path) }
            }
        }
        return changed.sorted()
    }
}

extension EntryBuilder {
    /// Gives the directory `into` the owner, xattrs, mode and times of
    /// `status`, the status of `from`; order as in `build`.
    /// `overlayAttributes`: the overlay's own attributes too.
    static func copyDirectoryMetadata(
        from: DirectoryHandle, to into: DirectoryHandle, _ status: FileStatus, overlayAttributes: Bool
    ) throws(Errno) {
        try into.changeOwner(".", uid: status.uid, gid: status.gid)
        let wanted = overlayAttributes ? try from.xattrs(".") : xattrs(from, ".")
        let present = overlayAttributes ? try into.xattrs(".") : xattrs(into, ".")
        for attribute in present.keys where wanted[attribute] == nil { try into.removeXattr(".", attribute: attribute) }
        for (attribute, value) in wanted where present[attribute] != value {
            try into.setXattr(".", attribute: attribute, value: value)
        }
        try into.changeMode(".", status.permissions)
        try into.setTimes(".", access: status.accessTime, modification: status.modificationTime)
    }
}
