import ASDSystem

/// One scan of a tree for the consistent write-back (doc/DESIGN.md §6.5), kept
/// compact: per directory its own status, its entries' names packed in one byte
/// array and one fixed-size record per entry (56 bytes: what `Record.same`
/// compares), sorted by name. A 100,000-entry tree takes about 6 MiB, where a
/// dictionary of paths to statuses took over 40 (doc/DESIGN.md §12, busy cost).
public struct TreeListing {
    /// An entry's identity: content (size, mtime in ns, inode), type and
    /// metadata; ctime only for directories (a hard link of ours moves a file's).
    struct Record {
        var inode: UInt64, size: Int64, modificationSeconds: Int64, changeSeconds: Int64
        var modificationNanoseconds: UInt32, changeNanoseconds: UInt32, uid: UInt32, gid: UInt32
        var nameStart: UInt32, permissions: UInt16, nameLength: UInt8, kind: UInt8

        init(_ status: FileStatus, nameStart: Int = 0, nameLength: Int = 0) {
            inode = status.inode
            size = status.size
            modificationSeconds = Int64(status.modificationTime.seconds)
            modificationNanoseconds = UInt32(truncatingIfNeeded: status.modificationTime.nanoseconds)
            changeSeconds = status.isDirectory ? Int64(status.changeTime.seconds) : 0
            changeNanoseconds = status.isDirectory ? UInt32(truncatingIfNeeded: status.changeTime.nanoseconds) : 0
            uid = status.uid
            gid = status.gid
            permissions = UInt16(truncatingIfNeeded: status.permissions)
            kind = Self.kind(status.type)
            self.nameStart = UInt32(truncatingIfNeeded: nameStart)
            self.nameLength = UInt8(truncatingIfNeeded: nameLength)
        }

        static func kind(_ type: FileType) -> UInt8 {
            switch type {
            case .regular: 0
            case .directory: 1
            case .symlink: 2
            case .fifo: 3
            case .socket: 4
            case .charDevice: 5
            case .blockDevice: 6
            }
        }

        var isDirectory: Bool { kind == 1 }
        var isRegular: Bool { kind == 0 }
        var modificationTime: FileTime { FileTime(seconds: Int(modificationSeconds), nanoseconds: Int(modificationNanoseconds)) }
        var changeTime: FileTime { FileTime(seconds: Int(changeSeconds), nanoseconds: Int(changeNanoseconds)) }

        /// Same identity (the name left out).
        func same(_ other: Record) -> Bool {
            inode == other.inode && size == other.size && kind == other.kind
                && modificationSeconds == other.modificationSeconds && modificationNanoseconds == other.modificationNanoseconds
                && changeSeconds == other.changeSeconds && changeNanoseconds == other.changeNanoseconds
                && permissions == other.permissions && uid == other.uid && gid == other.gid
        }
    }

    /// One directory: its path below the root ("" for the root), its own
    /// status, and its entries sorted by name.
    struct Directory {
        var path: FilePath
        var status: FileStatus
        var names: [UInt8] = []
        var records: [Record] = []

        func name(_ record: Record) -> ArraySlice<UInt8> {
            names[Int(record.nameStart)..<Int(record.nameStart) + Int(record.nameLength)]
        }

        func path(of record: Record) -> FilePath { path.appending(FilePath(bytes: Array(name(record)))) }

        /// Whether an entry (the root's own status too) was modified at or after
        /// `recent`, or is a directory whose ctime is.
        func modified(since recent: FileTime) -> Bool {
            func isRecent(_ record: Record) -> Bool {
                !(record.modificationTime < recent) || (record.isDirectory && !(record.changeTime < recent))
            }
            return (path.isEmpty && isRecent(Record(status))) || records.contains(where: isRecent)
        }
    }

    /// Whether an entry was modified at or after `recent` (see `Directory.modified`).
    public func modified(since recent: FileTime) -> Bool { directories.contains { $0.modified(since: recent) } }

    /// Parents before their subdirectories; the root first.
    private(set) var directories: [Directory] = []
    private var index: [FilePath: Int] = [:]

    func directory(_ path: FilePath) -> Directory? { index[path].map { directories[$0] } }

    /// Number of entries, the root included.
    public var count: Int { directories.reduce(1) { $0 + $1.records.count } }

    /// Scans `source` by descriptor, never following symlinks, leaving out
    /// `excludedTopNames` at the top and what `filter` excludes. An entry that
    /// vanishes meanwhile is left out; a directory that cannot be opened is
    /// listed with no entries (the next scan differs when that changes).
    public static func scan(
        _ source: FilePath, excludedTopNames: Set<FilePath>, filter: ExclusionFilter
    ) throws(Errno) -> TreeListing {
        var listing = TreeListing()
        try walk(source, excludedTopNames: excludedTopNames, filter: filter) { directory in
            listing.index[directory.path] = listing.directories.count
            listing.directories.append(directory)
            return true
        }
        return listing
    }

    /// The walk behind `scan`: each directory, listed and sorted, goes to
    /// `visit` before its subdirectories are read; `visit` returning false ends it.
    static func walk(
        _ source: FilePath, excludedTopNames: Set<FilePath>, filter: ExclusionFilter, visit: (Directory) -> Bool
    ) throws(Errno) {
        var pending: [(DirectoryHandle, FilePath, FileStatus)] = [(try DirectoryHandle(path: source), "", try FileOps.status(source))]
        while let (handle, path, status) = pending.popLast() {
            var directory = Directory(path: path, status: status)
            var found: [(name: FilePath, status: FileStatus)] = []
            for name in try handle.entries() where !(path.isEmpty && excludedTopNames.contains(name)) {
                guard name.bytes.count <= Int(UInt8.max), let status = try handle.statusIfExists(name) else { continue }
                if !filter.isEmpty && filter.excludes(path.appending(name), isDirectory: status.isDirectory) { continue }
                found.append((name, status))
            }
            found.sort { $0.name.bytes.lexicographicallyPrecedes($1.name.bytes) }
            directory.records.reserveCapacity(found.count)
            for (name, status) in found {
                directory.records.append(Record(status, nameStart: directory.names.count, nameLength: name.bytes.count))
                directory.names += name.bytes
            }
            guard visit(directory) else { return }
            for (name, status) in found.reversed() where status.isDirectory {
                if let child = try? handle.openDirectory(name) { pending.append((child, path.appending(name), status)) }
            }
        }
    }

    /// Leaves `paths` out (and, for a directory, everything below it).
    mutating func remove(_ paths: Set<FilePath>) {
        guard !paths.isEmpty else { return }
        for path in paths where !path.isEmpty {
            let (parent, name) = path.bytes.contains(FilePath.slash) ? path.split : ("", path)
            guard let at = index[parent] else { continue }
            let directory = directories[at]
            directories[at].records.removeAll { directory.name($0).elementsEqual(name.bytes) }
        }
        let prefixes = paths.map { $0.isEmpty ? [] : $0.bytes + [FilePath.slash] }
        directories.removeAll { directory in
            paths.contains(directory.path) || prefixes.contains { !$0.isEmpty && directory.path.bytes.starts(with: $0) }
        }
        index = Dictionary(uniqueKeysWithValues: directories.enumerated().map { ($1.path, $0) })
    }

    /// Walks the records of `old` and `new` directory `path` side by side:
    /// `body` gets each name with its record in either (nil where it is missing).
    static func merge(_ old: Directory?, _ new: Directory?, _ body: (ArraySlice<UInt8>, Record?, Record?) throws(Errno) -> Void) throws(Errno) {
        let left = old?.records ?? [], right = new?.records ?? []
        var i = 0, j = 0
        while i < left.count || j < right.count {
            let a = i < left.count ? old!.name(left[i]) : nil
            let b = j < right.count ? new!.name(right[j]) : nil
            if let a, b == nil || a.lexicographicallyPrecedes(b!) {
                try body(a, left[i], nil)
                i += 1
            } else if let b, a == nil || b.lexicographicallyPrecedes(a!) {
                try body(b, nil, right[j])
                j += 1
            } else {
                try body(a!, left[i], right[j])
                i += 1
                j += 1
            }
        }
    }

    /// Paths whose entry differs between two scans (added, removed or changed;
    /// "" for the root itself), sorted.
    public static func differences(_ old: TreeListing, _ new: TreeListing) -> [FilePath] {
        var result: [FilePath] = []
        if let a = old.directories.first, let b = new.directories.first, !Record(a.status).same(Record(b.status)) {
            result.append("")
        }
        let paths = Set(old.directories.map(\.path)).union(new.directories.map(\.path))
        for path in paths {
            // Never throws: the body does not.
            try? merge(old.directory(path), new.directory(path)) { name, a, b in
                if let a, let b, a.same(b) { return }
                result.append(path.appending(FilePath(bytes: Array(name))))
            }
        }
        return result.sorted()
    }
}
