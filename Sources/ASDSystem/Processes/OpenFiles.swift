#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Which processes use files below some directories, from /proc: open
/// descriptors (`fd`), mapped files (`maps`) and the working directory
/// (doc/DESIGN.md, "Consistent write-back"). Paths are as the process sees
/// them, so the caller passes every name the tree has (target, tmpfs copy).
public enum OpenFiles {
    /// Pids (thread-group leaders) with something open below one of `roots`,
    /// except `excluded` and those `ProcessFreezer` must never stop.
    public static func users(of roots: [FilePath], excluding excluded: Set<Int32>) -> [Int32] {
        let prefixes = roots.map { $0.trimmingTrailingSlashes }
        func inside(_ path: FilePath) -> Bool {
            prefixes.contains { path == $0 || path.bytes.starts(with: ($0 + "/").bytes) }
        }
        var result: [Int32] = []
        for pid in allPids() where !excluded.contains(pid) {
            let base: FilePath = "/proc/\(pid)"
            if let cwd = try? FileOps.readLink(directoryFD: AT_FDCWD, name: base + "/cwd"), inside(cwd) {
                result.append(pid)
                continue
            }
            if uses(base + "/fd", inside) || maps(base + "/maps", inside) { result.append(pid) }
        }
        return result
    }

    /// Every numeric entry of /proc.
    static func allPids() -> [Int32] {
        guard let proc = try? DirectoryHandle(path: "/proc"), let names = try? proc.entries() else { return [] }
        return names.compactMap { Int32(String(decoding: $0.bytes, as: UTF8.self)) }
    }

    /// Threads of `pid` (/proc/PID/task).
    public static func threads(of pid: Int32) -> [Int32] {
        guard let task = try? DirectoryHandle(path: "/proc/\(pid)/task"), let names = try? task.entries() else {
            return []
        }
        return names.compactMap { Int32(String(decoding: $0.bytes, as: UTF8.self)) }
    }

    private static func uses(_ directory: FilePath, _ inside: (FilePath) -> Bool) -> Bool {
        guard let handle = try? DirectoryHandle(path: directory), let names = try? handle.entries() else { return false }
        for name in names {
            if let path = try? FileOps.readLink(directoryFD: handle.fd, name: name), inside(path) { return true }
        }
        return false
    }

    /// Mapped files, from /proc/PID/maps: one read instead of a readlink(2) per
    /// mapping in map_files. A line's path is all from its first '/' (the fields
    /// before it have none); " (deleted)" after it does not matter for a prefix.
    private static func maps(_ file: FilePath, _ inside: (FilePath) -> Bool) -> Bool {
        guard let bytes = try? readFile(file) else { return false }
        return bytes.split(separator: UInt8(ascii: "\n")).contains { line in
            guard let slash = line.firstIndex(of: UInt8(ascii: "/")) else { return false }
            return inside(FilePath(bytes: Array(line[slash...])))
        }
    }

    /// asd itself, its ancestors, pid 1 and kernel threads' parent (2):
    /// stopping any of them could stop asd (doc/DESIGN.md, "Consistent write-back").
    public static func protectedPids() -> Set<Int32> {
        var result: Set<Int32> = [0, 1, 2]
        var pid = getpid()
        while pid > 1, result.insert(pid).inserted {
            guard let parent = status(of: pid)["PPid"].flatMap({ Int32($0) }) else { break }
            pid = parent
        }
        return result
    }

    /// /proc/PID/status as name → value (trimmed).
    public static func status(of pid: Int32) -> [String: String] {
        guard let bytes = try? readFile("/proc/\(pid)/status") else { return [:] }
        var result: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
        }
        return result
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
