import ASDCopy
import ASDSystem
/// Reaching the directory that holds a target's disk copy, snapshot and
/// archives: it usually belongs to the target's owner (doc/DESIGN.md §7), so it is
/// opened with `SafePath`, never following what a user could have planted.
enum RecoveryOps {
    /// The directory holding `path`, opened without following anything a
    /// user could have planted on the way (`SafePath`).
    static func openParent(of path: FilePath) throws(ASDError) -> DirectoryHandle {
        do throws(SafePath.Failure) {
            return try SafePath.openDirectory(path.directory)
        } catch {
            throw error.asdError
        }
    }
}

extension SafePath.Failure {
    /// The user-facing error: the path and errno, or for an unsafe step who
    /// owns what (read as "Refusing to use PATH (owner X): it is reached from
    /// something Y owns, ...").
    var asdError: ASDError {
        switch self {
        case .system(let path, let errno):
            return .system(operation: "open", path: path, errno: errno)
        case .unsafe(let found):
            return .crossOwnerStep(
                path: found.path, owner: FileOps.userName(uid: found.toUID), fromOwner: FileOps.userName(uid: found.fromUID))
        }
    }
}
