/// Small helpers shared by the recovery files.
enum RecoveryOps {
    /// Runs a file operation and turns its `Errno` into `ASDError.system`
    /// saying what was attempted on which path.
    @inline(__always)
    static func attempt<T>(_ operation: String, _ path: String, _ body: () throws(Errno) -> T) throws(ASDError) -> T {
        do {
            return try body()
        } catch {
            throw ASDError.system(operation: operation, path: path, errno: error)
        }
    }

    /// `${path%/*}`, "/" for a top-level name, "." for a bare name.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `${path##*/}`.
    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The directory holding `path`, opened without following anything a
    /// user could have planted on the way (`SafePath`).
    static func openParent(of path: String) throws(ASDError) -> DirectoryHandle {
        let parent = parent(of: path)
        do throws(SafePath.Failure) {
            return try SafePath.openDirectory(FilePath(parent))
        } catch {
            throw converting(error)
        }
    }

    static func converting(_ error: SafePath.Failure) -> ASDError { error.asdError }
}
