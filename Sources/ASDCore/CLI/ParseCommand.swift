import ASDCopy
import ASDSystem
/// `asd parse` (preview): a read-only report of what asd manages and where,
/// in upstream's layout, plus the state of the system (units, last write-back,
/// RAM used, VOLATILE's free space); `--json` prints the same as JSON.
/// Spawns at most two processes (systemctl), not one per target.
/// Walks each target once (`FileOps.summarize`), in parallel on big trees.
enum ParseCommand {
    /// The words `asd parse` accepts after the verb.
    static let jsonOption = "--json"

    static func run(_ context: CommandContext) throws(ASDError) {
        let invocation = context.invocation, console = context.console
        if let unknown = context.options.first(where: { $0 != jsonOption }) {
            throw .usage("Unknown option '\(unknown)' for parse; the only one is \(jsonOption).")
        }
        let json = context.options.contains(jsonOption)
        let configPath = ConfigLoader.pathInForce(invocation)
        let settings: Settings
        do throws(ASDError) {
            let loaded = try Settings.loadWithWarnings(path: configPath, environment: context.environment)
            settings = loaded.settings
            for warning in loaded.warnings { console.warning(warning) }
        } catch {
            // A fresh install has an empty list: a preview says what to do, not "error".
            guard case .noTargets = error else { throw error }
            if json {
                let engine = Engine(settings: Settings(whatToSync: [], sourceFile: configPath), invocation: invocation, log: console)
                console.info(ParseReport.gather(engine: engine, configPath: configPath, summary: { _ in nil },
                                                systemd: SystemdState.read).json())
                return
            }
            console.info(Header.text(console: console))
            console.info(" No directories are configured yet: list them in WHATTOSYNC in \(configPath),")
            console.info(" then start asd with 'systemctl enable --now asd' (or 'asd sync').")
            return
        }
        let engine = Engine(settings: settings, invocation: invocation, log: console)
        // One walk per target serves both the hard-link check and "dir size".
        var summaries: [FilePath: TreeSummary?] = [:]
        func summary(_ path: FilePath) -> TreeSummary? {
            if let known = summaries[path] { return known }
            let walked = try? FileOps.summarize(path)
            summaries[path] = walked
            return walked
        }
        try engine.checkTargets(hardLinkedFiles: { summary($0)?.hardLinkedFiles })
        let report = ParseReport.gather(engine: engine, configPath: configPath, summary: summary,
                                        systemd: SystemdState.read)
        for warning in report.keptOutWarnings(file: configPath.description) { console.warning(warning) }
        if json {
            console.info(report.json())
        } else {
            ParseText.print(report, invocation: invocation, console: console)
        }
    }
}

/// First line of parse/clean output: version and distribution.
enum Header {
    static func text(console: Console) -> String {
        let distro = OSRelease.prettyName()
        let title = "Anything-sync-daemon (Swift) v\(Version.string)" + (distro.map { " on \($0)" } ?? "")
        return console.styled(title, .bold) + "\n"
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
