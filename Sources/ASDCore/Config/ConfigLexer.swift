import ASDCopy
import ASDSystem
/// Reads the words of a bash config the way bash would split and unquote
/// them, without running anything. It reads bytes, not text: a byte that is
/// not UTF-8 (a Latin-1 path) goes into the word unchanged; each byte is
/// looked at as the `Unicode.Scalar` of the same value, so only ASCII has
/// meaning to the grammar. It knows quoting, backslashes, `$NAME`,
/// `${NAME}` and `${NAME:-default}`; every other shell construct is an error
/// naming the line it is on.
struct ConfigLexer {
    /// Where a word stands: bash treats assignment values and array elements differently.
    enum WordContext {
        /// `NAME=value`: no word splitting or globbing, `)` is an error.
        case scalar
        /// An element of `NAME=( ... )`: unquoted expansions split on blanks, `)` ends it.
        case arrayElement
    }

    let file: FilePath
    private let chars: [UInt8]
    /// The file split into lines, for error messages.
    let lines: [FilePath]
    private(set) var position = 0
    /// 1-based line of `position`.
    private(set) var line = 1
    /// Looks a name up: earlier assignments, then the environment; nil when unset.
    var lookup: (String) -> [UInt8]? = { _ in nil }
    /// `${A:-${B:-...}}` levels open now; bounded so a hostile config cannot overflow the stack.
    private var nesting = 0
    static let maxNesting = 32

    init(bytes: [UInt8], file: FilePath) {
        self.file = file
        self.chars = bytes
        self.lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map { FilePath($0) }
    }

    // MARK: Characters

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < chars.count ? Unicode.Scalar(chars[position + offset]) : nil
    }

    /// The byte a scalar from `peek` stands for.
    static func byte(_ c: Unicode.Scalar) -> [UInt8] { [UInt8(truncatingIfNeeded: c.value)] }

    mutating func advance() {
        if chars[position] == 0x0a { line += 1 }
        position += 1
    }

    /// Skips spaces, tabs and backslash-newline continuations; newlines too when asked.
    mutating func skipBlanks(newlines: Bool) {
        while let c = peek() {
            if c == " " || c == "\t" || (newlines && c == "\n") {
                advance()
            } else if c == "\\" && peek(1) == "\n" {
                advance()
                advance()
            } else {
                return
            }
        }
    }

    /// Skips a comment up to (not including) the end of its line.
    mutating func skipComment() {
        while let c = peek(), c != "\n" { advance() }
    }

    /// Reads `[A-Za-z_][A-Za-z0-9_]*` at the current position (possibly empty).
    mutating func readName() -> String {
        var name = String.UnicodeScalarView()
        while let c = peek(), Self.isNameCharacter(c, first: name.isEmpty) {
            name.append(c)
            advance()
        }
        return String(name)
    }

    static func isNameCharacter(_ c: Unicode.Scalar, first: Bool) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "_": return true
        case "0"..."9": return !first
        default: return false
        }
    }

    // MARK: Words

    /// Reads one word up to an unquoted blank, newline or end (and `)` in an array).
    /// Returns its fields: exactly one for `.scalar`; zero or more for `.arrayElement`.
    mutating func readWord(_ context: WordContext) throws(ASDError) -> [FilePath] {
        var word = WordBuilder(splitting: context == .arrayElement)
        var atStart = true
        var afterColon = false
        while let c = peek() {
            switch c {
            case " ", "\t", "\n":
                return word.finish()
            case ")" where context == .arrayElement:
                return word.finish()
            case "'":
                word.appendQuoted(try readSingleQuoted())
            case "\"":
                word.appendQuoted(try readDoubleQuoted())
            case "\\":
                advance()
                if peek() == "\n" {
                    advance()
                } else if let next = peek() {
                    word.appendQuoted(Self.byte(next))
                    advance()
                } else {
                    word.appendQuoted(Self.byte("\\"))
                }
            case "$":
                if let value = try readExpansion(inDoubleQuotes: false) {
                    if context == .arrayElement, let glob = value.map(Unicode.Scalar.init).first(where: Self.isGlobCharacter) {
                        throw error("an unquoted expansion holding '\(glob)' would be expanded as a pattern; put it in double quotes")
                    }
                    word.appendExpansion(value)
                } else {
                    word.appendQuoted(Self.byte("$"))
                }
            case "~" where atStart || (context == .scalar && afterColon):
                throw error("'~' is not expanded by asd; use an absolute path")
            case "*", "?", "[", "{", "}":
                // bash expands these in array elements but not in assignment values.
                guard context == .scalar else {
                    throw error("unquoted '\(c)' would be expanded as a pattern; put the element in quotes")
                }
                word.appendQuoted(Self.byte(c))
                advance()
            case "`", ";", "&", "|", "<", ">", "(", ")", "\r":
                throw error(reason(forUnexpected: c))
            default:
                word.appendQuoted(Self.byte(c))
                advance()
            }
            atStart = false
            afterColon = c == ":"
        }
        return word.finish()
    }

    static func isGlobCharacter(_ c: Unicode.Scalar) -> Bool {
        c == "*" || c == "?" || c == "["
    }

    /// `'...'`: everything literal up to the next `'`.
    private mutating func readSingleQuoted() throws(ASDError) -> [UInt8] {
        let start = line
        advance()
        var text: [UInt8] = []
        while let c = peek() {
            advance()
            if c == "'" { return text }
            text += Self.byte(c)
        }
        throw error("unterminated single quote", line: start)
    }

    /// `"..."`: `\` escapes only `$`, `` ` ``, `"`, `\` and newline; `$` expands.
    private mutating func readDoubleQuoted() throws(ASDError) -> [UInt8] {
        let start = line
        advance()
        var text: [UInt8] = []
        while let c = peek() {
            switch c {
            case "\"":
                advance()
                return text
            case "\\":
                advance()
                guard let next = peek() else { continue }
                switch next {
                case "$", "`", "\"", "\\":
                    text += Self.byte(next)
                    advance()
                case "\n":
                    advance()
                default:
                    text += Self.byte("\\")
                }
            case "$":
                text += try readExpansion(inDoubleQuotes: true) ?? Self.byte("$")
            case "`":
                throw error(reason(forUnexpected: c))
            default:
                text += Self.byte(c)
                advance()
            }
        }
        throw error("unterminated double quote", line: start)
    }

    /// Reads a `$` construct at the current position and returns its value,
    /// or nil when bash would keep the `$` literally (then only `$` is consumed).
    private mutating func readExpansion(inDoubleQuotes: Bool) throws(ASDError) -> [UInt8]? {
        guard let next = peek(1) else {
            advance()
            return nil
        }
        switch next {
        case "(":
            throw error(reason(forUnexpected: "$"))
        case "[":
            throw error("arithmetic expansion is not allowed")
        case "{":
            return try readBracedExpansion()
        case "a"..."z", "A"..."Z", "_":
            advance()
            return lookup(readName()) ?? []
        case "0"..."9", "@", "*", "#", "?", "$", "!", "-":
            throw error("special parameter '$\(next)' is not allowed")
        case "'" where !inDoubleQuotes, "\"" where !inDoubleQuotes:
            throw error("$\(next)...\(next) quoting is not supported; use plain quotes")
        default:
            advance()
            return nil
        }
    }

    /// `${NAME}`, `${NAME:-default}` or `${NAME-default}`.
    private mutating func readBracedExpansion() throws(ASDError) -> [UInt8] {
        let start = line
        guard nesting < Self.maxNesting else { throw error("${...} nested more than \(Self.maxNesting) deep") }
        nesting += 1
        defer { nesting -= 1 }
        advance()
        advance()
        let name = readName()
        let unsupported = "only ${NAME}, ${NAME:-default} and ${NAME-default} are supported"
        guard !name.isEmpty else { throw error(unsupported) }
        let value = lookup(name)
        switch peek() {
        case "}":
            advance()
            return value ?? []
        case ":" where peek(1) == "-":
            advance()
            advance()
            let fallback = try readDefault(start: start)
            return value.flatMap { $0.isEmpty ? nil : $0 } ?? fallback
        case "-":
            advance()
            let fallback = try readDefault(start: start)
            return value ?? fallback
        case nil:
            throw error("unterminated ${", line: start)
        default:
            throw error(unsupported)
        }
    }

    /// The `default` of `${NAME:-default}` up to its `}`: literal text, backslash
    /// escapes and nested expansions; quotes inside are not supported.
    private mutating func readDefault(start: Int) throws(ASDError) -> [UInt8] {
        var text: [UInt8] = []
        while let c = peek() {
            switch c {
            case "}":
                advance()
                return text
            case "\\":
                advance()
                if let next = peek() {
                    if next != "\n" { text += Self.byte(next) }
                    advance()
                }
            case "$":
                text += try readExpansion(inDoubleQuotes: true) ?? Self.byte("$")
            case "'", "\"":
                throw error("quotes inside ${...} are not supported")
            case "`":
                throw error(reason(forUnexpected: c))
            default:
                text += Self.byte(c)
                advance()
            }
        }
        throw error("unterminated ${", line: start)
    }
}
