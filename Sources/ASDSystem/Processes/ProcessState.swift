#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The process environment as a dictionary (from environ(7)).
public enum ProcessEnvironment {
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Facts about the running process.
public enum ProcessIdentity {
    /// geteuid(2) == 0.
    public static var isRoot: Bool { geteuid() == 0 }
    /// getpid(2).
    public static var pid: Int32 { getpid() }
    /// sysconf(_SC_NPROCESSORS_ONLN): CPUs online, at least 1.
    public static var onlineCPUs: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// realpath(3) semantics of GNU `realpath` (default -E): every component
/// but the last must exist. Returns nil when that fails.
public func resolvedPath(_ path: FilePath) -> FilePath? {
    if let full = path.withCString({ realpath($0, nil) }) {
        defer { free(full) }
        return FilePath(cString: full)
    }
    // Last component may be missing: resolve the parent and append it.
    let trimmed = path.trimmingTrailingSlashes
    guard trimmed.bytes.contains(FilePath.slash) else {
        guard let cwd = getcwd(nil, 0) else { return nil }
        defer { free(cwd) }
        return FilePath(cString: cwd).appending(trimmed)
    }
    guard let full = trimmed.directory.withCString({ realpath($0, nil) }) else { return nil }
    defer { free(full) }
    return FilePath(cString: full).appending(trimmed.lastComponent)
}
