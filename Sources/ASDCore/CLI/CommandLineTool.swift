import ASDCopy
import ASDSystem
/// Entry point: dispatches upstream's verbs and aliases, returns the exit status.
public enum CommandLineTool {
    public static func run(arguments: [String], environment: [String: String]) -> Int32 {
        let console = Console.forCurrentProcess(environment: environment)
        let invocation = Invocation(environment: environment)
        guard let verb = arguments.first else {
            console.info(Usage.text(invocation: invocation, console: console))
            return 0
        }
        switch verb {
        case "--help", "-h", "help":
            console.info(Usage.text(invocation: invocation, console: console))
            return 0
        case "--version", "-V", "version":
            console.info("asd (Anything-sync-daemon, Swift) \(Version.string)")
            return 0
        default:
            break
        }
        guard let command = Command(verb: verb) else {
            console.error("Unknown command '\(verb)'.\n" + Usage.text(invocation: invocation, console: console))
            return ASDError.usage("").exitCode
        }
        do {
            try command.run(CommandContext(invocation: invocation, console: console, environment: environment,
                                           options: Array(arguments.dropFirst())))
            return 0
        } catch {
            console.error(error.message)
            return error.exitCode
        }
    }
}

/// The verbs asd understands, with upstream's aliases.
enum Command: String, CaseIterable, Sendable {
    case sync, resync, unsync, parse, clean, watch

    init?(verb: String) {
        switch verb {
        case "sync": self = .sync
        case "resync": self = .resync
        case "unsync": self = .unsync
        case "p", "P", "parse", "Parse", "preview", "Preview", "debug": self = .parse
        case "c", "C", "clean", "Clean": self = .clean
        case "watch": self = .watch
        default: return nil
        }
    }

    func run(_ context: CommandContext) throws(ASDError) {
        switch self {
        case .sync, .resync, .unsync:
            try LifecycleCommand.run(self, context: context)
        case .parse:
            try ParseCommand.run(context)
        case .clean:
            try CleanCommand.run(context)
        case .watch:
            try WatchCommand.run(context)
        }
    }
}

/// What every command is given: where this run keeps its state, where it
/// writes, the environment (for `$VAR` in the config) and the words after the
/// command (`--json` for parse).
struct CommandContext {
    let invocation: Invocation
    let console: Console
    let environment: [String: String]
    var options: [String] = []
}
