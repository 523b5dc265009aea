#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// mount(2) and umount2(2), the only calls of them in asd. Every function
/// throws the raw `Errno`; Sync/MountSteps.swift converts to `ASDError`.
public enum Mount {
    /// mount(2) with MS_BIND (and MS_REC when `recursive`): makes `source`
    /// visible at `target` too. Other flags are ignored by the kernel for a
    /// new bind; see `remountBindNoatime`.
    public static func bind(source: FilePath, target: FilePath, recursive: Bool) throws(Errno) {
        let flags: MountFlags = recursive ? [.bind, .recursive] : [.bind]
        try call(source: source, target: target, fsType: nil, flags: flags, data: nil)
    }

    /// mount(2) with MS_PRIVATE (| MS_REC): no mount events propagate to or
    /// from `path` (and, recursively, the mounts below it).
    public static func makePrivate(_ path: FilePath, recursive: Bool) throws(Errno) {
        let flags: MountFlags = recursive ? [.private, .recursive] : [.private]
        try call(source: "none", target: path, fsType: nil, flags: flags, data: nil)
    }

    /// mount(2) with MS_REMOUNT|MS_BIND|MS_NOATIME on the bind mount at
    /// `path`, repeating its current per-mount flags (read with statvfs(3))
    /// because the kernel replaces them all and refuses (EPERM) to clear
    /// locked ones, e.g. nosuid/nodev inherited in a user namespace.
    public static func remountBindNoatime(_ path: FilePath) throws(Errno) {
        try remountBind(path, adding: [.noAccessTime])
    }

    /// As `remountBindNoatime`, with MS_RDONLY too: nothing can be written
    /// through the bind mount at `path` (the source stays writable elsewhere).
    public static func remountBindReadOnly(_ path: FilePath) throws(Errno) {
        try remountBind(path, adding: [.readOnly, .noAccessTime])
    }

    private static func remountBind(_ path: FilePath, adding flags: MountFlags) throws(Errno) {
        var info = statvfs()
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { statvfs(c, &info) } }
        let keep = MountFlags(statvfsFlags: info.f_flag)
        try call(source: "none", target: path, fsType: nil, flags: keep.union(flags).union([.remount, .bind]), data: nil)
    }

    /// mount(2) of a new tmpfs at `path`, `options` as for mount -o
    /// (e.g. "size=64m,mode=0755"). mount(2) follows symlinks in `path`: give
    /// only a path in root's own tree. (The engine mounts no tmpfs itself:
    /// VOLATILE is the administrator's.)
    static func mountTmpfs(at path: FilePath, options: String = "", flags: MountFlags = []) throws(Errno) {
        try call(source: "tmpfs", target: path, fsType: "tmpfs", flags: flags,
                 data: options.isEmpty ? nil : FilePath(options))
    }

    /// mount(2) of fstype "overlay" with source "overlaid" (as upstream):
    /// `lower` read-only below, changes in `upper`, `work` on upper's
    /// filesystem. Paths are escaped for the kernel's option parser
    /// (`\` `,` `:` get a backslash); the option string must fit in a page
    /// (ENAMETOOLONG otherwise). mount(2) resolves every layer and `path`,
    /// following symlinks: the engine gives only paths in asd's root-only
    /// directories under VOLATILE (the lower one a bind of the snapshot made
    /// by descriptor; see Sync/OverlayLower.swift).
    public static func mountOverlay(
        lower: FilePath, upper: FilePath, work: FilePath, at path: FilePath, extraOptions: [String] = []
    ) throws(Errno) {
        let options = overlayOptions(lower: lower, upper: upper, work: work, extra: extraOptions)
        guard options.bytes.count < 4096 else { throw Errno(rawValue: ENAMETOOLONG) }
        try call(source: "overlaid", target: path, fsType: "overlay", flags: [], data: options)
    }

    /// "lowerdir=...,upperdir=...,workdir=..." plus `extra`, escaped.
    static func overlayOptions(lower: FilePath, upper: FilePath, work: FilePath, extra: [String]) -> FilePath {
        var options: FilePath = "lowerdir=\(escapeOverlayPath(lower)),upperdir=\(escapeOverlayPath(upper))"
        options = options + ",workdir=" + escapeOverlayPath(work)
        for option in extra { options = options + "," + option }
        return options
    }

    /// Backslash before `\`, `,` and `:`: overlayfs splits options on
    /// unescaped commas and lower layers on unescaped colons, then removes
    /// the escapes.
    static func escapeOverlayPath(_ path: FilePath) -> FilePath {
        var out: [UInt8] = []
        for byte in path.bytes {
            if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":") {
                out.append(UInt8(ascii: "\\"))
            }
            out.append(byte)
        }
        return FilePath(bytes: out)
    }

    /// umount2(2); with `lazy`, MNT_DETACH (the mount leaves the tree at
    /// once and is cleaned up when no longer busy).
    public static func unmount(_ path: FilePath, lazy: Bool) throws(Errno) {
        let flags: UnmountFlags = lazy ? [.detach, .noFollow] : [.noFollow]
        _ = try path.withCString { (c) throws(Errno) in try retryingEINTR { umount2(c, flags.rawValue) } }
    }

    /// Unmounts every mount at or below `path` (by /proc/self/mountinfo),
    /// deepest first, like `umount -R`. Mounts that vanished meanwhile
    /// (EINVAL/ENOENT, e.g. taken along by a lazy unmount of a parent) are
    /// fine. Returns how many umount2(2) calls succeeded.
    @discardableResult
    public static func unmountRecursive(_ path: FilePath, lazy: Bool) throws(Errno) -> Int {
        guard let real = resolvedMountPoint(path) else { return 0 }
        let entries = MountInfo.mounts(under: real, in: try MountInfo.current())
        // Deepest path first; among mounts stacked on one point, the later
        // (upper) one first. Each umount2 removes the topmost at that path.
        let ordered = entries.enumerated().sorted { a, b in
            let da = depth(a.element.mountPoint), db = depth(b.element.mountPoint)
            return da != db ? da > db : a.offset > b.offset
        }
        var done = 0
        for (_, entry) in ordered {
            do {
                try unmount(entry.mountPoint, lazy: lazy)
                done += 1
            } catch {
                if error == .invalid || error == .noEntry { continue }
                throw error
            }
        }
        return done
    }

    private static func depth(_ path: FilePath) -> Int {
        path.components.count
    }

    /// The one mount(2) call site.
    private static func call(
        source: FilePath, target: FilePath, fsType: String?, flags: MountFlags, data: FilePath?
    ) throws(Errno) {
        let source = source.cString, target = target.cString, data = data?.cString
        _ = try retryingEINTR {
            if let data {
                return data.withUnsafeBufferPointer { mount(source, target, fsType, flags.rawValue, $0.baseAddress) }
            }
            return mount(source, target, fsType, flags.rawValue, nil)
        }
    }
}
