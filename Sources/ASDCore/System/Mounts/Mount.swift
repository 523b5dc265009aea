#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// mount(2) and umount2(2), the only calls of them in asd. Every function
/// throws the raw `Errno`; `MountOperations` below converts to `ASDError`.
public enum Mount {
    /// mount(2) with MS_BIND (and MS_REC when `recursive`): makes `source`
    /// visible at `target` too. Other flags are ignored by the kernel for a
    /// new bind; see `remountBindNoatime`.
    public static func bind(source: String, target: String, recursive: Bool) throws(Errno) {
        let flags: MountFlags = recursive ? [.bind, .recursive] : [.bind]
        try call(source: source, target: target, fsType: nil, flags: flags, data: nil)
    }

    /// mount(2) with MS_PRIVATE (| MS_REC): no mount events propagate to or
    /// from `path` (and, recursively, the mounts below it).
    public static func makePrivate(_ path: String, recursive: Bool) throws(Errno) {
        let flags: MountFlags = recursive ? [.private, .recursive] : [.private]
        try call(source: "none", target: path, fsType: nil, flags: flags, data: nil)
    }

    /// mount(2) with MS_REMOUNT|MS_BIND|MS_NOATIME on the bind mount at
    /// `path`, repeating its current per-mount flags (read with statvfs(3))
    /// because the kernel replaces them all and refuses (EPERM) to clear
    /// locked ones, e.g. nosuid/nodev inherited in a user namespace.
    public static func remountBindNoatime(_ path: String) throws(Errno) {
        var info = statvfs()
        _ = try retryingEINTR { statvfs(path, &info) }
        let keep = MountFlags(statvfsFlags: info.f_flag)
        try call(source: "none", target: path, fsType: nil,
                 flags: keep.union([.remount, .bind, .noAccessTime]), data: nil)
    }

    /// mount(2) of a new tmpfs at `path`, `options` as for mount -o
    /// (e.g. "size=64m,mode=0755").
    public static func mountTmpfs(at path: String, options: String = "", flags: MountFlags = []) throws(Errno) {
        try call(source: "tmpfs", target: path, fsType: "tmpfs", flags: flags,
                 data: options.isEmpty ? nil : options)
    }

    /// mount(2) of fstype "overlay" with source "overlaid" (as upstream):
    /// `lower` read-only below, changes in `upper`, `work` on upper's
    /// filesystem. Paths are escaped for the kernel's option parser
    /// (`\` `,` `:` get a backslash); the option string must fit in a page
    /// (ENAMETOOLONG otherwise).
    public static func mountOverlay(
        lower: String, upper: String, work: String, at path: String, extraOptions: [String] = []
    ) throws(Errno) {
        let options = overlayOptions(lower: lower, upper: upper, work: work, extra: extraOptions)
        guard options.utf8.count < 4096 else { throw Errno(rawValue: ENAMETOOLONG) }
        try call(source: "overlaid", target: path, fsType: "overlay", flags: [], data: options)
    }

    /// "lowerdir=...,upperdir=...,workdir=..." plus `extra`, escaped.
    static func overlayOptions(lower: String, upper: String, work: String, extra: [String]) -> String {
        (["lowerdir=" + escapeOverlayPath(lower), "upperdir=" + escapeOverlayPath(upper),
          "workdir=" + escapeOverlayPath(work)] + extra).joined(separator: ",")
    }

    /// Backslash before `\`, `,` and `:`: overlayfs splits options on
    /// unescaped commas and lower layers on unescaped colons, then removes
    /// the escapes.
    static func escapeOverlayPath(_ path: String) -> String {
        var out = ""
        for ch in path {
            if ch == "\\" || ch == "," || ch == ":" { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// umount2(2); with `lazy`, MNT_DETACH (the mount leaves the tree at
    /// once and is cleaned up when no longer busy).
    public static func unmount(_ path: String, lazy: Bool) throws(Errno) {
        let flags: UnmountFlags = lazy ? [.detach, .noFollow] : [.noFollow]
        _ = try retryingEINTR { umount2(path, flags.rawValue) }
    }

    /// Unmounts every mount at or below `path` (by /proc/self/mountinfo),
    /// deepest first, like `umount -R`. Mounts that vanished meanwhile
    /// (EINVAL/ENOENT, e.g. taken along by a lazy unmount of a parent) are
    /// fine. Returns how many umount2(2) calls succeeded.
    @discardableResult
    public static func unmountRecursive(_ path: String, lazy: Bool) throws(Errno) -> Int {
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

    private static func depth(_ path: String) -> Int {
        path == "/" ? 0 : path.split(separator: "/").count
    }

    /// The one mount(2) call site.
    private static func call(
        source: String, target: String, fsType: String?, flags: MountFlags, data: String?
    ) throws(Errno) {
        _ = try retryingEINTR {
            if let data {
                return data.withCString { mount(source, target, fsType, flags.rawValue, $0) }
            }
            return mount(source, target, fsType, flags.rawValue, nil)
        }
    }
}

/// The mount steps the engine takes, with errors converted to `ASDError`
/// naming what was attempted.
extension Mount {
    /// Runs a syscall wrapper and turns its `Errno` into
    /// `ASDError.system(operation:path:errno:)`, read as
    /// "Could not <operation> <path>: <reason>."
    public static func attempt<T>(
        _ operation: String, _ path: String, _ body: () throws(Errno) -> T
    ) throws(ASDError) -> T {
        do {
            return try body()
        } catch {
            throw ASDError.system(operation: operation, path: path, errno: error)
        }
    }

    /// What `mount --rbind --make-private -o noatime source target` does:
    /// a recursive bind, made private recursively, then remounted noatime.
    /// noatime only spares writes: when the kernel refuses it with EPERM
    /// (the atime mode is locked, as for mounts inherited into a user
    /// namespace) the bind stays as it is and this returns false.
    @discardableResult
    public static func bindPrivateNoatime(source: String, target: String) throws(ASDError) -> Bool {
        try attempt("bind-mount \(source) onto", target) { () throws(Errno) in
            try bind(source: source, target: target, recursive: true)
        }
        try attempt("make private the mount", target) { () throws(Errno) in
            try makePrivate(target, recursive: true)
        }
        do {
            try remountBindNoatime(target)
            return true
        } catch {
            if error == .permission { return false }
            throw ASDError.system(operation: "remount with noatime", path: target, errno: error)
        }
    }

    /// `mountOverlay` with the error naming the layers.
    public static func overlay(lower: String, upper: String, work: String, at path: String) throws(ASDError) {
        try attempt("mount an overlay (lower \(lower), upper \(upper), work \(work)) at", path) { () throws(Errno) in
            try mountOverlay(lower: lower, upper: upper, work: work, at: path)
        }
    }

    /// `umount -R` (`-l` when lazy) with the error naming the path.
    @discardableResult
    public static func unmountAll(_ path: String, lazy: Bool) throws(ASDError) -> Int {
        try attempt("unmount the mounts at and below", path) { () throws(Errno) in
            try unmountRecursive(path, lazy: lazy)
        }
    }
}
