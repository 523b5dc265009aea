#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A path or a file name as the kernel sees it: bytes, with no encoding.
///
/// Names that are not valid UTF-8 exist on real disks (Latin-1 names from old
/// data or Samba shares); `String(cString:)` would replace their bytes with
/// U+FFFD and lose the file. A `FilePath` keeps the bytes end to end; only its
/// `description` is text, with every byte that is not part of valid UTF-8
/// shown escaped as `\xNN`.
public struct FilePath: Hashable, Comparable, Sendable {
    /// The raw bytes, without a terminating NUL.
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The empty path.
    public init() { self.bytes = [] }

    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 { self.bytes = Array(bytes) }

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// The bytes of a C string up to its NUL.
    public init(cString pointer: UnsafePointer<CChar>) {
        let length = strlen(pointer)
        self.bytes = pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    public static func < (lhs: FilePath, rhs: FilePath) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public var isEmpty: Bool { bytes.isEmpty }
    public var isAbsolute: Bool { bytes.first == FilePath.slash }

    public static let slash = UInt8(ascii: "/")

    /// Calls `body` with a NUL-terminated copy of the bytes, for a syscall.
    func withCString<R, E: Error>(_ body: (UnsafePointer<CChar>) throws(E) -> R) throws(E) -> R {
        var terminated = bytes
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { (buffer) throws(E) -> R in
            try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { (c) throws(E) -> R in
                try body(c)
            }
        }
    }

    // MARK: Components

    /// `self/name` (no slash added when `self` already ends in one).
    public func appending(_ name: FilePath) -> FilePath {
        if bytes.isEmpty { return name }
        var result = bytes
        if result.last != FilePath.slash { result.append(FilePath.slash) }
        result.append(contentsOf: name.bytes.drop { $0 == FilePath.slash && result.last == FilePath.slash })
        return FilePath(bytes: result)
    }

    public func appending(_ name: String) -> FilePath { appending(FilePath(name)) }

    /// The bytes of `self` followed by `suffix`, as in `path + "-rw"`.
    public func suffixed(_ suffix: String) -> FilePath {
        FilePath(bytes: bytes + Array(suffix.utf8))
    }

    /// Splits like bash's `${P%/*}` and `${P##*/}` (a path without a slash is
    /// its own parent and base, as there).
    public var split: (parent: FilePath, base: FilePath) {
        guard let slash = bytes.lastIndex(of: FilePath.slash) else { return (self, self) }
        return (FilePath(bytes[..<slash]), FilePath(bytes[(slash + 1)...]))
    }

    /// The last component (`base` of `split`).
    public var lastComponent: FilePath { split.base }

    /// Everything before the last slash (`parent` of `split`).
    public var parent: FilePath { split.parent }

    /// The non-empty components between slashes.
    public var components: [FilePath] {
        bytes.split(separator: FilePath.slash).map { FilePath($0) }
    }

    /// The path without trailing slashes (`/` stays `/`).
    public var trimmingTrailingSlashes: FilePath {
        var result = bytes
        while result.count > 1 && result.last == FilePath.slash { result.removeLast() }
        return FilePath(bytes: result)
    }

    public func hasPrefix(_ prefix: String) -> Bool { bytes.starts(with: prefix.utf8) }

    /// True when the bytes of `self` end with those of `suffix`.
    public func hasSuffix(_ suffix: FilePath) -> Bool {
        bytes.count >= suffix.bytes.count && bytes.suffix(suffix.bytes.count).elementsEqual(suffix.bytes)
    }

    /// True when `self` is `other` or lies beneath it, component-wise.
    public func isWithin(_ other: FilePath) -> Bool {
        guard bytes.starts(with: other.bytes) else { return false }
        return bytes.count == other.bytes.count || other.bytes.last == FilePath.slash
            || bytes[other.bytes.count] == FilePath.slash
    }

    /// The bytes as a String when they are valid UTF-8, else nil.
    public var string: String? {
        String(validating: bytes, as: UTF8.self)
    }
}

extension FilePath: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

extension FilePath: CustomStringConvertible {
    /// The path for a message: valid UTF-8 as it is, every other byte as `\xNN`,
    /// control characters (a newline in a name) escaped too (a backslash stays as it is), so that one name
    /// is one line and never shows U+FFFD.
    public var description: String { FilePath.escaped(bytes) }

    public static func escaped(_ bytes: [UInt8]) -> String {
        var out = ""
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            if length == 0 {
                out += hex(bytes[index])
                index += 1
                continue
            }
            let scalarBytes = bytes[index..<(index + length)]
            let text = String(decoding: scalarBytes, as: UTF8.self)
            if length == 1, bytes[index] < 0x20 || bytes[index] == 0x7f {
                out += bytes[index] == 0x0a ? "\\n" : bytes[index] == 0x09 ? "\\t" : hex(bytes[index])
            } else {
                out += text
            }
            index += length
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xf)])
    }

    /// Length of the valid UTF-8 sequence starting at `index`, or 0 when the
    /// byte there does not start one.
    static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0x00...0x7f: return 1
        case 0xc2...0xdf: length = 2
        case 0xe0...0xef: length = 3
        case 0xf0...0xf4: length = 4
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        return String(validating: bytes[index..<(index + length)], as: UTF8.self) == nil ? 0 : length
    }
}
