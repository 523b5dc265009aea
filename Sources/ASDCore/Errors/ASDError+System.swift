import ASDSystem

/// The boundary between ASDSystem and the rest: every failure of the layer
/// below (an `Errno`, a refused walk, an unsafe directory, a lock) becomes the
/// user-facing `ASDError` here, once, with the path and what was attempted
/// (doc/DESIGN.md §1). The copier's and the subprocess runner's failures
/// convert in ASDError+Copy.swift and ASDError+Subprocess.swift.
extension ASDError {
    /// The one conversion of a system call's `Errno` into the user-facing
    /// error: runs `body` and, when it throws, reports "Could not
    /// <operation> <path>: <reason>."
    static func attempt<T>(
        _ operation: String, _ path: FilePath, _ body: () throws(Errno) -> T
    ) throws(ASDError) -> T {
        do throws(Errno) {
            return try body()
        } catch {
            throw ASDError.system(operation: operation, path: path, errno: error)
        }
    }

    /// A refused or failed `SafePath` walk: the path and errno, or for an
    /// unsafe step who owns what (read as "Refusing to use PATH (owner X): it
    /// is reached from something Y owns, ...").
    init(_ failure: SafePath.Failure) {
        switch failure {
        case .system(let path, let errno):
            self = .system(operation: "open", path: path, errno: errno)
        case .unsafe(let found):
            self = .crossOwnerStep(
                path: found.path, owner: FileOps.userName(uid: found.toUID), fromOwner: FileOps.userName(uid: found.fromUID))
        }
    }

    /// Something under VOLATILE that asd did not make, or a failure making it.
    init(_ failure: VolatileDirectoryError) {
        switch failure {
        case .system(let operation, let path, let errno):
            self = .system(operation: operation, path: path, errno: errno)
        case .unsafe(let found):
            self = .unsafePath(path: found.path, owner: FileOps.userName(uid: found.uid),
                               problem: Self.describe(found.problem, permissions: found.permissions))
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

    /// The user-facing error for a lock that could not be had.
    init(_ failure: FileLock.Failure, lock path: FilePath) {
        switch failure {
        case .open(let errno): self = .system(operation: "open the lock file", path: path, errno: errno)
        case .lock(let errno): self = .system(operation: "lock", path: path, errno: errno)
        case .interrupted(let signal): self = .interrupted(signal: Signals.name(signal), during: "the wait for the lock \(path)")
        }
    }
}
