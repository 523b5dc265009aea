import ASDSystem
/// One rsync-style exclude pattern (doc/DESIGN.md §2, "RAM_ONLY"), matched the way
/// rsync's `--exclude=PATTERN` matches it against a path relative to the copy's root:
///
/// - `*` any run of characters but `/`; `**` any run including `/`; `?` one character
///   but `/`; `[...]` a class (`!` or `^` negates, ranges, `[:alpha:]` and friends);
///   `\` escapes the next character.
/// - a leading `/` anchors the pattern at the root: it is matched against the whole path;
/// - a trailing `/` matches directories only; a trailing `/***` matches the directory
///   and everything below it;
/// - otherwise a pattern without `/` matches the last component anywhere, one with
///   `/` inside matches the last as many components, and one with `**` is tried after
///   every `/` of the path.
///
/// An excluded directory is not entered: everything below it is kept out too.
public struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let text: FilePath
    /// The pattern without its leading and trailing `/`.
    let body: [UInt8]
    /// Leading `/`; trailing `/`.
    let anchored: Bool, directoryOnly: Bool
    /// `/` inside `body`: a pattern without `**` matches that many components plus one.
    let slashCount: Int
    /// Any of `*?[\`; any `**`; `**` at the start.
    let hasWildcards: Bool, hasDoubleStar: Bool, doubleStarPrefix: Bool
    /// `dir/***`: `dir` itself matches too.
    let alsoBare: [UInt8]?

    public init(_ text: FilePath) {
        self.text = text
        var body = text.bytes
        directoryOnly = body.count > 1 && body.last == FilePath.slash
        while body.count > 1 && body.last == FilePath.slash { body.removeLast() }
        anchored = body.first == FilePath.slash
        if anchored { body.removeFirst() }
        let star = UInt8(ascii: "*")
        if body.count >= 4 && body.suffix(4).elementsEqual([FilePath.slash, star, star, star]) {
            alsoBare = Array(body.dropLast(4))
            body.removeLast()  // "dir/**"
        } else {
            alsoBare = nil
        }
        self.body = body
        slashCount = body.filter { $0 == FilePath.slash }.count
        hasWildcards = body.contains { $0 == star || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\") }
        hasDoubleStar = (0..<max(0, body.count - 1)).contains { body[$0] == star && body[$0 + 1] == star }
        doubleStarPrefix = body.starts(with: [star, star])
    }

    public var description: String { text.description }

    /// Whether rsync would exclude `relative` (components from the root, no leading
    /// `/`), which is a directory when `isDirectory`.
    public func matches(_ relative: FilePath, isDirectory: Bool) -> Bool {
        if directoryOnly && !isDirectory { return false }
        let name = relative.bytes
        if name.isEmpty { return false }
        if let bare = alsoBare, Self.matchesBare(bare, name[...], anchored: anchored) { return true }
        if !hasWildcards {
            if anchored { return name.elementsEqual(body) }
            guard body.count <= name.count, name.suffix(body.count).elementsEqual(body) else { return false }
            return body.count == name.count || name[name.count - body.count - 1] == FilePath.slash
        }
        var subject = name[...]
        if !anchored && !hasDoubleStar {
            subject = Self.lastComponents(name, slashCount + 1)
        }
        if Wildmatch.matches(body[...], subject) { return true }
        if doubleStarPrefix {
            return body.count > 2 && body[2] == FilePath.slash && Wildmatch.matches(body[3...], subject)
        }
        if !anchored && hasDoubleStar {
            var index = subject.startIndex
            while let slash = subject[index...].firstIndex(of: FilePath.slash) {
                index = slash + 1
                if Wildmatch.matches(body[...], subject[index...]) { return true }
            }
        }
        return false
    }

    /// `dir` of `dir/***`, matched like a pattern of its own.
    private static func matchesBare(_ bare: [UInt8], _ name: ArraySlice<UInt8>, anchored: Bool) -> Bool {
        if bare.isEmpty { return false }
        var text = bare
        if anchored { text.insert(FilePath.slash, at: 0) }
        return PathPattern(FilePath(bytes: text)).matches(FilePath(bytes: Array(name)), isDirectory: true)
    }

    /// The last `count` components of `name` (all of it when it has fewer).
    static func lastComponents(_ name: [UInt8], _ count: Int) -> ArraySlice<UInt8> {
        var remaining = count
        var index = name.endIndex
        while index > name.startIndex {
            index -= 1
            if name[index] == FilePath.slash {
                remaining -= 1
                if remaining == 0 { return name[(index + 1)...] }
            }
        }
        return name[...]
    }
}
