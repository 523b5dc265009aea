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
/// No colour unless stdout is a terminal and NO_COLOR is unset.
struct Console: Log {
    let colour: Bool
    let debugEnabled: Bool
    let showsProgress: Bool

    init(colour: Bool, debugEnabled: Bool, showsProgress: Bool) {
        self.colour = colour
        self.debugEnabled = debugEnabled
        self.showsProgress = showsProgress
    }

    /// Decides colour and progress from the terminal and the environment.
    static func forCurrentProcess(environment: [String: String]) -> Console {
        let tty = StandardStream.output.isTerminal
        let noColour = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == "dumb"
        return Console(
            colour: tty && !noColour && !dumb,
            debugEnabled: environment["DEBUG"] == "1",
            showsProgress: tty
        )
    }

    func styled(_ text: String, _ style: Style) -> String {
        colour ? style.code + text + "\u{1B}[00m" : text
    }

    func info(_ message: String) { writeOut(message + "\n") }

    func debug(_ message: String) {
        if debugEnabled { writeOut(message + "\n") }
    }

    func warning(_ message: String) {
        writeErr((colour ? styled("Warning:", .red) : "Warning:") + " " + message + "\n")
    }

    func error(_ message: String) {
        writeErr((colour ? styled("Error:", .red) : "Error:") + " " + message + "\n")
    }

    func progress(_ line: String) {
        if showsProgress { writeOut("\r" + line + "\u{1B}[K") }
    }

    /// Writes without a newline (progress lines use "\r").
    func raw(_ text: String) { writeOut(text) }
}

func writeOut(_ text: String) { StandardStream.output.write(text) }
func writeErr(_ text: String) { StandardStream.error.write(text) }
