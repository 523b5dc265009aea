#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// One line of /proc/self/mountinfo (proc_pid_mountinfo(5)).
public struct MountEntry: Equatable, Sendable {
    public var mountID: Int
    var parentID: Int
    /// st_dev of files on this mount, "major:minor".
    public var device: String
    /// The directory of the filesystem that is mounted here ("/" for a
    /// whole filesystem, a subdirectory for a bind mount).
    public var root: FilePath
    public var mountPoint: FilePath
    /// Per-mount options, e.g. ["rw", "noatime"].
    var mountOptions: [String]
    /// Optional fields such as "shared:1" or "master:2".
    var optionalFields: [String]
    public var fsType: String
    public var source: String
    /// Per-superblock options, e.g. ["rw", "lowerdir=/a", "upperdir=/b"]
    /// (bytes: layer paths may not be UTF-8).
    var superOptions: [FilePath]

    /// The value of `key=value` among the super options (e.g. "lowerdir").
    public func superOption(_ key: String) -> FilePath? {
        let prefix = FilePath(key + "=")
        return superOptions.lazy.compactMap { $0.droppingPrefix(prefix) }.first
    }

    /// True when propagation is private (no shared:/master: field).
    var isPrivate: Bool {
        !optionalFields.contains { $0.hasPrefix("shared:") || $0.hasPrefix("master:") }
    }
}

/// Reads and queries the mount table of this process's mount namespace.
public enum MountInfo {
    /// Parses /proc/self/mountinfo.
    public static func current() throws(Errno) -> [MountEntry] {
        parse(bytes: try readFile("/proc/self/mountinfo"))
    }

    /// Parses mountinfo text. Lines that do not have the documented shape
    /// are skipped (the kernel never writes such lines).
    public static func parse(_ text: String) -> [MountEntry] { parse(bytes: Array(text.utf8)) }

    /// Parses mountinfo as the kernel wrote it: paths keep their bytes.
    public static func parse(bytes: [UInt8]) -> [MountEntry] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { parseLine($0) }
    }

    /// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    static func parseLine(_ line: ArraySlice<UInt8>) -> MountEntry? {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        let text = { (index: Int) in String(decoding: fields[index], as: UTF8.self) }
        guard let dash = fields.firstIndex(where: { $0.elementsEqual([UInt8(ascii: "-")]) }), dash >= 6,
              fields.count >= dash + 3, let mountID = Int(text(0)), let parentID = Int(text(1))
        else { return nil }
        return MountEntry(
            mountID: mountID,
            parentID: parentID,
            device: text(2),
            root: unescape(fields[3]),
            mountPoint: unescape(fields[4]),
            mountOptions: options(fields[5]).map { String(decoding: $0.bytes, as: UTF8.self) },
            optionalFields: (6..<dash).map(text),
            fsType: String(decoding: unescape(fields[dash + 1]).bytes, as: UTF8.self),
            source: String(decoding: unescape(fields[dash + 2]).bytes, as: UTF8.self),
            superOptions: fields.count > dash + 3 ? options(fields[dash + 3]) : []
        )
    }

    /// Splits an option list on ',' and unescapes each item (the kernel
    /// escapes ',' inside values as \054, so splitting first is right).
    public static func options(_ field: ArraySlice<UInt8>) -> [FilePath] {
        field.split(separator: UInt8(ascii: ",")).map { unescape($0) }
    }

    /// Undoes the kernel's octal escapes (\040 space, \011 tab, \012
    /// newline, \134 backslash, and any other \NNN) on raw bytes.
    public static func unescape(_ field: ArraySlice<UInt8>) -> FilePath {
        let bytes = Array(field)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 3 < bytes.count,
               let value = octal(bytes[index + 1], bytes[index + 2], bytes[index + 3]) {
                out.append(value)
                index += 4
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return FilePath(bytes: out)
    }

    private static func octal(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8? {
        let digits = [a, b, c].map { Int($0) - Int(UInt8(ascii: "0")) }
        guard digits.allSatisfy({ (0...7).contains($0) }) else { return nil }
        let value = digits[0] * 64 + digits[1] * 8 + digits[2]
        return value <= 255 ? UInt8(value) : nil
    }

    /// True when `path` (resolved with realpath(3)) is a mount point in this
    /// namespace. Correct for bind mounts within one filesystem, where
    /// comparing st_dev of the path and its parent would say "no".
    public static func isMountPoint(_ path: FilePath, in entries: [MountEntry]? = nil) -> Bool {
        guard let real = resolvedMountPoint(path),
              let table = entries ?? (try? current())
        else { return false }
        return table.contains { $0.mountPoint == real }
    }

    /// Every mount at or below `path` (string prefix on whole components),
    /// in mountinfo order (parents before children).
    public static func mounts(under path: FilePath, in entries: [MountEntry]) -> [MountEntry] {
        entries.filter { isSameOrBelow($0.mountPoint, path) }
    }

    /// Every mount at or below `path` (resolved with realpath(3)).
    public static func mounts(under path: FilePath) throws(Errno) -> [MountEntry] {
        let real = resolvedPath(path) ?? path
        return mounts(under: real, in: try current())
    }

    /// The mount that holds `path`: the deepest mount point that is `path`
    /// or one of its ancestors; of mounts stacked on one point, the last
    /// (the visible one).
    public static func mount(containing path: FilePath, in entries: [MountEntry]) -> MountEntry? {
        var best: MountEntry? = nil
        for entry in entries where isSameOrBelow(path, entry.mountPoint) {
            if let current = best, current.mountPoint.bytes.count > entry.mountPoint.bytes.count { continue }
            best = entry
        }
        return best
    }

    /// `path == base` or `path` lies inside `base`, by whole components.
    static func isSameOrBelow(_ path: FilePath, _ base: FilePath) -> Bool {
        if base == "/" { return path.isAbsolute }
        return path.isWithin(base)
    }

    /// A proc file as text (read until EOF: proc files report size 0).
    static func readProcFile(_ path: FilePath) throws(Errno) -> String {
        try readTextFile(path)
    }
}

extension MountInfo {
    /// The lower directory of the overlay mounted at `path`, or nil when
    /// `path` is not an overlay mount point (with several lower dirs, the first).
    public static func overlayLowerDir(at path: FilePath) -> FilePath? {
        guard let real = resolvedPath(path), let table = try? current() else { return nil }
        guard let entry = table.last(where: { $0.mountPoint == real }), entry.fsType == "overlay",
              let lower = entry.superOption("lowerdir") else { return nil }
        return unescapeOverlayPath(firstLayer(of: lower))
    }

    /// The bytes before the first unescaped ':'.
    public static func firstLayer(of lowers: FilePath) -> FilePath {
        var result: [UInt8] = []
        var escaped = false
        for byte in lowers.bytes {
            if escaped { result += [UInt8(ascii: "\\"), byte]; escaped = false; continue }
            if byte == UInt8(ascii: "\\") { escaped = true; continue }
            if byte == UInt8(ascii: ":") { break }
            result.append(byte)
        }
        return FilePath(bytes: result)
    }

    /// Undoes the backslash escapes of `,` `:` `\` in overlay layer paths.
    public static func unescapeOverlayPath(_ text: FilePath) -> FilePath {
        var result: [UInt8] = []
        var escaped = false
        for byte in text.bytes {
            if escaped { result.append(byte); escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else { result.append(byte) }
        }
        return FilePath(bytes: result)
    }
}
