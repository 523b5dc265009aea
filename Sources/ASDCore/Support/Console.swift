/// Where the engine reports what it does. The engine says *what* happened;
/// how it looks (colour, layout) is the implementation's business.
public protocol Log: Sendable {
    /// One line a person or the journal should see.
    func info(_ message: String)
    /// The one-line result of a command ("Resync successful"): journal priority notice.
    func notice(_ message: String)
    /// Detail shown only with DEBUG=1.
    func debug(_ message: String)
    /// Something went wrong but the operation continues.
    func warning(_ message: String)
    /// True when progress output makes sense (stdout is a terminal).
    var showsProgress: Bool { get }
    /// Replaces the current progress line; "" clears it.
    func progress(_ line: String)
}

extension Log {
    public func progress(_ line: String) {}
    public func notice(_ message: String) { info(message) }
}

/// A log that discards everything (tests, and callers that only want the result).
public struct NullLog: Log {
    public init() {}
    public func info(_ message: String) {}
    public func debug(_ message: String) {}
    public func warning(_ message: String) {}
    public var showsProgress: Bool { false }
}

/// Text styles used by the CLI; rendered only when colour is on.
public enum Style: Sendable {
    case bold, red, green, blue

    var code: String {
        switch self {
        case .bold: return "\u{1B}[01m"
        case .red: return "\u{1B}[01;31m"
        case .green: return "\u{1B}[01;32m"
        case .blue: return "\u{1B}[01;34m"
        }
    }
}

/// Console output: stdout for information, stderr for errors and warnings.
/// No colour unless stdout is a terminal and NO_COLOR is unset. A stream that
/// is the journal's gets a priority prefix on every line (`LogLevel`).
public struct Console: Log {
    public let colour: Bool
    public let debugEnabled: Bool
    public let showsProgress: Bool
    public let journal: JournalStreams

    public init(colour: Bool, debugEnabled: Bool, showsProgress: Bool, journal: JournalStreams = .none) {
        self.colour = colour
        self.debugEnabled = debugEnabled
        self.showsProgress = showsProgress
        self.journal = journal
    }

    /// Decides colour and progress from the terminal and the environment.
    public static func forCurrentProcess(environment: [String: String]) -> Console {
        let tty = StandardStream.output.isTerminal
        let noColour = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == "dumb"
        return Console(
            colour: tty && !noColour && !dumb,
            debugEnabled: environment["DEBUG"] == "1",
            showsProgress: tty,
            journal: JournalStreams.forCurrentProcess(environment: environment)
        )
    }

    public func styled(_ text: String, _ style: Style) -> String {
        colour ? style.code + text + "\u{1B}[00m" : text
    }

    public func info(_ message: String) { out(message + "\n", .info) }

    public func notice(_ message: String) { out(message + "\n", .notice) }

    public func debug(_ message: String) {
        if debugEnabled { out(message + "\n", .debug) }
    }

    public func warning(_ message: String) {
        err((colour ? styled("Warning:", .red) : "Warning:") + " " + message + "\n", .warning)
    }

    public func error(_ message: String) {
        err((colour ? styled("Error:", .red) : "Error:") + " " + message + "\n", .error)
    }

    /// What `info`, `warning`... write, as it reaches stdout or stderr.
    func rendered(_ text: String, _ level: LogLevel, toError: Bool) -> String {
        journal.text(text, level: level, toError: toError)
    }

    private func out(_ text: String, _ level: LogLevel) { writeOut(rendered(text, level, toError: false)) }
    private func err(_ text: String, _ level: LogLevel) { writeErr(rendered(text, level, toError: true)) }

    public func progress(_ line: String) {
        if showsProgress { writeOut("\r" + line + "\u{1B}[K") }
    }

    /// Writes without a newline (progress lines use "\r"); at info priority
    /// when stdout is the journal.
    public func raw(_ text: String) { out(text, .info) }
}

func writeOut(_ text: String) { StandardStream.output.write(text) }
func writeErr(_ text: String) { StandardStream.error.write(text) }
