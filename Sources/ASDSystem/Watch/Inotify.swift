import CASDShims
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// inotify(7), one watch per directory (as lsyncd): the fallback where
/// fanotify cannot mark the file system. A directory that appears must be
/// watched by the caller (`watchTree`); what was written in it before the
/// watch existed is found by the write-back the appearance itself triggers.
public final class InotifyFeed: @unchecked Sendable {
    public let fd: Int32
    /// The path each watch was added for.
    private var directories: [Int32: FilePath] = [:]

    public init() throws(Errno) {
        fd = try retryingEINTR { casd_inotify_init() }
    }

    deinit { close(fd) }

    /// How many directories are watched.
    public var count: Int { directories.count }

    /// Watches `root` and every directory below it, walked by descriptor
    /// (never following a symlink); adding a watch again refreshes its path.
    /// An entry that vanishes meanwhile is skipped. ENOSPC: the user's
    /// `fs.inotify.max_user_watches` is reached.
    public func watchTree(_ root: FilePath) throws(Errno) {
        var stack: [(DirectoryHandle, FilePath)] = [(try DirectoryHandle(path: root), root)]
        while let (directory, path) = stack.popLast() {
            let wd = try retryingEINTR { casd_inotify_watch(fd, "/proc/self/fd/\(directory.fd)") }
            directories[wd] = path
            guard let names = try? directory.entries() else { continue }
            for name in names {
                guard let status = try? directory.statusIfExists(name), status.isDirectory,
                      let child = try? directory.openDirectory(name) else { continue }
                stack.append((child, path.appending(name)))
            }
        }
    }

    /// Every event queued now (the descriptor is non-blocking).
    public func read() -> [FileChange] {
        readQueue(fd) { base, count, changes in
            var offset = 0, wd: Int32 = 0, kind: Int32 = 0
            var name: UnsafePointer<CChar>?
            while casd_inotify_event(base, count, &offset, &wd, &kind, &name) == 1 {
                if let change = change(wd: wd, kind: kind, name: name) { changes.append(change) }
            }
        }
    }

    private func change(wd: Int32, kind: Int32, name: UnsafePointer<CChar>?) -> FileChange? {
        if kind == Int32(CASD_CHANGE_OVERFLOW.rawValue) { return .unknown }
        if kind == Int32(CASD_CHANGE_GONE.rawValue) {
            directories[wd] = nil
            return nil
        }
        guard let directory = directories[wd] else { return .unknown }
        let path = name.map { directory.appending(FilePath(cString: $0)) } ?? directory
        switch kind {
        case Int32(CASD_CHANGE_DIR_NEW.rawValue): return .newDirectory(path)
        case Int32(CASD_CHANGE_DIR_MOVED.rawValue): return .directoryMoved(path)
        default: return .changed(path)
        }
    }
}
