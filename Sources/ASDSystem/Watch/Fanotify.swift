import CASDShims
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// One change a feed reports (doc/DESIGN.md §12).
public enum FileChange: Equatable, Sendable {
    /// Something changed at this path (an entry, or the directory itself).
    case changed(FilePath)
    /// A directory appeared at this path (inotify must watch it too).
    case newDirectory(FilePath)
    /// A directory at this path was renamed: paths known for directories may be stale.
    case directoryMoved(FilePath)
    /// Events were lost (queue overflow), or one could not be placed: anything may have changed.
    case unknown
}

/// fanotify(7) with a filesystem mark and directory file handles
/// (FAN_REPORT_DFID_NAME): one mark sees every change on the file system,
/// whatever the number of directories, and costs nothing while nothing
/// changes. Each event names its directory by a file handle, turned into a
/// path with open_by_handle_at(2) and the /proc/self/fd link, and cached; a
/// renamed directory empties the cache, so a cached path is never stale.
/// Events this process or its write-back child causes (the capture of a
/// write-back hard-links every file of a target) are skipped; the queue has no limit, so they can never
/// overflow it either.
public final class FanotifyFeed: @unchecked Sendable {
    public let fd: Int32
    /// A directory on each marked file system, by fsid: open_by_handle_at's mount.
    private var mounts: [UInt64: DirectoryHandle] = [:]
    private var paths: [[UInt8]: FilePath] = [:]
    private static let cacheLimit = 65_536
    /// The pid of the latest child that wrote back for us (`ForkedWork`): its
    /// events (the capture's links) are ours too.
    public var ownChild: Int32 = 0

    /// Marks the file systems holding `directories`. Fails (EPERM, EINVAL,
    /// ENODEV, EXDEV: a kernel or file system without file handles for it)
    /// without leaving anything open.
    public init(watching directories: [FilePath]) throws(Errno) {
        fd = try retryingEINTR { casd_fanotify_init() }
        do throws(Errno) {
            for directory in directories {
                let handle = try DirectoryHandle(path: directory)
                var fsid: UInt64 = 0
                _ = try retryingEINTR { casd_fsid(handle.fd, &fsid) }
                if mounts[fsid] != nil { continue }
                _ = try retryingEINTR { casd_fanotify_mark_filesystem(fd, handle.fd) }
                mounts[fsid] = handle
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Every event queued now (the descriptor is non-blocking).
    public func read() -> [FileChange] {
        readQueue(fd) { base, count, changes in
            var offset = 0, kind: Int32 = 0, pid: Int32 = 0, fsid: UInt64 = 0, size = 0
            var handle: UnsafeRawPointer?, name: UnsafePointer<CChar>?
            while casd_fanotify_event(base, count, &offset, &kind, &pid, &fsid, &handle, &size, &name) == 1 {
                if kind != Int32(CASD_CHANGE_OVERFLOW.rawValue) && (pid == getpid() || pid == ownChild) { continue }
                if let change = change(kind: kind, fsid: fsid, handle: handle, size: size, name: name) {
                    changes.append(change)
                }
            }
        }
    }

    private func change(kind: Int32, fsid: UInt64, handle: UnsafeRawPointer?, size: Int,
                        name: UnsafePointer<CChar>?) -> FileChange? {
        guard kind != Int32(CASD_CHANGE_OVERFLOW.rawValue), let handle else { return .unknown }
        let key = [UInt8](UnsafeRawBufferPointer(start: handle, count: size))
        var directory = paths[key]
        if directory == nil {
            guard let mount = mounts[fsid] else { return .unknown }
            let opened = casd_open_by_handle(mount.fd, handle)
            if opened < 0 {
                // ESTALE: the directory is gone; its removal is an event of its
                // own, in a directory that still exists. Anything else: doubt.
                return Errno.current == Errno(rawValue: ESTALE) ? nil : .unknown
            }
            defer { close(opened) }
            guard let link = try? FileOps.readSymlink(FilePath("/proc/self/fd/\(opened)")) else { return .unknown }
            if paths.count >= Self.cacheLimit { paths.removeAll(keepingCapacity: true) }
            paths[key] = link
            directory = link
        }
        var path = directory!
        if let name, name.pointee != 0, !(name[0] == 0x2e && name[1] == 0) { path = path.appending(FilePath(cString: name)) }
        switch kind {
        case Int32(CASD_CHANGE_DIR_MOVED.rawValue):
            paths.removeAll(keepingCapacity: true)
            return .directoryMoved(path)
        case Int32(CASD_CHANGE_DIR_NEW.rawValue):
            return .newDirectory(path)
        default:
            return .changed(path)
        }
    }
}

/// Reads a non-blocking notification descriptor until it is drained, handing
/// each buffer of events to `parse`. A read error other than EAGAIN means the
/// queue cannot be trusted: `.unknown`.
func readQueue(_ fd: Int32, _ parse: (UnsafePointer<UInt8>, Int, inout [FileChange]) -> Void) -> [FileChange] {
    var changes: [FileChange] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 && Errno.current == .interrupted { continue }
        if count <= 0 {
            if count < 0 && Errno.current != .wouldBlock { changes.append(.unknown) }
            return changes
        }
        buffer.withUnsafeBytes { raw in parse(raw.bindMemory(to: UInt8.self).baseAddress!, count, &changes) }
    }
}
