/// A complete description of a directory tree, made inside the namespace by
/// `asd_manifest` (find -printf, sha256sum, stat, getfattr; see ScenarioLibrary.swift)
/// and parsed here. Names may hold any byte but NUL (newlines included).
struct TreeManifest: Equatable, Sendable {
    /// Entries by path relative to the root; the root itself is ".".
    let entries: [String: TreeEntry]

    var paths: [String] { entries.keys.sorted() }

    subscript(path: String) -> TreeEntry? { entries[path] }

    init(entries: [TreeEntry]) {
        self.entries = Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Parses `E\0path\0type\0mode\0uid\0gid\0size\0mtime\0links\0target\0sha\0rdev\0xattrs\0`
    /// records.
    init(parsing bytes: [UInt8]) throws {
        let fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map(Self.text)
        var entries: [TreeEntry] = []
        var index = 0
        while index < fields.count {
            if fields[index].isEmpty && index == fields.count - 1 { break }
            guard fields[index] == "E", index + 13 <= fields.count else {
                throw HarnessError("malformed tree manifest at field \(index): \(fields[index...].prefix(13))")
            }
            entries.append(try TreeEntry(fields: Array(fields[(index + 1)..<(index + 13)])))
            index += 13
        }
        self.init(entries: entries)
    }
}

extension TreeManifest {
    /// The bytes as text, every byte that is not part of valid UTF-8 written `\xNN`: two
    /// names that differ only in such bytes stay different (U+FFFD would merge them, and
    /// would hide a copier that rewrote a name into U+FFFD).
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        var out = ""
        var rest = bytes
        while let first = rest.first {
            let scalar = (1...min(4, rest.count)).lazy.compactMap { length in
                String(validating: rest.prefix(length), as: UTF8.self).map { ($0, length) }
            }.first
            if let (text, length) = scalar {
                out += text
                rest = rest.dropFirst(length)
            } else {
                let digits = Array("0123456789abcdef")
                out += "\\x" + String(digits[Int(first >> 4)]) + String(digits[Int(first & 0xF)])
                rest = rest.dropFirst()
            }
        }
        return out
    }
}

/// One file, directory, link, fifo, socket or device of a manifest.
struct TreeEntry: Equatable, Sendable {
    enum Kind: String, Sendable {
        case file = "f", directory = "d", symlink = "l", fifo = "p", socket = "s"
        case characterDevice = "c", blockDevice = "b"
    }

    /// Nanosecond-precise modification time.
    struct Timestamp: Equatable, Comparable, Sendable, CustomStringConvertible {
        let seconds: Int
        let nanoseconds: Int

        /// From find's `%T@`: "1577934245.1234567890" (10 fraction digits, first 9 used).
        init?(_ text: String) {
            let parts = text.split(separator: ".", maxSplits: 1)
            guard let whole = parts.first, let seconds = Int(whole) else { return nil }
            let fraction = parts.count > 1 ? String(parts[1].prefix(9)) : ""
            guard let nanos = Int(fraction.padding(toLength: 9, withPad: "0", startingAt: 0)) else { return nil }
            self.seconds = seconds
            self.nanoseconds = nanos
        }

        init(seconds: Int, nanoseconds: Int) {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        }

        static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
        }

        var description: String {
            let nanos = String(nanoseconds)
            return "\(seconds).\(String(repeating: "0", count: 9 - nanos.count))\(nanos)"
        }
    }

    let path: String
    let kind: Kind
    /// Permission bits including setuid/setgid/sticky (find's `%m`).
    let mode: UInt32
    let uid: UInt32
    let gid: UInt32
    let size: Int64
    let mtime: Timestamp
    let links: Int
    /// Symlink target, nil for other kinds.
    let linkTarget: String?
    /// SHA-256 of regular files' contents.
    let sha256: String?
    /// "major:minor" in hex for devices.
    let device: String?
    /// Every extended attribute (all namespaces, ACLs as system.posix_acl_*): name to
    /// getfattr's hex value ("0x...").
    let xattrs: [String: String]

    init(
        path: String, kind: Kind, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, size: Int64 = 0,
        mtime: Timestamp = Timestamp(seconds: 0, nanoseconds: 0), links: Int = 1, linkTarget: String? = nil,
        sha256: String? = nil, device: String? = nil, xattrs: [String: String] = [:]
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtime = mtime
        self.links = links
        self.linkTarget = linkTarget
        self.sha256 = sha256
        self.device = device
        self.xattrs = xattrs
    }

    /// The 12 fields after the "E" marker of a manifest record.
    init(fields: [String]) throws {
        let raw = fields[0]
        let path = raw == "." ? "." : raw.hasPrefix("./") ? String(raw.dropFirst(2)) : raw
        guard let kind = Kind(rawValue: fields[1]), let mode = UInt32(fields[2], radix: 8),
            let uid = UInt32(fields[3]), let gid = UInt32(fields[4]), let size = Int64(fields[5]),
            let mtime = Timestamp(fields[6]), let links = Int(fields[7])
        else {
            throw HarnessError("malformed tree manifest entry: \(fields)")
        }
        var xattrs: [String: String] = [:]
        for line in fields[11].split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else {
                xattrs[String(line)] = ""
                continue
            }
            xattrs[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        self.init(
            path: path, kind: kind, mode: mode, uid: uid, gid: gid, size: size, mtime: mtime, links: links,
            linkTarget: kind == .symlink ? fields[8] : nil, sha256: fields[9] == "-" ? nil : fields[9],
            device: fields[10] == "-" ? nil : fields[10], xattrs: xattrs)
    }

    /// `0644`-style text of `mode`.
    var modeText: String {
        let octal = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }

    /// An xattr value for people: the text when printable, else getfattr's hex.
    static func readable(xattr hex: String) -> String {
        guard hex.hasPrefix("0x"), hex.count % 2 == 0 else { return hex }
        var bytes: [UInt8] = []
        var index = hex.index(hex.startIndex, offsetBy: 2)
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return hex }
            bytes.append(byte)
            index = next
        }
        let trimmed = bytes.last == 0 ? Array(bytes.dropLast()) : bytes
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return hex }
        return "\"" + String(decoding: trimmed, as: UTF8.self) + "\""
    }
}
