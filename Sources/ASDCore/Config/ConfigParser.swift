import ASDCopy
import ASDSystem
/// asd's config file: a bash file that asd reads as data and never runs (doc/DESIGN.md §2).
enum ConfigFile {
    /// Parses `text` into the variables it assigns. Accepts comments, blank lines,
    /// `NAME=value`, `NAME+=value`, `NAME=( ... )`, `NAME+=( ... )`, bash quoting and
    /// `$NAME` / `${NAME}` / `${NAME:-default}` expansion of earlier assignments and
    /// of `environment`. Anything else throws `ASDError.configSyntax` naming `file`,
    /// the 1-based line and its text. Nothing in `text` is ever executed.
    static func parse(_ bytes: [UInt8], file: FilePath, environment: [String: String]) throws(ASDError) -> ConfigValues {
        var parser = ConfigParser(bytes: bytes, file: file, environment: environment)
        return try parser.parse()
    }

    /// `parse` of the UTF-8 of `text`.
    static func parse(_ text: String, file: FilePath, environment: [String: String]) throws(ASDError) -> ConfigValues {
        try parse(Array(text.utf8), file: file, environment: environment)
    }
}

/// Statement level of the config grammar: a file is a sequence of assignments,
/// separated by blanks, newlines and comments. Words are read by `ConfigLexer`.
struct ConfigParser {
    private var lexer: ConfigLexer
    private var values = ConfigValues()
    private let environment: [String: String]

    /// Builtins people put in front of assignments; each gets its own hint.
    private static let declarationBuiltins: Set<String> = ["export", "declare", "typeset", "local", "readonly"]

    init(bytes: [UInt8], file: FilePath, environment: [String: String]) {
        self.lexer = ConfigLexer(bytes: ConfigText.normalized(bytes), file: file)
        self.environment = environment
    }

    mutating func parse() throws(ASDError) -> ConfigValues {
        while true {
            lexer.skipBlanks(newlines: true)
            guard let c = lexer.peek() else { return values }
            if c == "#" {
                lexer.skipComment()
            } else {
                try parseAssignment()
            }
        }
    }

    /// `NAME=word`, `NAME+=word`, `NAME=( words )` or `NAME+=( words )`.
    private mutating func parseAssignment() throws(ASDError) {
        let start = lexer.line
        guard let first = lexer.peek(), ConfigLexer.isNameCharacter(first, first: true) else {
            throw lexer.error(commandReason(startingWith: lexer.peek()))
        }
        let name = lexer.readName()
        let append: Bool
        switch (lexer.peek(), lexer.peek(1)) {
        case ("=", _):
            lexer.advance()
            append = false
        case ("+", "="):
            lexer.advance()
            lexer.advance()
            append = true
        case ("[", _):
            throw lexer.error("assigning one array element (NAME[i]=...) is not supported; assign the whole array")
        default:
            throw lexer.error(commandReason(afterName: name))
        }

        let snapshot = values
        let environment = environment
        let reads = NameReads()
        defer { for read in reads.names { values.noteReference(read) } }
        lexer.lookup = { name in
            reads.names.append(name)
            if let value = snapshot[name] {
                if case .array(let elements) = value, elements.isEmpty { return nil }
                return value.expanded.bytes
            }
            return environment[name].map { Array($0.utf8) }
        }

        values.noteAssignment(name, line: start)
        if lexer.peek() == "(" {
            lexer.advance()
            assign(.array(try readArray(start: start)), to: name, append: append)
        } else {
            let before = lexer.position
            let word = try lexer.readWord(.scalar)
            assign(.scalar(word.first ?? ""), to: name, append: append)
            if lexer.position == before {
                // `NAME= value` runs `value` as a command in bash.
                lexer.skipBlanks(newlines: false)
                if let c = lexer.peek(), c != "\n", c != "#", !lexer.assignmentFollows() {
                    throw lexer.error("spaces around '=' are not allowed", line: start)
                }
            }
        }
    }

    /// The elements of `( ... )` after its `(`, up to and including `)`.
    private mutating func readArray(start: Int) throws(ASDError) -> [FilePath] {
        var elements: [FilePath] = []
        while true {
            lexer.skipBlanks(newlines: true)
            guard let c = lexer.peek() else {
                throw lexer.error("unterminated array: missing ')'", line: start)
            }
            if c == "#" {
                lexer.skipComment()
            } else if c == ")" {
                lexer.advance()
                break
            } else {
                elements += try lexer.readWord(.arrayElement)
            }
        }
        switch lexer.peek() {
        case nil, " ", "\t", "\n", ";", "&", "|", "<", ">":
            return elements  // operators are reported by the statement loop
        default:
            throw lexer.error("unexpected text right after ')'")
        }
    }

    /// Stores a value with bash's rules: `NAME=x` on an array sets element 0;
    /// `+=` appends to a string, to element 0 of an array, or (with `( )`) adds elements.
    private mutating func assign(_ value: ConfigValue, to name: String, append: Bool) {
        let old = values[name] ?? (append ? environment[name].map { ConfigValue.scalar(FilePath($0)) } : nil)
        switch (value, old, append) {
        case (.array(let new), .array(let elements), true):
            values[name] = .array(elements + new)
        case (.array(let new), .scalar(let text), true):
            values[name] = .array([text] + new)
        case (.array, _, _):
            values[name] = value
        case (.scalar(let text), .array(var elements), _):
            if elements.isEmpty {
                elements = [text]
            } else {
                elements[0] = append ? elements[0] + text : text
            }
            values[name] = .array(elements)
        case (.scalar(let text), .scalar(let oldText), true):
            values[name] = .scalar(oldText + text)
        case (.scalar, _, _):
            values[name] = value
        }
    }

    /// Why a statement starting with `c` (not a name) is refused.
    private func commandReason(startingWith c: Unicode.Scalar?) -> String {
        switch c {
        case "$" where lexer.peek(1) == "(", "`", ";", "&", "|", "<", ">", "(", ")", "\r":
            return lexer.reason(forUnexpected: c!)
        case "." where lexer.peek(1) == " " || lexer.peek(1) == "\t":
            return "reading other files ('.' or 'source') is not allowed"
        default:
            return "commands are not allowed; only NAME=value assignments are"
        }
    }

    /// Why a statement starting with `name` but no `=` right after it is refused.
    private func commandReason(afterName name: String) -> String {
        if lexer.operatorFollowsBlanks() {
            return "spaces around '=' are not allowed"
        }
        if Self.declarationBuiltins.contains(name) {
            return "'\(name)' is not supported; write plain NAME=value"
        }
        if name == "source" {
            return "reading other files ('.' or 'source') is not allowed"
        }
        return "commands are not allowed; only NAME=value assignments are"
    }
}

/// The names one assignment's expansions read.
private final class NameReads {
    var names: [String] = []
}

extension ConfigLexer {
    /// True when the text here is `NAME=` or `NAME+=` (another assignment on the line).
    func assignmentFollows() -> Bool {
        guard let first = peek(), Self.isNameCharacter(first, first: true) else { return false }
        var offset = 1
        while let c = peek(offset), Self.isNameCharacter(c, first: false) { offset += 1 }
        return peek(offset) == "=" || (peek(offset) == "+" && peek(offset + 1) == "=")
    }

    /// True when blanks and then `=` or `+=` follow (`NAME = value`).
    func operatorFollowsBlanks() -> Bool {
        var offset = 0
        while peek(offset) == " " || peek(offset) == "\t" { offset += 1 }
        guard offset > 0 else { return false }
        return peek(offset) == "=" || (peek(offset) == "+" && peek(offset + 1) == "=")
    }
}
