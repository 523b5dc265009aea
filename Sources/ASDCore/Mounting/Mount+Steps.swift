import ASDCopy
import ASDSystem
/// The mount steps the engine takes, with errors converted to `ASDError`
/// naming what was attempted.
extension Mount {
    /// What `mount --rbind --make-private -o noatime source target` does:
    /// a recursive bind, made private recursively, then remounted noatime.
    /// noatime only spares writes: when the kernel refuses it with EPERM
    /// (the atime mode is locked, as for mounts inherited into a user
    /// namespace) the bind stays as it is and this returns false.
    @discardableResult
    static func bindPrivateNoatime(source: FilePath, target: FilePath) throws(ASDError) -> Bool {
        try ASDError.attempt("bind-mount \(source) onto", target) { () throws(Errno) in
            try bind(source: source, target: target, recursive: true)
        }
        try ASDError.attempt("make private the mount", target) { () throws(Errno) in
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
    static func overlay(lower: FilePath, upper: FilePath, work: FilePath, at path: FilePath) throws(ASDError) {
        try ASDError.attempt("mount an overlay (lower \(lower), upper \(upper), work \(work)) at", path) { () throws(Errno) in
            try mountOverlay(lower: lower, upper: upper, work: work, at: path)
        }
    }

    /// `umount -R` (`-l` when lazy) with the error naming the path.
    @discardableResult
    static func unmountAll(_ path: FilePath, lazy: Bool) throws(ASDError) -> Int {
        try ASDError.attempt("unmount the mounts at and below", path) { () throws(Errno) in
            try unmountRecursive(path, lazy: lazy)
        }
    }
}

extension FileSystemInfo {
    /// Checks VOLATILE: `volatileMissing` when it does not exist,
    /// `volatileNotTmpfs` naming the type when it is not tmpfs/zram.
    static func requireVolatile(_ path: FilePath) throws(ASDError) -> FileSystemInfo {
        let info: FileSystemInfo
        do throws(Errno) {
            info = try of(path)
        } catch {
            if error == .noEntry || error == .notDirectory { throw ASDError.volatileMissing(path: path) }
            throw ASDError.system(operation: "examine the filesystem of", path: path, errno: error)
        }
        guard info.isVolatile else { throw ASDError.volatileNotTmpfs(path: path, fsType: info.typeName) }
        return info
    }
}
