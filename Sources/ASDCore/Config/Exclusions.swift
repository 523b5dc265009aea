import ASDCopy
import ASDSystem
/// RAM_ONLY and DISK_ONLY as read from the config (doc/DESIGN.md §2), checked against
/// WHATTOSYNC. The parser only reads the words; whether a DISK_ONLY directory exists
/// is checked before sync (`Engine`), never here.
struct Exclusions: Equatable, Sendable {
    /// A RAM_ONLY entry: a pattern for every target, or (written as an absolute
    /// path inside a target) one for that target only, anchored at its root.
    struct RamOnly: Equatable, Sendable {
        var written: FilePath
        var target: FilePath?
        var pattern: PathPattern
        var line: Int
    }

    struct DiskOnly: Equatable, Sendable {
        var path: FilePath
        var target: FilePath
        /// `path` below `target`, without a leading `/`.
        var relative: FilePath
        var line: Int
    }

    var ramOnly: [RamOnly] = []
    var diskOnly: [DiskOnly] = []

    init() {}

    init(_ values: ConfigValues, targets: [FilePath], file: FilePath) throws(ASDError) {
        for word in values["RAM_ONLY"]?.elements ?? [] where !word.isEmpty {
            let line = values.lines["RAM_ONLY"] ?? 0
            let bare = Settings.removingTrailingSlashes(word)
            if let target = targets.first(where: { bare == $0 }) {
                throw .configValue(file: Self.at(file, line), key: "RAM_ONLY", value: shellQuoted(word.description),
                                   reason: "it names the whole target \(target); remove \(target) from WHATTOSYNC instead")
            }
            if let target = targets.first(where: { bare.isWithin($0) }) {
                var anchored = Array(word.bytes.dropFirst(target.bytes.count))
                if anchored.first != FilePath.slash { anchored.insert(FilePath.slash, at: 0) }
                let pattern = PathPattern(FilePath(bytes: anchored))
                ramOnly.append(RamOnly(written: word, target: target, pattern: pattern, line: line))
            } else {
                ramOnly.append(RamOnly(written: word, target: nil, pattern: PathPattern(word), line: line))
            }
        }
        for word in values["DISK_ONLY"]?.elements ?? [] where !word.isEmpty {
            let line = values.lines["DISK_ONLY"] ?? 0
            let path = Settings.removingTrailingSlashes(word)
            func refuse(_ reason: String) -> ASDError {
                .configValue(file: Self.at(file, line), key: "DISK_ONLY", value: shellQuoted(word.description), reason: reason)
            }
            guard path.isAbsolute else { throw refuse("it must be the absolute path of a directory inside a target") }
            let components = path.bytes.split(separator: FilePath.slash, omittingEmptySubsequences: false).dropFirst()
            if components.contains(where: { $0.isEmpty || $0.elementsEqual([0x2e]) || $0.elementsEqual([0x2e, 0x2e]) }) {
                throw refuse("write the path without '.', '..' or '//' components")
            }
            guard let target = targets.first(where: { path.isWithin($0) && path != $0 }) else {
                throw refuse("it is not inside any WHATTOSYNC target; DISK_ONLY keeps a directory of a target on disk")
            }
            if let other = diskOnly.first(where: { path.isWithin($0.path) || $0.path.isWithin(path) }) {
                throw refuse("it overlaps DISK_ONLY entry \(other.path); list each directory once, none inside another")
            }
            let relative = FilePath(bytes: Array(path.bytes.dropFirst(target.bytes.count + 1)))
            diskOnly.append(DiskOnly(path: path, target: target, relative: relative, line: line))
        }
    }

    /// What the copiers leave out of `target`.
    func filter(for target: FilePath) -> ExclusionFilter {
        ExclusionFilter(
            ramOnly: ramOnly.filter { $0.target == nil || $0.target == target }.map(\.pattern),
            diskOnly: diskOnly.filter { $0.target == target }.map(\.relative))
    }

    var isEmpty: Bool { ramOnly.isEmpty && diskOnly.isEmpty }

    static func at(_ file: FilePath, _ line: Int) -> FilePath {
        line > 0 ? "\(file):\(line)" : file
    }
}
