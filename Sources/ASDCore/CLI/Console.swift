import ASDCopy
import ASDSystem
/// Text styles used by the CLI; rendered only when colour is on.
enum Style: Sendable {
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
struct Console: Log {
    let colour: Bool
    let debugEnabled: Bool
    let showsProgress: Bool
    let journal: JournalStreams

    init(colour: Bool, debugEnabled: Bool, showsProgress: Bool, journal: JournalStreams = .none) {
        self.colour = colour
        self.debugEnabled = debugEnabled
        self.showsProgress = showsProgress
        self.journal = journal
    }

    /// Decides colour and progress from the terminal and the environment.
    static func forCurrentProcess(environment: [String: String]) -> Console {
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

    func styled(_ text: String, _ style: Style) -> String {
        colour ? style.code + text + "\u{1B}[00m" : text
    }

    func info(_ message: String) { out(message + "\n", .info) }

    func notice(_ message: String) { out(message + "\n", .notice) }

    func debug(_ message: String) {
        if debugEnabled { out(message + "\n", .debug) }
    }

    func warning(_ message: String) {
        err((colour ? styled("Warning:", .red) : "Warning:") + " " + message + "\n", .warning)
    }

    func error(_ message: String) {
        err((colour ? styled("Error:", .red) : "Error:") + " " + message + "\n", .error)
    }

    /// What `info`, `warning`... write, as it reaches stdout or stderr.
    func rendered(_ text: String, _ level: LogLevel, toError: Bool) -> String {
        journal.text(text, level: level, toError: toError)
    }

    private func out(_ text: String, _ level: LogLevel) { writeOut(rendered(text, level, toError: false)) }
    private func err(_ text: String, _ level: LogLevel) { writeErr(rendered(text, level, toError: true)) }

    func progress(_ line: String) {
        if showsProgress { writeOut("\r" + line + "\u{1B}[K") }
    }

    /// Writes without a newline (progress lines use "\r"); at info priority
    /// when stdout is the journal.
    func raw(_ text: String) { out(text, .info) }
}

func writeOut(_ text: String) { StandardStream.output.write(text) }
func writeErr(_ text: String) { StandardStream.error.write(text) }
