import ASDCopy
import ASDSystem
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
    static func bindPrivateNoatimeByDescriptor(source: FilePath, target: FilePath) throws(ASDError) -> Bool {
        let from = try open(source)
        let parent = try open(target.directory)
        let name = target.lastComponent
        let onto = try ASDError.attempt("open the mount point", target) { () throws(Errno) in try parent.openDirectory(name) }
        try ASDError.attempt("bind-mount \(source) onto", target) { () throws(Errno) in
            try bind(source: procPath(from), target: procPath(onto), recursive: true)
        }
        // The descriptor taken before still shows the directory below the new
        // mount; opening the name again enters the mount (a mount point cannot be
        // renamed away meanwhile: EBUSY).
        let mounted = try ASDError.attempt("open the new mount at", target) { () throws(Errno) -> DirectoryHandle in
            let handle = try parent.openDirectory(name)
            guard try parent.isMountRoot(name) else { throw Errno.invalid }
            return handle
        }
        try ASDError.attempt("make private the mount", target) { () throws(Errno) in
            try makePrivate(procPath(mounted), recursive: true)
        }
        do throws(Errno) {
            try remountBindNoatime(procPath(mounted))
            return true
        } catch {
            if error == .permission { return false }
            throw ASDError.system(operation: "remount with noatime", path: target, errno: error)
        }
    }

    /// A private, non-recursive bind of the directory open as `source` (its
    /// path `sourcePath` is only for messages) onto `mountPoint`, a directory
    /// in root's own tree (asd's root-only directories under VOLATILE, or next
    /// to the daemon file in /run): nobody else can put anything in its place,
    /// so it is named by path. No mount inside `source` is carried along.
    static func bindPrivate(_ source: DirectoryHandle, sourcePath: FilePath, onto mountPoint: FilePath) throws(ASDError) {
        try ASDError.attempt("bind-mount \(sourcePath) onto", mountPoint) { () throws(Errno) in
            try bind(source: procPath(source), target: mountPoint, recursive: false)
        }
        try ASDError.attempt("make private the mount", mountPoint) { () throws(Errno) in
            try makePrivate(mountPoint, recursive: false)
        }
    }

    private static func procPath(_ handle: DirectoryHandle) -> FilePath { "/proc/self/fd/\(handle.fd)" }

    private static func open(_ path: FilePath) throws(ASDError) -> DirectoryHandle {
        do throws(SafePath.Failure) {
            return path == "/" ? try SafePath.openDirectory("/") : try DirectoryHandle.safelyOpening(path)
        } catch {
            throw error.asdError
        }
    }
}
