/// Building paths from pieces without leaving bytes: `"\(parent)/.\(base)-backup_asd"`
/// as a `FilePath` appends the bytes of every `FilePath` piece as they are and
/// the UTF-8 of every text piece, so a name that is not UTF-8 survives.
/// (Interpolated into a `String` instead, a `FilePath` shows its escaped
/// `description`: that is for messages.)
extension FilePath: ExpressibleByStringInterpolation {
    public struct StringInterpolation: StringInterpolationProtocol {
        var bytes: [UInt8] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            bytes.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { bytes += literal.utf8 }
        public mutating func appendInterpolation(_ path: FilePath) { bytes += path.bytes }
        public mutating func appendInterpolation(_ text: String) { bytes += text.utf8 }
        public mutating func appendInterpolation<T: BinaryInteger>(_ number: T) { bytes += String(number).utf8 }
    }

    public init(stringInterpolation: StringInterpolation) { self.init(bytes: stringInterpolation.bytes) }

    /// `path + "-rw"`: the bytes of `path` followed by the UTF-8 of `suffix`.
    public static func + (path: FilePath, suffix: String) -> FilePath { path.suffixed(suffix) }

    /// The bytes of both, one after the other (no slash added).
    public static func + (path: FilePath, suffix: FilePath) -> FilePath { FilePath(bytes: path.bytes + suffix.bytes) }

    /// The directory holding `self`, for a syscall: the part before the last
    /// slash, "/" for a top-level name, "." for a bare name.
    public var directory: FilePath {
        guard let slash = bytes.lastIndex(of: FilePath.slash) else { return "." }
        return slash == 0 ? "/" : FilePath(bytes[..<slash])
    }

    /// The bytes as a NUL-terminated C array (passed where a C call wants a
    /// `const char *`).
    var cString: [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

    /// True when the bytes contain `needle` (e.g. a marker inside a file name).
    public func contains(_ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, pattern.count <= bytes.count else { return pattern.isEmpty }
        for start in 0...(bytes.count - pattern.count) where bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
            return true
        }
        return false
    }

    /// The rest of `self` after `prefix`, or nil when it does not start with it.
    func droppingPrefix(_ prefix: FilePath) -> FilePath? {
        guard bytes.starts(with: prefix.bytes) else { return nil }
        return FilePath(bytes[prefix.bytes.count...])
    }

    /// Calls `body` with a NULL-terminated array of C strings, one per path
    /// (argv for a subprocess).
    static func withCStrings<R>(_ words: [FilePath], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers: [UnsafeMutablePointer<CChar>?] = words.map { word in
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: word.bytes.count + 1)
            word.bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { pointer.initialize(from: $0.baseAddress!, count: $0.count) }
            }
            pointer[word.bytes.count] = 0
            return pointer
        } + [nil]
        defer { for pointer in pointers { pointer?.deallocate() } }
        return body(pointers)
    }
}
