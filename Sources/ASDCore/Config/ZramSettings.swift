import ASDSystem
/// USE_ZRAM, ZRAM_ALGORITHM and ZRAM_SIZE: the RAM copies live on a
/// compressed zram device asd creates at sync and removes at unsync
/// (doc/DESIGN.md §11). Parsed here; what the kernel offers is
/// checked at sync, when the device exists.
public struct ZramSettings: Equatable, Sendable {
    /// ZRAM_ALGORITHM; nil: zstd, else lz4, else the kernel's default.
    public var algorithm: String?
    /// ZRAM_SIZE in bytes (uncompressed); nil: what the tmpfs guard allows.
    public var size: UInt64?
    /// Where ZRAM_ALGORITHM was set ("file:line"), for the error when the
    /// kernel does not offer it.
    public var algorithmSource: String
    /// The VOLATILE of the config: the device is mounted in it, at
    /// `mountPoint(instance:)`, and the layout is built inside that mount.
    public var hostVolatile: FilePath

    public init(algorithm: String? = nil, size: UInt64? = nil, algorithmSource: String = "", hostVolatile: FilePath = "/tmp") {
        self.algorithm = algorithm
        self.size = size
        self.algorithmSource = algorithmSource
        self.hostVolatile = hostVolatile
    }

    /// `$VOLATILE/.zram-<instance>`: like `.lower-`, a top-level name no
    /// user's copy (`<instance>-USER`) can have.
    public func mountPoint(instance: String) -> FilePath {
        hostVolatile.appending(".zram-\(instance)")
    }

    /// The order in which a default algorithm is picked from what the kernel offers.
    public static let preferredAlgorithms = ["zstd", "lz4"]

    /// The smallest ZRAM_SIZE accepted.
    public static let minimumSize: UInt64 = 16 << 20
}

extension Settings {
    /// nil unless USE_ZRAM is a yes word; ZRAM_* without it are ignored (a warning).
    static func zram(_ values: ConfigValues, volatile: FilePath, file: FilePath) throws(ASDError) -> ZramSettings? {
        guard isAffirmative(values.string("USE_ZRAM") ?? "") else { return nil }
        func at(_ key: String) -> FilePath { values.lines[key].map { FilePath("\(file):\($0)") } ?? file }
        var zram = ZramSettings(hostVolatile: volatile)
        if let word = values.string("ZRAM_ALGORITHM"), !word.isEmpty {
            let name = word.description
            guard name.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
                throw .configValue(file: at("ZRAM_ALGORITHM"), key: "ZRAM_ALGORITHM", value: shellQuoted(name),
                                   reason: "it must be the name of one compression algorithm, e.g. zstd, lz4, lzo-rle (see /sys/block/zram*/comp_algorithm)")
            }
            zram.algorithm = name
            zram.algorithmSource = at("ZRAM_ALGORITHM").description
        }
        if let word = values.string("ZRAM_SIZE"), !word.isEmpty {
            guard let bytes = parseSize(word.description) else {
                throw .configValue(file: at("ZRAM_SIZE"), key: "ZRAM_SIZE", value: shellQuoted(word.description),
                                   reason: "it must be a size such as 512M or 2G (suffixes K, M, G, T; powers of 1024)")
            }
            guard bytes >= ZramSettings.minimumSize else {
                throw .configValue(file: at("ZRAM_SIZE"), key: "ZRAM_SIZE", value: shellQuoted(word.description),
                                   reason: "the device must hold at least 16M")
            }
            zram.size = bytes
        }
        return zram
    }

    /// "512M", "2G", "1048576", "64k", "1.5G", "2GiB": bytes; nil when not a size.
    public static func parseSize(_ text: String) -> UInt64? {
        var digits = Substring(text)
        var unit: UInt64 = 1
        for suffix in ["iB", "B", "i"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        if let last = digits.last, let factor = units[Character(last.uppercased())] {
            unit = factor
            digits = digits.dropLast()
        } else if text.last == "B" || text.last == "i" {
            return nil
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              digits.filter({ $0 == "." }).count <= 1, digits.first != ".", digits.last != ".",
              let value = Double(digits) else { return nil }
        let bytes = value * Double(unit)
        guard bytes >= 1, bytes < Double(UInt64(1) << 62) else { return nil }
        return UInt64(bytes)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
