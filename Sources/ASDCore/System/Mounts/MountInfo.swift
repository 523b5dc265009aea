#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// One line of /proc/self/mountinfo (proc_pid_mountinfo(5)).
public struct MountEntry: Equatable, Sendable {
    public var mountID: Int
    public var parentID: Int
    /// st_dev of files on this mount, "major:minor".
    public var device: String
    /// The directory of the filesystem that is mounted here ("/" for a
    /// whole filesystem, a subdirectory for a bind mount).
    public var root: String
    public var mountPoint: String
    /// Per-mount options, e.g. ["rw", "noatime"].
    public var mountOptions: [String]
    /// Optional fields such as "shared:1" or "master:2".
    public var optionalFields: [String]
    public var fsType: String
    public var source: String
    /// Per-superblock options, e.g. ["rw", "lowerdir=/a", "upperdir=/b"].
    public var superOptions: [String]

    /// The value of `key=value` among the super options (e.g. "lowerdir").
    public func superOption(_ key: String) -> String? {
        let prefix = key + "="
        return superOptions.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// True when propagation is private (no shared:/master: field).
    public var isPrivate: Bool {
        !optionalFields.contains { $0.hasPrefix("shared:") || $0.hasPrefix("master:") }
    }
}

/// Reads and queries the mount table of this process's mount namespace.
public enum MountInfo {
    /// Parses /proc/self/mountinfo.
    public static func current() throws(Errno) -> [MountEntry] {
        parse(try readProcFile("/proc/self/mountinfo"))
    }

    /// Parses mountinfo text. Lines that do not have the documented shape
    /// are skipped (the kernel never writes such lines).
    public static func parse(_ text: String) -> [MountEntry] {
        text.split(separator: "\n").compactMap { parseLine(Substring($0)) }
    }

    /// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    static func parseLine(_ line: Substring) -> MountEntry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 3,
              let mountID = Int(fields[0]), let parentID = Int(fields[1])
        else { return nil }
        return MountEntry(
            mountID: mountID,
            parentID: parentID,
            device: String(fields[2]),
            root: unescape(fields[3]),
            mountPoint: unescape(fields[4]),
            mountOptions: options(fields[5]),
            optionalFields: fields[6..<dash].map(String.init),
            fsType: unescape(fields[dash + 1]),
            source: unescape(fields[dash + 2]),
            superOptions: fields.count > dash + 3 ? options(fields[dash + 3]) : []
        )
    }

    /// Splits an option list on ',' and unescapes each item (the kernel
    /// escapes ',' inside values as \054, so splitting first is right).
    static func options(_ field: Substring) -> [String] {
        field.split(separator: ",").map { unescape($0) }
    }

    /// Undoes the kernel's octal escapes (\040 space, \011 tab, \012
    /// newline, \134 backslash, and any other \NNN) on raw bytes.
    static func unescape(_ field: Substring) -> String {
        let bytes = Array(field.utf8)
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
        return String(decoding: out, as: UTF8.self)
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
    public static func isMountPoint(_ path: String, in entries: [MountEntry]? = nil) -> Bool {
        guard let real = resolvedMountPoint(path),
              let table = entries ?? (try? current())
        else { return false }
        return table.contains { $0.mountPoint == real }
    }

    /// Every mount at or below `path` (string prefix on whole components),
    /// in mountinfo order (parents before children).
    public static func mounts(under path: String, in entries: [MountEntry]) -> [MountEntry] {
        entries.filter { isSameOrBelow($0.mountPoint, path) }
    }

    /// Every mount at or below `path` (resolved with realpath(3)).
    public static func mounts(under path: String) throws(Errno) -> [MountEntry] {
        let real = resolvedPath(path) ?? path
        return mounts(under: real, in: try current())
    }

    /// The mount that holds `path`: the deepest mount point that is `path`
    /// or one of its ancestors; of mounts stacked on one point, the last
    /// (the visible one).
    public static func mount(containing path: String, in entries: [MountEntry]) -> MountEntry? {
        var best: MountEntry? = nil
        for entry in entries where isSameOrBelow(path, entry.mountPoint) {
            if let current = best, current.mountPoint.count > entry.mountPoint.count { continue }
            best = entry
        }
        return best
    }

    /// `path == base` or `path` lies inside `base`, by whole components.
    static func isSameOrBelow(_ path: String, _ base: String) -> Bool {
        if base == "/" { return path.hasPrefix("/") }
        return path == base || path.hasPrefix(base + "/")
    }

    /// Reads a whole file with open(2)/read(2) (proc files report size 0,
    /// so read until EOF).
    static func readProcFile(_ path: String) throws(Errno) -> String {
        let fd = try retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try retryingEINTR { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension MountInfo {
    /// The lower directory of the overlay mounted at `path`, or nil when
    /// `path` is not an overlay mount point (with several lower dirs, the first).
    public static func overlayLowerDir(at path: String) -> String? {
        guard let real = resolvedPath(path), let table = try? current() else { return nil }
        guard let entry = table.last(where: { $0.mountPoint == real }), entry.fsType == "overlay",
              let lower = entry.superOption("lowerdir") else { return nil }
        return unescapeOverlayPath(firstLayer(of: lower))
    }

    /// The text before the first unescaped ':'.
    static func firstLayer(of lowers: String) -> String {
        var result = ""
        var escaped = false
        for ch in lowers {
            if escaped { result.append("\\"); result.append(ch); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == ":" { break }
            result.append(ch)
        }
        return result
    }

    /// Undoes the backslash escapes of `,` `:` `\` in overlay layer paths.
    static func unescapeOverlayPath(_ text: String) -> String {
        var result = ""
        var escaped = false
        for ch in text {
            if escaped { result.append(ch); escaped = false } else if ch == "\\" { escaped = true } else { result.append(ch) }
        }
        return result
    }
}
