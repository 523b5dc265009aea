/// Reads the words of a bash config the way bash would split and unquote
/// them, without running anything. It knows quoting, backslashes, `$NAME`,
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

    let file: String
    private let chars: [Unicode.Scalar]
    private let lines: [String]
    private(set) var position = 0
    /// 1-based line of `position`.
    private(set) var line = 1
    /// Looks a name up: earlier assignments, then the environment; nil when unset.
    var lookup: (String) -> String? = { _ in nil }
    /// `${A:-${B:-...}}` levels open now; bounded so a hostile config cannot overflow the stack.
    private var nesting = 0
    static let maxNesting = 32

    init(text: String, file: String) {
        self.file = file
        self.chars = Array(text.unicodeScalars)
        self.lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
    }

    // MARK: Characters

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < chars.count ? chars[position + offset] : nil
    }

    mutating func advance() {
        if chars[position] == "\n" { line += 1 }
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

    // MARK: Errors

    /// A syntax error at `line` (default: the current line), quoting that line.
    func error(_ reason: String, line: Int? = nil) -> ASDError {
        let number = line ?? self.line
        let text = number - 1 < lines.count ? lines[number - 1] : ""
        return .configSyntax(file: file, line: number, text: Self.trimmed(text), reason: reason)
    }

    static func trimmed(_ text: String) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(text[first...last])
    }

    /// Why an unquoted `c` cannot appear where it was found.
    func reason(forUnexpected c: Unicode.Scalar) -> String {
        switch c {
        case "`": return "command substitution is not allowed"
        case "$" where peek(1) == "(" && peek(2) == "(": return "arithmetic expansion is not allowed"
        case "$" where peek(1) == "(": return "command substitution is not allowed"
        case ";": return "';' is not allowed; write one assignment per line"
        case "&": return "'&' is not allowed"
        case "|": return "'|' is not allowed"
        case "<", ">": return "redirection is not allowed"
        case "(", ")": return "'\(c)' is not allowed here"
        case "\r": return "carriage return (DOS line ending) is not allowed"
        default: return "unexpected '\(c)'"
        }
    }

    // MARK: Words

    /// Reads one word up to an unquoted blank, newline or end (and `)` in an array).
    /// Returns its fields: exactly one for `.scalar`; zero or more for `.arrayElement`.
    mutating func readWord(_ context: WordContext) throws(ASDError) -> [String] {
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
                    word.appendQuoted(String(next))
                    advance()
                } else {
                    word.appendQuoted("\\")
                }
            case "$":
                if let value = try readExpansion(inDoubleQuotes: false) {
                    if context == .arrayElement, let glob = value.unicodeScalars.first(where: Self.isGlobCharacter) {
                        throw error("an unquoted expansion holding '\(glob)' would be expanded as a pattern; put it in double quotes")
                    }
                    word.appendExpansion(value)
                } else {
                    word.appendQuoted("$")
                }
            case "~" where atStart || (context == .scalar && afterColon):
                throw error("'~' is not expanded by asd; use an absolute path")
            case "*", "?", "[", "{", "}":
                // bash expands these in array elements but not in assignment values.
                guard context == .scalar else {
                    throw error("unquoted '\(c)' would be expanded as a pattern; put the element in quotes")
                }
                word.appendQuoted(String(c))
                advance()
            case "`", ";", "&", "|", "<", ">", "(", ")", "\r":
                throw error(reason(forUnexpected: c))
            default:
                word.appendQuoted(String(c))
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
    private mutating func readSingleQuoted() throws(ASDError) -> String {
        let start = line
        advance()
        var text = String.UnicodeScalarView()
        while let c = peek() {
            advance()
            if c == "'" { return String(text) }
            text.append(c)
        }
        throw error("unterminated single quote", line: start)
    }

    /// `"..."`: `\` escapes only `$`, `` ` ``, `"`, `\` and newline; `$` expands.
    private mutating func readDoubleQuoted() throws(ASDError) -> String {
        let start = line
        advance()
        var text = ""
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
                    text.unicodeScalars.append(next)
                    advance()
                case "\n":
                    advance()
                default:
                    text += "\\"
                }
            case "$":
                text += try readExpansion(inDoubleQuotes: true) ?? "$"
            case "`":
                throw error(reason(forUnexpected: c))
            default:
                text.unicodeScalars.append(c)
                advance()
            }
        }
        throw error("unterminated double quote", line: start)
    }

    /// Reads a `$` construct at the current position and returns its value,
    /// or nil when bash would keep the `$` literally (then only `$` is consumed).
    private mutating func readExpansion(inDoubleQuotes: Bool) throws(ASDError) -> String? {
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
            return lookup(readName()) ?? ""
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
    private mutating func readBracedExpansion() throws(ASDError) -> String {
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
            return value ?? ""
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
    private mutating func readDefault(start: Int) throws(ASDError) -> String {
        var text = ""
        while let c = peek() {
            switch c {
            case "}":
                advance()
                return text
            case "\\":
                advance()
                if let next = peek() {
                    if next != "\n" { text.unicodeScalars.append(next) }
                    advance()
                }
            case "$":
                text += try readExpansion(inDoubleQuotes: true) ?? "$"
            case "'", "\"":
                throw error("quotes inside ${...} are not supported")
            case "`":
                throw error(reason(forUnexpected: c))
            default:
                text.unicodeScalars.append(c)
                advance()
            }
        }
        throw error("unterminated ${", line: start)
    }
}
