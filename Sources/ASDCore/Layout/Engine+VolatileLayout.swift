import ASDCopy
import ASDSystem
/// asd's directories under VOLATILE (`<instance>-USER/abs/path`, the overlay's
/// `-rw` and `.<instance>-USER/...`), made by `VolatileDirectory`: nothing there
/// is followed, and whatever someone else planted is refused by name.
extension Engine {
    /// Creates the tmpfs-side directory `path` (below VOLATILE) with the owner
    /// and mode of `model`, every directory above it root-only; journals what it
    /// made (parents as directories, the leaf as a tree).
    func makeVolatileDirectory(_ path: FilePath, like model: FileStatus, journal: inout UndoJournal) throws(ASDError) {
        let base = settings.volatile
        let full = path
        guard full.isWithin(base), full != base else {
            throw .unexpectedState(path: path, detail: "it is not below VOLATILE=\(settings.volatile)")
        }
        let components = FilePath(full.bytes.dropFirst(base.bytes.count)).components
        guard let leaf = components.last else {
            throw .unexpectedState(path: path, detail: "it is not below VOLATILE=\(settings.volatile)")
        }
        let made: (createdParents: [FilePath], createdLeaf: Bool)
        do throws(VolatileDirectoryError) {
            made = try VolatileDirectory.make(
                in: base, parents: Array(components.dropLast()), leaf: leaf,
                mode: model.permissions, uid: model.uid, gid: model.gid)
        } catch {
            throw Self.converting(error)
        }
        for parent in made.createdParents { journal.record(.removeDirectory(parent)) }
        if made.createdLeaf { journal.record(.removeTree(path)) }
    }

    /// mkdirat(2) of `path` in its parent (reached with `SafePath`: the
    /// target's parent is often the target owner's), opened O_NOFOLLOW, owner
    /// and mode set through the descriptor: a symlink swapped in meanwhile is
    /// never chowned or chmodded.
    func makeDirectoryBeside(_ path: FilePath, like model: FileStatus) throws(ASDError) {
        let parent = try RecoveryOps.openParent(of: path)
        let name = path.lastComponent
        do throws(Errno) {
            try parent.makeDirectory(name, mode: 0o700)
            let made = try parent.openDirectory(name)
            try made.setOwnerAndMode(uid: model.uid, gid: model.gid, permissions: model.permissions)
        } catch {
            throw .system(operation: "create the directory", path: path, errno: error)
        }
    }

    static func converting(_ error: VolatileDirectoryError) -> ASDError {
        switch error {
        case .system(let operation, let path, let errno):
            return .system(operation: operation, path: path, errno: errno)
        case .unsafe(let found):
            return .unsafePath(path: found.path, owner: FileOps.userName(uid: found.uid),
                               problem: describe(found.problem, permissions: found.permissions))
        }
    }

    static func describe(_ problem: UnsafeDirectory.Problem, permissions: UInt32) -> String {
        let mode = String(permissions, radix: 8)
        switch problem {
        case .symlink: return "is a symbolic link, not a directory"
        case .notDirectory: return "is not a directory"
        case .notOwnedByRoot: return "is a directory asd did not make: it is not owned by root"
        case .writableByOthers: return "is writable by users other than root (mode \(String(repeating: "0", count: max(0, 4 - mode.count)) + mode))"
        }
    }
}
