import ASDCopy
import ASDSystem
/// Errors of a write-back, said in the paths the user sees: the staging mount
/// (`$DAEMON_FILE.stage`) is gone by the time anyone looks, and `df` on it
/// would point at the wrong file system.
extension Engine {
    /// `error` with staging paths replaced; a full, over-quota or read-only
    /// file system becomes `.diskCannotTakeWrite` naming the target, its disk
    /// copy and the mount point of the file system to fix.
    func explain(_ error: ASDError, writingBack paths: TargetPaths, stagePoint: FilePath, staged: Bool) -> ASDError {
        // The rsync engine reports the same conditions in rsync's own words.
        if case .command(_, _, let stderr) = error,
           let errno = Self.diskErrno(
               inCommandError: stderr, availableBytes: (try? FileSystemInfo.of(paths.diskCopy))?.availableBytes) {
            return .diskCannotTakeWrite(target: paths.target, diskCopy: paths.diskCopy,
                                        mountPoint: diskMountPoint(paths, staged: staged), path: paths.diskCopy, errno: errno)
        }
        guard case .system(let operation, let path, let errno) = error else { return error }
        let shown = visiblePath(path, paths: paths, stagePoint: stagePoint)
        if errno == .noSpace || errno == .quotaExceeded || errno == .readOnlyFileSystem {
            return .diskCannotTakeWrite(target: paths.target, diskCopy: paths.diskCopy,
                                        mountPoint: diskMountPoint(paths, staged: staged), path: shown, errno: errno)
        }
        return .system(operation: operation, path: shown, errno: errno)
    }

    /// `path` under the staging mount (a bind of the target's parent), as reached
    /// without it: the target's own files through its disk copy, anything else
    /// (the temp directory) beside the target.
    func visiblePath(_ path: FilePath, paths: TargetPaths, stagePoint: FilePath) -> FilePath {
        guard path.isWithin(stagePoint) else { return path }
        let rest = FilePath(path.bytes.dropFirst(stagePoint.bytes.count))
        let base = FilePath("/").appending(paths.target.lastComponent)
        if rest.isWithin(base) { return FilePath(paths.diskCopy.bytes + rest.bytes.dropFirst(base.bytes.count)) }
        return FilePath(paths.parent.bytes + rest.bytes)
    }

    /// The mount point of the file system that holds the target's files on disk:
    /// the parent's, or the user's own mount at the target when it is a mount point.
    func diskMountPoint(_ paths: TargetPaths, staged: Bool) -> FilePath {
        guard let table = try? MountInfo.current() else { return paths.parentDirectory }
        if !staged {
            let ours = Set(ourMounts(at: paths, in: table).map(\.mountID))
            if MountInfo.mounts(at: paths.target, in: table).contains(where: { !ours.contains($0.mountID) }) {
                return paths.target
            }
        }
        let parent = resolvedPath(paths.parentDirectory) ?? paths.parentDirectory
        return MountInfo.mount(containing: parent, in: table)?.mountPoint ?? parent
    }

    /// The file-system condition a failed command (rsync) names in its stderr,
    /// as strerror(3) words it: full, over quota or read-only.
    /// When rsync's receiver dies of a full disk, its sender may be the one to
    /// report, with only "Broken pipe" or "connection unexpectedly closed": then a
    /// disk copy with (almost) no space left is taken as the cause.
    static func diskErrno(inCommandError stderr: String, availableBytes: UInt64? = nil) -> Errno? {
        for errno in [Errno.noSpace, .quotaExceeded, .readOnlyFileSystem] where stderr.contains(errno.description) {
            return errno
        }
        let receiverGone = stderr.contains(Errno.brokenPipe.description) || stderr.contains("connection unexpectedly closed")
        if receiverGone, let availableBytes, availableBytes < 64 * 1024 { return .noSpace }
        return nil
    }
}
