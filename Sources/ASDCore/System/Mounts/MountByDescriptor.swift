/// Bind mounts whose ends lie in directories users own (a target and its disk
/// copy in /home/alice): mount(2) follows symlinks in both paths, so a symlink
/// swapped in at the right moment would put a tmpfs copy over /etc. Here both
/// ends are opened first (`SafePath` to the parent, then O_NOFOLLOW|O_DIRECTORY)
/// and mount(2) is given `/proc/self/fd/N`, which the kernel resolves to
/// exactly that directory, whatever the names say by then.
extension Mount {
    /// `bindPrivateNoatime` by descriptor: a recursive bind of `source` onto
    /// `target`, made private recursively and remounted noatime (false when the
    /// kernel refuses noatime with EPERM, as `bindPrivateNoatime`).
    @discardableResult
    public static func bindPrivateNoatimeByDescriptor(source: String, target: String) throws(ASDError) -> Bool {
        let from = try open(source)
        let (parentPath, name) = splitPath(target)
        let parent = try open(parentPath)
        let onto = try attempt("open the mount point", target) { () throws(Errno) in try parent.openDirectory(name) }
        try attempt("bind-mount \(source) onto", target) { () throws(Errno) in
            try bind(source: procPath(from), target: procPath(onto), recursive: true)
        }
        // The descriptor taken before still shows the directory below the new
        // mount; opening the name again enters the mount (a mount point cannot be
        // renamed away meanwhile: EBUSY).
        let mounted = try attempt("open the new mount at", target) { () throws(Errno) -> DirectoryHandle in
            let handle = try parent.openDirectory(name)
            guard try parent.isMountRoot(name) else { throw Errno.invalid }
            return handle
        }
        try attempt("make private the mount", target) { () throws(Errno) in
            try makePrivate(procPath(mounted), recursive: true)
        }
        do {
            try remountBindNoatime(procPath(mounted))
            return true
        } catch {
            if error == .permission { return false }
            throw ASDError.system(operation: "remount with noatime", path: target, errno: error)
        }
    }

    /// ("/a/b", "c") for "/a/b/c"; ("/", "c") for "/c".
    private static func splitPath(_ path: String) -> (String, String) {
        let (parent, base) = FilePath(path).split
        let text = { (path: FilePath) in String(decoding: path.bytes, as: UTF8.self) }
        return (parent.isEmpty ? "/" : text(parent), text(base))
    }

    private static func procPath(_ handle: DirectoryHandle) -> String { "/proc/self/fd/\(handle.fd)" }

    private static func open(_ path: String) throws(ASDError) -> DirectoryHandle {
        do throws(SafePath.Failure) {
            return path == "/" ? try SafePath.openDirectory("/") : try DirectoryHandle.safelyOpening(FilePath(path))
        } catch {
            throw error.asdError
        }
    }
}

/// `resolvedPath` for a path asd means to unmount or to ask "is this a mount
/// point": nil when its last component is a symlink. A mount point is never a
/// symlink that asd made, so one found there was planted (a target's owner can
/// replace the target by a link to `/` while it is not mounted) and must not
/// lead asd to unmount whatever it points at.
func resolvedMountPoint(_ path: String) -> String? {
    if let status = try? FileOps.status(path), status.isSymlink { return nil }
    return resolvedPath(path)
}
