/// The syslog priority of a line asd writes (sd-daemon(3)). Under systemd,
/// stdout and stderr are journal streams, and a line that starts with `<N>`
/// is logged at priority N (`SyslogLevelPrefix=`, on by default), so that
/// `journalctl -p warning` or `-p err` shows what went wrong. On a terminal or
/// a plain pipe the prefix is left out (doc/DESIGN.md §8).
public enum LogLevel: Int, Sendable, CaseIterable {
    case error = 3
    case warning = 4
    /// The one-line result of sync, resync and unsync.
    case notice = 5
    case info = 6
    case debug = 7

    /// `<N>`.
    public var prefix: String { "<\(rawValue)>" }

    /// `text` with `<N>` at the start of every line; a final newline ends the
    /// last line and starts no new one. The journal reads each line on its own,
    /// so a message of several lines needs the prefix on each.
    public func prefixingLines(_ text: String) -> String {
        var result = ""
        var atLineStart = true
        for character in text {
            if atLineStart { result += prefix }
            result.append(character)
            atLineStart = character == "\n"
        }
        return result
    }
}

/// Which of stdout and stderr are journal streams (`$JOURNAL_STREAM`), so
/// their lines get priority prefixes.
public struct JournalStreams: Equatable, Sendable {
    public var output: Bool
    public var error: Bool

    public init(output: Bool = false, error: Bool = false) {
        self.output = output
        self.error = error
    }

    /// Neither: a terminal, a pipe, tests.
    public static let none = JournalStreams()

    /// Compares `$JOURNAL_STREAM` with fstat(2) of descriptors 1 and 2.
    public static func forCurrentProcess(environment: [String: String]) -> JournalStreams {
        let stream = environment["JOURNAL_STREAM"]
        return JournalStreams(output: StandardStream.output.isJournalStream(stream),
                              error: StandardStream.error.isJournalStream(stream))
    }

    /// What to write to stdout (`toError` false) or stderr for a message at `level`.
    public func text(_ text: String, level: LogLevel, toError: Bool) -> String {
        (toError ? error : output) ? level.prefixingLines(text) : text
    }
}
