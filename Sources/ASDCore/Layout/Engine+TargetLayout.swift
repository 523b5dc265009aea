import ASDCopy
import ASDSystem
/// Checks on where a target lies, before anything is mounted (doc/DESIGN.md §4).
/// parse and sync both run them through `checkTargets`.
///
/// Mounts inside a target are refused up front rather than left alone: leaving
/// them alone would need the tmpfs copy to carry a bind of each nested mount,
/// the copiers and the snapshot to stop at it, and the write-back to never pass
/// the directory beneath it, in both modes and after crashes; a refusal that
/// names the mount loses nothing and is simple to make airtight.
extension Engine {
    /// Refuses a target that is a symlink, whose path goes through a symlink,
    /// or (unless it is running) that has a file system mounted inside it.
    func checkLayout(_ paths: TargetPaths, in table: [MountEntry]) throws(ASDError) {
        try checkNoSymlinks(paths.target)
        if ourMounts(at: paths, in: table).isEmpty, let inner = mountInside(paths.target, in: table) {
            throw .mountInsideTarget(target: paths.target, mountPoint: inner.mountPoint, fsType: inner.fsType, file: settings.sourceFile)
        }
    }

    /// Every directory from / to the target, and the target itself, must not be
    /// a symlink. A missing component ends the walk (the target may be missing).
    func checkNoSymlinks(_ target: FilePath) throws(ASDError) {
        var prefix: FilePath = "/"
        for component in target.components {
            prefix = prefix.appending(component)
            guard let status = try? FileOps.status(prefix) else { return }
            guard status.isSymlink else { continue }
            let destination = (try? FileOps.readSymlink(prefix)) ?? "?"
            if prefix == target {
                let real = resolvedPath(target).flatMap { $0 == destination ? nil : " (\($0))" } ?? ""
                throw .targetIsSymlink(path: target, destination: destination.suffixed(real), file: settings.sourceFile)
            }
            throw .symlinkInTargetPath(target: target, link: prefix, destination: destination,
                                       resolved: resolvedPath(target), file: settings.sourceFile)
        }
    }

    /// The first mount strictly inside `target` (by path), if any.
    func mountInside(_ target: FilePath, in table: [MountEntry]) -> MountEntry? {
        table.first { $0.mountPoint != target && $0.mountPoint.isWithin(target) }
    }
}
