/// Entry point: dispatches upstream's verbs and aliases, returns the exit status.
public enum CommandLineTool {
    public static func run(arguments: [String], environment: [String: String]) -> Int32 {
        let console = Console.forCurrentProcess(environment: environment)
        let invocation = Invocation(environment: environment)
        guard let verb = arguments.first else {
            console.info(Usage.text(invocation: invocation, console: console))
            return 0
        }
        guard let command = Command(verb: verb) else {
            console.error("Unknown command '\(verb)'.\n" + Usage.text(invocation: invocation, console: console))
            return ASDError.usage("").exitCode
        }
        do {
            try command.run(invocation: invocation, console: console, environment: environment,
                            options: Array(arguments.dropFirst()))
            return 0
        } catch {
            console.error(error.message)
            return error.exitCode
        }
    }
}

/// The verbs asd understands, with upstream's aliases.
public enum Command: String, CaseIterable, Sendable {
    case sync, resync, unsync, parse, clean

    public init?(verb: String) {
        switch verb {
        case "sync": self = .sync
        case "resync": self = .resync
        case "unsync": self = .unsync
        case "p", "P", "parse", "Parse", "preview", "Preview", "debug": self = .parse
        case "c", "C", "clean", "Clean": self = .clean
        default: return nil
        }
    }

    func run(invocation: Invocation, console: Console, environment: [String: String], options: [String] = []) throws(ASDError) {
        switch self {
        case .sync, .resync, .unsync:
            try LifecycleCommand.run(self, invocation: invocation, console: console, environment: environment)
        case .parse:
            try ParseCommand.run(invocation: invocation, console: console, environment: environment, options: options)
        case .clean:
            try CleanCommand.run(invocation: invocation, console: console, environment: environment)
        }
    }
}

enum Usage {
    static func text(invocation: Invocation, console: Console) -> String {
        """
        \(console.styled("Anything-sync-daemon (Swift) v\(Version.string)", .bold))

         asd [command]
          preview  Parse the config file (\(invocation.configPath)) to see what will be managed.
                   With --json: the same, and the state of the system, as JSON (see asd(1)).
          clean    Delete (without prompting) ALL crash-recovery archives.
          resync   Write the tmpfs copies back to disk. Must be run as root.
          sync     Move the targets into tmpfs. Must be run as root; prefer 'systemctl start asd'.
          unsync   Write back and put the targets on disk again. Must be run as root; prefer 'systemctl stop asd'.

         Environment: ASDCONF (config, default /etc/asd.conf), DAEMON_FILE (default /run/asd), DEBUG=1.
        """
    }
}

public enum Version {
    public static let string = "6.0.0"
}
