import ASDCopy
import ASDSystem
/// sync, resync and unsync: root, the instance lock, the running state, then
/// the engine with the config in force.
enum LifecycleCommand {
    static func run(_ command: Command, context: CommandContext) throws(ASDError) {
        let invocation = context.invocation, console = context.console
        guard ProcessIdentity.isRoot else {
            // As upstream: asking a stopped asd to resync/unsync is not an error.
            if command != .sync && !FileOps.exists(invocation.daemonFile) {
                console.info(console.styled("ASD is not running", .red))
                return
            }
            throw .notRoot(command: command.rawValue)
        }
        // Before the wait for the lock, so a SIGTERM while waiting ends the
        // wait (FileLock watches the recorded signals) instead of killing us.
        Signals.install()
        let lock: FileLock
        do throws(FileLock.Failure) {
            lock = try FileLock.acquire(path: invocation.lockPath) {
                console.info(console.styled("Waiting for lock...", .red))
            }
        } catch {
            throw ASDError(error, lock: invocation.lockPath)
        }
        defer { lock.release() }

        let running = FileOps.exists(invocation.daemonFile)
        switch (command, running) {
        case (.sync, true):
            console.info(console.styled("ASD is already running", .green))
            return
        case (.resync, false), (.unsync, false):
            console.info(console.styled("ASD is not running", .red))
            return
        default:
            break
        }
        let (settings, warnings) = try ConfigLoader.settingsInForce(invocation: invocation, environment: context.environment)
        // Said when the config is taken up; resync and unsync use the same snapshot.
        if command == .sync { for warning in warnings { console.warning(warning) } }
        let engine = Engine(settings: settings, invocation: invocation, log: console)
        console.debug("Instance \(invocation.instanceName), config \(settings.sourceFile), daemon file \(invocation.daemonFile), lock \(invocation.lockPath)")
        var synced = false
        // After every run that got this far, failed or not: the metrics (and
        // their counters) say what the write-back attempts did.
        defer { engine.publishMetrics(synced: synced) }
        switch command {
        case .sync:
            try engine.checkDependencies()
            try engine.checkVolatile()
            try engine.checkTargets()
            try engine.sync()
            synced = true
        case .resync:
            try engine.checkDependencies()
            try engine.resync()
        case .unsync:
            try engine.checkDependencies()
            try engine.unsync()
        case .parse, .clean, .watch:
            break
        }
    }
}
