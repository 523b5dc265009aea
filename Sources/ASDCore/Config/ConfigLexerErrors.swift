import ASDCopy
import ASDSystem
/// The lexer's error messages: the file, the line number, the line as it
/// is written (bytes that are not UTF-8 escaped as `\xNN`) and the reason.
extension ConfigLexer {
    /// A syntax error at `line` (default: the current line), quoting that line.
    func error(_ reason: String, line: Int? = nil) -> ASDError {
        let number = line ?? self.line
        let text = number - 1 < lines.count ? lines[number - 1] : ""
        return .configSyntax(file: file, line: number, text: Self.trimmed(text).description, reason: reason)
    }

    static func trimmed(_ text: FilePath) -> FilePath {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }
        guard let first = text.bytes.firstIndex(where: { !blank($0) }),
              let last = text.bytes.lastIndex(where: { !blank($0) }) else { return "" }
        return FilePath(text.bytes[first...last])
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
        default: return "unexpected '\(FilePath(Self.byte(c)))'"
        }
    }
}
