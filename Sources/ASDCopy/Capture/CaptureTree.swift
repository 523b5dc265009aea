import ASDSystem

/// A copy of a live tree as it was at one instant, built in VOLATILE for the
/// write-back to read from (doc/DESIGN.md, "Consistent write-back"). Files
/// modified recently get a private copy; every other non-directory is a hard
/// link to the live file (no RAM), checked after the write-back
/// (`linksChanged`): a link whose file changed meanwhile may have been read
/// in its new state. Directories are real, with the live ones' metadata.
public struct CaptureTree {
    /// What decides whether an entry is the same as when captured: content
    /// (size, mtime in ns, inode), type and metadata. ctime is left out for
    /// files, since a hard link of ours changes it; directories keep it.
    struct Identity: Equatable {
        var type: FileType, inode: UInt64, size: Int64, modification: FileTime
        var change: FileTime?, permissions: UInt32, uid: UInt32, gid: UInt32

        init(_ status: FileStatus) {
            type = status.type
            inode = status.inode
            size = status.size
            modification = status.modificationTime
            change = status.isDirectory ? status.changeTime : nil
            permissions = status.permissions
            uid = status.uid
            gid = status.gid
        }
    }

    struct Entry { var status: FileStatus; var copied: Bool }

    public typealias Scan = [FilePath: FileStatus]

    public let source: FilePath
    public let root: FilePath
    let excludedTopNames: Set<FilePath>
    /// Overlay mode: the tree is an upper layer, whose overlay attributes
    /// (opaque directories) the capture keeps.
    let overlay: Bool
    /// RAM_ONLY and DISK_ONLY: left out of the capture as out of the write-back
    /// (a DISK_ONLY bind is the disk's own directory, not RAM to capture).
    let filter: ExclusionFilter
    private(set) var entries: [FilePath: Entry] = [:]
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

    /// Every entry below `source` (root included, as ""), by descriptor.
    public func scan() throws(Errno) -> Scan {
        var result: Scan = ["": try FileOps.status(source)]
        var pending: [(DirectoryHandle, FilePath)] = [(try DirectoryHandle(path: source), "")]
        while let (directory, relative) = pending.popLast() {
            for name in try directory.entries() where !(relative.isEmpty && excludedTopNames.contains(name)) {
                guard let status = try directory.statusIfExists(name) else { continue }
                let path = relative.appending(name)
                if filter.excludes(path, isDirectory: status.isDirectory) { continue }
                result[path] = status
                if status.isDirectory, let child = try? directory.openDirectory(name) { pending.append((child, path)) }
            }
        }
        return result
    }

    /// Paths whose entry differs between two scans (added, removed or changed).
    public static func differences(_ old: Scan, _ new: Scan) -> [FilePath] {
        var result = old.keys.filter { key in new[key].map { Identity($0) != Identity(old[key]!) } ?? true }
        result += new.keys.filter { old[$0] == nil }
        return result.sorted()
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

    private mutating func apply(_ scan: Scan, recent: FileTime, hot: Set<FilePath>, budget: inout Int64) throws(Errno) {
        let rootHandle = try DirectoryHandle(path: root)
        var touched = Set<FilePath>()
        // The root's own metadata, also when no entry below it changed (an empty tree).
        if entries[""].map({ Identity($0.status) != Identity(scan[""]!) }) ?? true { touched.insert("") }
        for (path, entry) in entries where scan[path].map({ Identity($0) != Identity(entry.status) }) ?? true {
            guard scan[path]?.isDirectory != true || !entry.status.isDirectory else { continue }
            let (parent, name) = Self.split(path)
            try? (parent.isEmpty ? rootHandle : rootHandle.openDirectory(relative: parent)).removeTree(name)
            if entry.copied { copiedBytes -= entry.status.size }
            entries[path] = nil
            touched.insert(parent)
        }
        entries = entries.filter { (path, _) in !path.isEmpty && scan[path] != nil || path.isEmpty }
        let sourceHandle = try DirectoryHandle(path: source)
        for path in scan.keys.sorted() where !path.isEmpty {
            let status = scan[path]!
            if let old = entries[path], Identity(old.status) == Identity(status) { continue }
            let (parent, name) = Self.split(path)
            guard let from = try? (parent.isEmpty ? sourceHandle : sourceHandle.openDirectory(relative: parent)),
                  let into = try? (parent.isEmpty ? rootHandle : rootHandle.openDirectory(relative: parent))
            else { continue }
            touched.insert(parent)
            if status.isDirectory {
                if entries[path] == nil { try into.makeDirectory(name) }
                entries[path] = Entry(status: status, copied: false)
                touched.insert(path)
                continue
            }
            try? into.removeTree(name)
            let copy = status.isRegular && (hot.contains(path) || !(status.modificationTime < recent)) && status.size <= budget
            do throws(Errno) {
                if copy {
                    try from.copyFile(name, to: into, as: name)
                    budget -= status.size
                    copiedBytes += status.size
                } else {
                    try from.hardLink(name, to: into, as: name)
                }
                entries[path] = Entry(status: status, copied: copy)
            } catch {
                if error != .noEntry { throw error }
            }
        }
        entries[""] = Entry(status: scan[""]!, copied: false)
        for path in touched.sorted().reversed() {
            guard let status = scan[path], status.isDirectory else { continue }
            let from = path.isEmpty ? sourceHandle : try sourceHandle.openDirectory(relative: path)
            let into = path.isEmpty ? rootHandle : try rootHandle.openDirectory(relative: path)
            try EntryBuilder.copyDirectoryMetadata(from: from, to: into, status, overlayAttributes: overlay)
        }
    }

    /// Parent ("" at the top) and name of a relative path.
    static func split(_ path: FilePath) -> (parent: FilePath, name: FilePath) {
        path.bytes.contains(FilePath.slash) ? path.split : ("", path)
    }

    /// Linked (not copied) entries whose live file is no longer what the
    /// capture saw: the write-back may have read them in a later state.
    public func linksChanged() -> [FilePath] {
        guard let handle = try? DirectoryHandle(path: root) else { return [] }
        return entries.compactMap { (path, entry) in
            guard !entry.copied, !entry.status.isDirectory else { return nil }
            let now = try? handle.status(path)
            return now.map { Identity($0) == Identity(entry.status) } == true ? nil : path
        }.sorted()
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
