import ASDSystem
/// The name lists the rsync engine hands to rsync (`--files-from`), found by
/// walking with directory descriptors and byte names (any byte but NUL and
/// '/' in a name survives). Paths are relative to the source root.
enum RsyncLists {
    struct Overlay: Equatable, Sendable {
        /// "." and every entry of the merged view present in the upper layer,
        /// in directories the upper layer holds.
        var transfer: [FilePath] = []
        /// Entries of the disk copy that are gone from the merged view, in
        /// those same directories.
        var delete: [FilePath] = []
        /// Files to write anew first (see `RsyncCopier`).
        var rewrite: [FilePath] = []
    }

    /// Overlay write-back, the same walk as `TreeMirror.changedOnlyIn`: only
    /// directories present in `upper` are entered, only names present there
    /// are compared, and deletions are found by listing each entered directory
    /// on both sides.
    static func overlay(
        merged: FilePath, upper: FilePath, destination: FilePath, excluded: Set<FilePath>
    ) throws(CopyError) -> Overlay {
        var lists = Overlay(transfer: ["."])
        var pending: [FilePath] = [FilePath(bytes: [])]
        while let relative = pending.popLast() {
            guard let mergedDir = try? DirectoryHandle(path: merged.appending(relative)) else { continue }
            let upperNames = Set((try? DirectoryHandle(path: upper.appending(relative)).entries()) ?? [])
            let destDir = try? DirectoryHandle(path: destination.appending(relative))
            let skip = relative.isEmpty ? excluded : []
            let names = try attempt("list", merged.appending(relative)) { () throws(Errno) in
                try mergedDir.entries()
            }.filter { !skip.contains($0) }
            if let destDir {
                let present = Set(names)
                let destNames = try attempt("list", destination.appending(relative)) { () throws(Errno) in
                    try destDir.entries()
                }
                for name in destNames.sorted() where !present.contains(name) && !skip.contains(name) {
                    lists.delete.append(relative.appending(name))
                }
            }
            for name in names.sorted() where upperNames.contains(name) {
                guard let status = try? mergedDir.status(name) else { continue }  // vanished
                let path = relative.appending(name)
                lists.transfer.append(path)
                if status.isDirectory {
                    pending.append(path)
                } else if status.isRegular, let destDir, let disk = try? destDir.status(name),
                          sharedAndSame(status, disk) {
                    lists.rewrite.append(path)
                }
            }
        }
        return lists
    }

    /// Full write-back: regular files of `source` changed since `changedSince`
    /// (ctime; nil: all) whose disk counterpart has the same size and mtime
    /// (rsync would change it in place) and more than one link.
    static func sharedAndChanged(
        source: FilePath, destination: FilePath, changedSince: FileTime?, excluded: Set<FilePath>
    ) throws(CopyError) -> [FilePath] {
        var result: [FilePath] = []
        var pending: [FilePath] = [FilePath(bytes: [])]
        while let relative = pending.popLast() {
            guard let sourceDir = try? DirectoryHandle(path: source.appending(relative)) else { continue }
            let skip = relative.isEmpty ? excluded : []
            let names = try attempt("list", source.appending(relative)) { () throws(Errno) in
                try sourceDir.entries()
            }
            var destDir: DirectoryHandle?? = .none
            for name in names.sorted() where !skip.contains(name) {
                guard let status = try? sourceDir.status(name) else { continue }
                let path = relative.appending(name)
                if status.isDirectory {
                    pending.append(path)
                    continue
                }
                guard status.isRegular, changedSince.map({ !(status.changeTime < $0) }) ?? true else { continue }
                if destDir == nil { destDir = .some(try? DirectoryHandle(path: destination.appending(relative))) }
                if let dir = destDir ?? nil, let disk = try? dir.status(name), sharedAndSame(status, disk) {
                    result.append(path)
                }
            }
        }
        return result
    }

    /// A disk file rsync would leave in place (same size and nanosecond mtime)
    /// while it shares its inode with the snapshot.
    static func sharedAndSame(_ source: FileStatus, _ disk: FileStatus) -> Bool {
        disk.isRegular && disk.linkCount > 1 && disk.size == source.size
            && disk.modificationTime == source.modificationTime
    }

    private static func attempt<T>(_ operation: String, _ path: FilePath, _ body: () throws(Errno) -> T) throws(CopyError) -> T {
        do throws(Errno) { return try body() } catch {
            throw .system(operation: operation, path: path, errno: error)
        }
    }
}
