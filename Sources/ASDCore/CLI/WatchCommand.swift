import ASDSystem
/// `asd watch`: the resident watcher of RESYNC_DELAY (doc/DESIGN.md §12), run
/// by asd-watch.service. Root only; does nothing (exit 0, with a message)
/// when asd is not running or the config in force has no RESYNC_DELAY.
enum WatchCommand {
    /// ASD_WATCH_SOURCE: fanotify, inotify or scan instead of the best available.
    static let sourceVariable = "ASD_WATCH_SOURCE"

    static func run(_ context: CommandContext) throws(ASDError) {
        let invocation = context.invocation, console = context.console
        guard ProcessIdentity.isRoot else { throw .notRoot(command: "watch") }
        var only: ChangeSource.Kind?
        if let name = context.environment[sourceVariable], !name.isEmpty {
            guard let kind = ChangeSource.Kind(rawValue: name) else {
                throw .usage("\(sourceVariable)=\(name) is not a change source; use fanotify, inotify or scan.")
            }
            only = kind
        }
        let stop = try ASDError.attempt("create the signal pipe of the watcher of", invocation.daemonFile) {
            () throws(Errno) in try StopRequest.install()
        }
        guard FileOps.exists(invocation.daemonFile) else {
            console.info("ASD is not running; nothing to watch.")
            return
        }
        let (settings, _) = try ConfigLoader.settingsInForce(invocation: invocation, environment: context.environment)
        guard let delay = settings.resyncDelay else {
            console.info("RESYNC_DELAY is not set in \(settings.sourceFile); nothing to watch (the hourly timer writes back).")
            return
        }
        let engine = Engine(settings: settings, invocation: invocation, log: console)
        Watcher(engine: engine, console: console, environment: context.environment, delaySeconds: delay, only: only)
            .run(stopDescriptor: stop)
    }
}
