import Foundation
import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// One config text and the variables it must produce.
struct ConfigAcceptCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let expected: [String: ConfigValue]
    var testDescription: String { name }
}

/// One config text that must be refused, where, and why.
struct ConfigRejectCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let line: Int
    /// A fragment the reason must contain.
    let reason: String
    var testDescription: String { name }
}

private let environment = ["HOME": "/home/u", "ENVDIR": "/srv/env", "SPACED": "p q", "GLOB": "a*", "EMPTY": ""]

private func parse(_ text: String) throws(ASDError) -> ConfigValues {
    try ConfigFile.parse(text, file: "/etc/test.conf", environment: environment)
}

@Suite("ConfigParser")
struct ConfigParserTests {
    static let accepted: [ConfigAcceptCase] = [
        ConfigAcceptCase(name: "empty file", text: "", expected: [:]),
        ConfigAcceptCase(name: "comments and blank lines", text: "# a\n\n   # b\n\t\n#X=1\n", expected: [:]),
        ConfigAcceptCase(name: "bare word", text: "X=value", expected: ["X": .scalar("value")]),
        ConfigAcceptCase(name: "single quotes", text: "X='a b'", expected: ["X": .scalar("a b")]),
        ConfigAcceptCase(name: "double quotes", text: "X=\"a b\"", expected: ["X": .scalar("a b")]),
        ConfigAcceptCase(name: "escaped blank in bare word", text: "X=a\\ b\\q", expected: ["X": .scalar("a bq")]),
        ConfigAcceptCase(name: "concatenated quoting", text: "X='a'\"b\"c", expected: ["X": .scalar("abc")]),
        ConfigAcceptCase(name: "hash inside a word is literal", text: "X=a#b", expected: ["X": .scalar("a#b")]),
        ConfigAcceptCase(name: "comment after value", text: "X=a #c ; $(id)\n", expected: ["X": .scalar("a")]),
        ConfigAcceptCase(name: "indented assignment", text: "  \tX=1  \n", expected: ["X": .scalar("1")]),
        ConfigAcceptCase(name: "double-quote escapes", text: #"X="a\"b\\c\$d\`e""#, expected: ["X": .scalar("a\"b\\c$d`e")]),
        ConfigAcceptCase(name: "other backslashes stay in double quotes", text: #"X="a\qb\n""#, expected: ["X": .scalar(#"a\qb\n"#)]),
        ConfigAcceptCase(name: "continuation in double quotes", text: "X=\"a\\\nb\"\nY=2", expected: ["X": .scalar("ab"), "Y": .scalar("2")]),
        ConfigAcceptCase(name: "continuation in bare word", text: "X=a\\\nb", expected: ["X": .scalar("ab")]),
        ConfigAcceptCase(name: "single quotes are literal", text: #"X='$HOME \n ${A} $(id) `id`'"#,
                   expected: ["X": .scalar(#"$HOME \n ${A} $(id) `id`"#)]),
        ConfigAcceptCase(name: "newline inside quotes", text: "X='a\nb'", expected: ["X": .scalar("a\nb")]),
        ConfigAcceptCase(name: "earlier variable", text: "A=/srv\nB=$A/http\nC=\"${A}x\"",
                   expected: ["A": .scalar("/srv"), "B": .scalar("/srv/http"), "C": .scalar("/srvx")]),
        ConfigAcceptCase(name: "environment variable", text: "X=$HOME/.cache", expected: ["X": .scalar("/home/u/.cache")]),
        ConfigAcceptCase(name: "unset expands to nothing", text: "X=a${NOPE}b$NOPE", expected: ["X": .scalar("ab")]),
        ConfigAcceptCase(name: "config shadows environment", text: "HOME=/h\nX=$HOME", expected: ["HOME": .scalar("/h"), "X": .scalar("/h")]),
        ConfigAcceptCase(name: "later assignment is not seen earlier", text: "X=$A\nA=1", expected: ["X": .scalar(""), "A": .scalar("1")]),
        ConfigAcceptCase(name: "defaults", text: "A=set\nB=${NOPE:-/d}\nC=${A:-/d}\nD=${EMPTY:-x}\nE=${EMPTY-x}\nF=\"${NOPE-$A/y}\"",
                   expected: ["A": .scalar("set"), "B": .scalar("/d"), "C": .scalar("set"), "D": .scalar("x"),
                              "E": .scalar(""), "F": .scalar("set/y")]),
        ConfigAcceptCase(name: "upstream one-line array", text: "WHATTOSYNC=('/srv/http' '/var/lib/monitorix' '/foo/bar')",
                   expected: ["WHATTOSYNC": .array(["/srv/http", "/var/lib/monitorix", "/foo/bar"])]),
        ConfigAcceptCase(name: "man page multi-line array", text: " WHATTOSYNC=(\n '/var/lib/monitorix'\n '/srv/http'\n '/foo/bar'\n )\n",
                   expected: ["WHATTOSYNC": .array(["/var/lib/monitorix", "/srv/http", "/foo/bar"])]),
        ConfigAcceptCase(name: "array with comments and blank lines", text: "X=( # first\n\n  /a # the a\n# whole line\n\t\"/b c\"\n\n)",
                   expected: ["X": .array(["/a", "/b c"])]),
        ConfigAcceptCase(name: "array elements with hash", text: "Y=(a#b c #d\ne)", expected: ["Y": .array(["a#b", "c", "e"])]),
        ConfigAcceptCase(name: "array append", text: "X=('/a')\nX+=( '/b' \"/c\" )", expected: ["X": .array(["/a", "/b", "/c"])]),
        ConfigAcceptCase(name: "array append to unset", text: "X+=(b)", expected: ["X": .array(["b"])]),
        ConfigAcceptCase(name: "array append to string", text: "X=a\nX+=(b)", expected: ["X": .array(["a", "b"])]),
        ConfigAcceptCase(name: "string append", text: "X=/a\nX+=b", expected: ["X": .scalar("/ab")]),
        ConfigAcceptCase(name: "string append to environment", text: "HOME+=/x", expected: ["HOME": .scalar("/home/u/x")]),
        ConfigAcceptCase(name: "string append to array", text: "X=(a b)\nX+=c", expected: ["X": .array(["ac", "b"])]),
        ConfigAcceptCase(name: "string assignment to array sets element 0", text: "X=(a b)\nX=z", expected: ["X": .array(["z", "b"])]),
        ConfigAcceptCase(name: "expansion in array elements", text: "D=/srv\nX=($D/a \"$D/b\" '$D/c' ${ENVDIR})",
                   expected: ["D": .scalar("/srv"), "X": .array(["/srv/a", "/srv/b", "$D/c", "/srv/env"])]),
        ConfigAcceptCase(name: "unquoted expansion splits in arrays", text: "X=(a$SPACED \"$SPACED\")", expected: ["X": .array(["ap", "q", "p q"])]),
        ConfigAcceptCase(name: "no splitting in plain assignments", text: "X=$SPACED", expected: ["X": .scalar("p q")]),
        ConfigAcceptCase(name: "empty unquoted expansion vanishes", text: "X=($NOPE a \"\" '')", expected: ["X": .array(["a", "", ""])]),
        ConfigAcceptCase(name: "array as $NAME gives first element", text: "A=(x y)\nB=$A\nC=${A}", expected: ["A": .array(["x", "y"]), "B": .scalar("x"), "C": .scalar("x")]),
        ConfigAcceptCase(name: "two assignments on one line", text: "A=1 B=$A", expected: ["A": .scalar("1"), "B": .scalar("1")]),
        ConfigAcceptCase(name: "empty value then assignment", text: "X= Y=2", expected: ["X": .scalar(""), "Y": .scalar("2")]),
        ConfigAcceptCase(name: "empty value", text: "X=\nY=''\nZ=\"\" # c", expected: ["X": .scalar(""), "Y": .scalar(""), "Z": .scalar("")]),
        ConfigAcceptCase(name: "empty arrays", text: "X=()\nY=(\n)\nZ=( # nothing\n)", expected: ["X": .array([]), "Y": .array([]), "Z": .array([])]),
        ConfigAcceptCase(name: "pattern characters are literal in plain values", text: "X=*.c?[a]{b,c}", expected: ["X": .scalar("*.c?[a]{b,c}")]),
        ConfigAcceptCase(name: "quoted pattern characters in arrays", text: "X=('*' \"?\" \\[ '{a,b}')", expected: ["X": .array(["*", "?", "[", "{a,b}"])]),
        ConfigAcceptCase(name: "lone dollar is literal", text: "X=a$\nY=\"$\"\nZ=\"a $ b\"", expected: ["X": .scalar("a$"), "Y": .scalar("$"), "Z": .scalar("a $ b")]),
        ConfigAcceptCase(name: "quoted tilde and tilde inside a word", text: "X='~/a'\nY=a~b\nZ=\"~\"", expected: ["X": .scalar("~/a"), "Y": .scalar("a~b"), "Z": .scalar("~")]),
        ConfigAcceptCase(name: "continuation between assignments", text: "A=1 \\\n  B=2", expected: ["A": .scalar("1"), "B": .scalar("2")]),
        ConfigAcceptCase(name: "array continued with backslash", text: "X=('/a' \\\n '/b')", expected: ["X": .array(["/a", "/b"])]),
        ConfigAcceptCase(name: "operators inside quotes", text: "X='a;b&c|d<e>f(g)`h`'\nY=\"; & | < > ( )\"", expected: ["X": .scalar("a;b&c|d<e>f(g)`h`"), "Y": .scalar("; & | < > ( )")]),
        ConfigAcceptCase(name: "unicode", text: "X='/srv/Müsik ✓'", expected: ["X": .scalar("/srv/Müsik ✓")]),
        ConfigAcceptCase(name: "no trailing newline after array", text: "X=(a)", expected: ["X": .array(["a"])]),
    ]

    @Test(arguments: accepted)
    func accepts(_ testCase: ConfigAcceptCase) throws {
        let values = try parse(testCase.text)
        #expect(values.variables == testCase.expected)
    }

    static let rejected: [ConfigRejectCase] = [
        ConfigRejectCase(name: "command", text: "touch /tmp/x", line: 1, reason: "commands are not allowed"),
        ConfigRejectCase(name: "command on a later line", text: "# c\nA=1\n\n  rm -rf /x  \n", line: 4, reason: "commands are not allowed"),
        ConfigRejectCase(name: "bare name", text: "X", line: 1, reason: "commands are not allowed"),
        ConfigRejectCase(name: "command after assignment", text: "X=1 echo hi", line: 1, reason: "commands are not allowed"),
        ConfigRejectCase(name: "if statement", text: "if true; then X=1; fi", line: 1, reason: "commands are not allowed"),
        ConfigRejectCase(name: "command substitution", text: "X=$(id)", line: 1, reason: "command substitution is not allowed"),
        ConfigRejectCase(name: "command substitution in double quotes", text: "A=1\nX=\"a $(id)\"", line: 2, reason: "command substitution is not allowed"),
        ConfigRejectCase(name: "backticks", text: "X=`id`", line: 1, reason: "command substitution is not allowed"),
        ConfigRejectCase(name: "backticks in double quotes", text: "X=\"`id`\"", line: 1, reason: "command substitution is not allowed"),
        ConfigRejectCase(name: "command substitution as statement", text: "$(id)", line: 1, reason: "command substitution is not allowed"),
        ConfigRejectCase(name: "command substitution in default", text: "X=${A:-$(id)}", line: 1, reason: "command substitution is not allowed"),
        ConfigRejectCase(name: "command substitution in array", text: "X=(\n '/a'\n $(id)\n)", line: 3, reason: "command substitution is not allowed"),
        ConfigRejectCase(name: "arithmetic", text: "X=$((1+2))", line: 1, reason: "arithmetic expansion is not allowed"),
        ConfigRejectCase(name: "old arithmetic", text: "X=$[1+2]", line: 1, reason: "arithmetic expansion is not allowed"),
        ConfigRejectCase(name: "semicolon", text: "X=a;Y=b", line: 1, reason: "';' is not allowed"),
        ConfigRejectCase(name: "semicolon after quotes", text: "X='a';", line: 1, reason: "';' is not allowed"),
        ConfigRejectCase(name: "ampersand", text: "X=a &", line: 1, reason: "'&' is not allowed"),
        ConfigRejectCase(name: "pipe", text: "X=a|b", line: 1, reason: "'|' is not allowed"),
        ConfigRejectCase(name: "output redirection", text: "X=a>b", line: 1, reason: "redirection is not allowed"),
        ConfigRejectCase(name: "input redirection", text: "X=a <b", line: 1, reason: "redirection is not allowed"),
        ConfigRejectCase(name: "unterminated single quote", text: "A=1\nX='abc\nB=2\n", line: 2, reason: "unterminated single quote"),
        ConfigRejectCase(name: "unterminated double quote", text: "A=1\n\nX=\"abc\nB=2\n", line: 3, reason: "unterminated double quote"),
        ConfigRejectCase(name: "unterminated array", text: "A=1\nX=(\n '/a'\n '/b'\n", line: 2, reason: "unterminated array"),
        ConfigRejectCase(name: "unterminated braces", text: "X=${HOME", line: 1, reason: "unterminated ${"),
        ConfigRejectCase(name: "array subscript expansion", text: "X=${A[0]}", line: 1, reason: "only ${NAME}"),
        ConfigRejectCase(name: "length expansion", text: "X=${#A}", line: 1, reason: "only ${NAME}"),
        ConfigRejectCase(name: "assigning default", text: "X=${A:=b}", line: 1, reason: "only ${NAME}"),
        ConfigRejectCase(name: "substitution expansion", text: "X=\"${A/a/b}\"", line: 1, reason: "only ${NAME}"),
        ConfigRejectCase(name: "quotes in default", text: "X=\"${A:-'q'}\"", line: 1, reason: "quotes inside ${...}"),
        ConfigRejectCase(name: "special parameter", text: "X=$1", line: 1, reason: "special parameter '$1'"),
        ConfigRejectCase(name: "pid parameter", text: "X=\"$$\"", line: 1, reason: "special parameter '$$'"),
        ConfigRejectCase(name: "ANSI-C quoting", text: "X=$'a'", line: 1, reason: "quoting is not supported"),
        ConfigRejectCase(name: "glob star in array", text: "X=(/srv/*)", line: 1, reason: "unquoted '*'"),
        ConfigRejectCase(name: "glob question mark in array", text: "X=(\n/a?\n)", line: 2, reason: "unquoted '?'"),
        ConfigRejectCase(name: "glob bracket in array", text: "X=([ab])", line: 1, reason: "unquoted '['"),
        ConfigRejectCase(name: "brace expansion in array", text: "X=(/srv/{a,b})", line: 1, reason: "unquoted '{'"),
        ConfigRejectCase(name: "pattern from unquoted expansion in array", text: "X=($GLOB)", line: 1, reason: "double quotes"),
        ConfigRejectCase(name: "tilde", text: "X=~/foo", line: 1, reason: "use an absolute path"),
        ConfigRejectCase(name: "tilde in array", text: "X=('/a' ~/foo)", line: 1, reason: "use an absolute path"),
        ConfigRejectCase(name: "tilde after colon", text: "X=/a:~/b", line: 1, reason: "use an absolute path"),
        ConfigRejectCase(name: "spaces around =", text: "X = 1", line: 1, reason: "spaces around '='"),
        ConfigRejectCase(name: "space before =", text: "A=1\nX =1", line: 2, reason: "spaces around '='"),
        ConfigRejectCase(name: "space after =", text: "X= /srv", line: 1, reason: "spaces around '='"),
        ConfigRejectCase(name: "space after = before array", text: "X= ('/srv')", line: 1, reason: "spaces around '='"),
        ConfigRejectCase(name: "export", text: "export X=1", line: 1, reason: "'export' is not supported"),
        ConfigRejectCase(name: "declare", text: "declare -a X=(a)", line: 1, reason: "'declare' is not supported"),
        ConfigRejectCase(name: "source", text: "source /etc/other.conf", line: 1, reason: "reading other files"),
        ConfigRejectCase(name: "dot", text: ". /etc/other.conf", line: 1, reason: "reading other files"),
        ConfigRejectCase(name: "element assignment", text: "X[0]=a", line: 1, reason: "one array element"),
        ConfigRejectCase(name: "expansion as command", text: "$X", line: 1, reason: "commands are not allowed"),
        ConfigRejectCase(name: "text after array", text: "X=(a)b", line: 1, reason: "after ')'"),
        ConfigRejectCase(name: "hash right after array", text: "X=(a)#b", line: 1, reason: "after ')'"),
        ConfigRejectCase(name: "closing paren in value", text: "X=a)", line: 1, reason: "')' is not allowed"),
        ConfigRejectCase(name: "nested parens", text: "X=(a (b))", line: 1, reason: "'(' is not allowed"),
        ConfigRejectCase(name: "subshell", text: "(X=1)", line: 1, reason: "'(' is not allowed"),
        ConfigRejectCase(name: "lone carriage return (CRLF is accepted)", text: "A=1\nX=1\r", line: 2, reason: "carriage return"),
        ConfigRejectCase(name: "function definition", text: "f() { X=1; }", line: 1, reason: "commands are not allowed"),
    ]

    @Test(arguments: rejected)
    func rejects(_ testCase: ConfigRejectCase) throws {
        let error = try #require(throws: ASDError.self) { try parse(testCase.text) }
        guard case .configSyntax(let file, let line, _, let reason) = error else {
            Issue.record("expected configSyntax, got \(error)")
            return
        }
        #expect(file == "/etc/test.conf")
        #expect(line == testCase.line)
        #expect(reason.contains(testCase.reason), "reason: \(reason)")
    }

    @Test func errorNamesFileLineAndTrimmedText() throws {
        let text = "# asd config\nWHATTOSYNC=('/srv/http')\n\n   VOLATILE=$(mktemp -d)   \n"
        let error = try #require(throws: ASDError.self) {
            try ConfigFile.parse(text, file: "/etc/asd-custom.conf", environment: [:])
        }
        #expect(error == .configSyntax(file: "/etc/asd-custom.conf", line: 4, text: "VOLATILE=$(mktemp -d)",
                                       reason: "command substitution is not allowed"))
        #expect(error.message.hasPrefix("/etc/asd-custom.conf:4: command substitution is not allowed: VOLATILE=$(mktemp -d)\n"))
    }

    @Test func unterminatedQuoteQuotesTheLineWhereItStarted() throws {
        let error = try #require(throws: ASDError.self) {
            try parse("A=1\n  B='/srv/http\nC=2\n")
        }
        #expect(error == .configSyntax(file: "/etc/test.conf", line: 2, text: "B='/srv/http", reason: "unterminated single quote"))
    }

    @Test func commandSubstitutionIsNeverRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("asd-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let victim = dir.appendingPathComponent("pwned-\(UUID().uuidString)").path
        let config = dir.appendingPathComponent("asd.conf").path
        let text = "WHATTOSYNC=('/srv/http')\nX=$(touch \(victim))\nY=`touch \(victim)`\n"
        try text.write(toFile: config, atomically: false, encoding: .utf8)

        let error = try #require(throws: ASDError.self) { try Settings.load(path: config, environment: [:]) }
        #expect(error == .configSyntax(file: FilePath(config), line: 2, text: "X=$(touch \(victim))", reason: "command substitution is not allowed"))
        #expect(!FileManager.default.fileExists(atPath: victim))
    }

    @Test func keepsAssignmentOrder() throws {
        let values = try parse("B=1\nA=2\nB=3\nC+=(x)")
        #expect(values.order == ["B", "A", "C"])
        #expect(values.string("B") == "3")
        #expect(values.string("NOPE") == nil)
    }

    /// Our own rendering of what upstream's shipped asd.conf contains: prose
    /// comments with quotes and apostrophes, commented examples, `WHATTOSYNC=()`.
    @Test func upstreamStyleConfigParsesToEmptyTargets() throws {
        let text = """
            #
            # /etc/asd.conf
            #
            ## Don't edit this while asd is running; it's read at start-up.

            # Example: list the directories, it's recursive.
            #WHATTOSYNC=('/srv/http' '/var/lib/monitorix' '/foo/bar')
            WHATTOSYNC=()

            # Where the copies live ("tmpfs" only).
            #VOLATILE="/tmp"
            # ENABLE_HARDLINK_SAFETY_CHECK=1
            #USE_OVERLAYFS="no"
            #USE_BACKUPS="yes"
            #BACKUP_LIMIT=5

            """
        let values = try parse(text)
        #expect(values.variables == ["WHATTOSYNC": .array([])])
        #expect(throws: ASDError.noTargets(file: "/etc/test.conf")) { try Settings.from(values, file: "/etc/test.conf") }
    }

    /// Bytes that are not UTF-8 (a Latin-1 path) pass through quotes, bare
    /// words and expansions unchanged; nothing is rejected or replaced.
    @Test func bytesThatAreNotUTF8AreKept() throws {
        let latin1: [UInt8] = [0xe9]
        let text = Array("A='/srv/caf".utf8) + latin1 + Array("'\nB=\"/srv/d".utf8) + latin1 + Array("\"\nC=/srv/b".utf8)
            + latin1 + Array("\nD=(\"$A\" x".utf8) + latin1 + Array(")\n".utf8)
        let values = try ConfigFile.parse(text, file: "/etc/test.conf", environment: [:])
        let cafe = FilePath(bytes: Array("/srv/caf".utf8) + latin1)
        #expect(values["A"] == .scalar(cafe))
        #expect(values["B"] == .scalar(FilePath(bytes: Array("/srv/d".utf8) + latin1)))
        #expect(values["C"] == .scalar(FilePath(bytes: Array("/srv/b".utf8) + latin1)))
        #expect(values["D"] == .array([cafe, FilePath(bytes: Array("x".utf8) + latin1)]))
    }

    /// An error on a line holding such bytes quotes it escaped, never with U+FFFD.
    @Test func errorsShowBytesEscaped() {
        let text = Array("X=/srv/caf".utf8) + [0xe9] + Array(" ; id\n".utf8)
        #expect(throws: ASDError.configSyntax(file: "/etc/test.conf", line: 1, text: "X=/srv/caf\\xe9 ; id",
                                              reason: "';' is not allowed; write one assignment per line")) {
            try ConfigFile.parse(text, file: "/etc/test.conf", environment: [:])
        }
    }

    @Test func shippedConfigParsesToEmptyTargets() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/asd.conf").standardized.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let values = try parse(text)
        #expect(values.variables == ["WHATTOSYNC": .array([])])
    }
}
