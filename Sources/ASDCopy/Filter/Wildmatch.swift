import ASDSystem
/// rsync's wildmatch on bytes: `*` stops at `/`, `**` does not, `?` is one byte but
/// `/`, `[...]` a class, `\` escapes. Backtracks only on stars, so a pattern of a
/// config line stays cheap on any path.
enum Wildmatch {
    static let slash = FilePath.slash
    static let star = UInt8(ascii: "*")

    static func matches(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        while p < pattern.endIndex {
            let c = pattern[p]
            switch c {
            case star:
                var q = p + 1
                var crossesSlash = false
                while q < pattern.endIndex && pattern[q] == star { q += 1; crossesSlash = true }
                if q == pattern.endIndex {
                    return crossesSlash || !text[t...].contains(slash)
                }
                var start = t
                while true {
                    if matches(pattern[q...], text[start...]) { return true }
                    if start == text.endIndex || (!crossesSlash && text[start] == slash) { return false }
                    start += 1
                }
            case UInt8(ascii: "?"):
                guard t < text.endIndex, text[t] != slash else { return false }
                p += 1; t += 1
            case UInt8(ascii: "["):
                guard t < text.endIndex else { return false }
                // An unclosed `[` matches nothing, as in rsync.
                guard let (matched, next) = matchClass(pattern, from: p, byte: text[t]),
                      matched, text[t] != slash else { return false }
                p = next
                t += 1
            default:
                var literal = c
                if c == UInt8(ascii: "\\") && p + 1 < pattern.endIndex { p += 1; literal = pattern[p] }
                guard t < text.endIndex, text[t] == literal else { return false }
                p += 1; t += 1
            }
        }
        return t == text.endIndex
    }

    /// Whether `byte` is in the class opening at `start`, and the index after it;
    /// nil when the class is not closed.
    static func matchClass(_ pattern: ArraySlice<UInt8>, from start: Int, byte: UInt8) -> (Bool, Int)? {
        var p = start + 1
        var negated = false
        if p < pattern.endIndex && (pattern[p] == UInt8(ascii: "!") || pattern[p] == UInt8(ascii: "^")) {
            negated = true; p += 1
        }
        var matched = false
        var first = true
        while p < pattern.endIndex {
            var c = pattern[p]
            if c == UInt8(ascii: "]") && !first { return (matched != negated, p + 1) }
            first = false
            if c == UInt8(ascii: "[") && p + 1 < pattern.endIndex && pattern[p + 1] == UInt8(ascii: ":"),
               let close = findClassEnd(pattern, from: p + 2) {
                let name = String(decoding: pattern[(p + 2)..<close], as: UTF8.self)
                if characterClass(name, byte) { matched = true }
                p = close + 2
                continue
            }
            if c == UInt8(ascii: "\\") && p + 1 < pattern.endIndex { p += 1; c = pattern[p] }
            if p + 2 < pattern.endIndex && pattern[p + 1] == UInt8(ascii: "-") && pattern[p + 2] != UInt8(ascii: "]") {
                var high = pattern[p + 2]
                var skip = 3
                if high == UInt8(ascii: "\\") && p + 3 < pattern.endIndex { high = pattern[p + 3]; skip = 4 }
                if c <= byte && byte <= high { matched = true }
                p += skip
            } else {
                if c == byte { matched = true }
                p += 1
            }
        }
        return nil
    }

    private static func findClassEnd(_ pattern: ArraySlice<UInt8>, from start: Int) -> Int? {
        var p = start
        while p + 1 < pattern.endIndex {
            if pattern[p] == UInt8(ascii: ":") && pattern[p + 1] == UInt8(ascii: "]") { return p }
            p += 1
        }
        return nil
    }

    private static func characterClass(_ name: String, _ b: UInt8) -> Bool {
        let upper = b >= 0x41 && b <= 0x5a, lower = b >= 0x61 && b <= 0x7a, digit = b >= 0x30 && b <= 0x39
        switch name {
        case "alpha": return upper || lower
        case "digit": return digit
        case "alnum": return upper || lower || digit
        case "upper": return upper
        case "lower": return lower
        case "space": return b == 0x20 || (b >= 0x09 && b <= 0x0d)
        case "blank": return b == 0x20 || b == 0x09
        case "punct": return b > 0x20 && b < 0x7f && !(upper || lower || digit)
        case "xdigit": return digit || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
        default: return false
        }
    }
}
