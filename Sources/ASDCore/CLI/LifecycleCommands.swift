/// sync, resync and unsync: root, the instance lock, the running state, then
/// the engine with the config in force.
enum LifecycleCommand {
    static func run(_ command: Command, invocation: Invocation, console: Console, environment: [String: String]) throws(ASDError) {
        guard ProcessIdentity.isRoot else {
            // As upstream: asking a stopped asd to resync/unsync is not an error.
            if command != .sync && !FileOps.exists(invocation.daemonFile) {
                console.info(console.styled("ASD is not running", .red))
                return
            }
            throw .notRoot(command: command.rawValue)
        }
        let lock = try FileLock.acquire(path: invocation.lockPath) {
            console.info(console.styled("Waiting for lock...", .red))
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
        let (settings, warnings) = try Settings.loadWithWarnings(path: ConfigLoader.pathInForce(invocation), environment: environment)
        // Said when the config is taken up; resync and unsync use the same snapshot.
        if command == .sync { for warning in warnings { console.warning(warning) } }
        let engine = Engine(settings: settings, invocation: invocation, log: console)
        console.debug("Instance \(invocation.instanceName), config \(settings.sourceFile), daemon file \(invocation.daemonFile), lock \(invocation.lockPath)")
        switch command {
        case .sync:
            try engine.checkDependencies()
            try engine.checkVolatile()
            try engine.checkTargets()
            try engine.sync()
        case .resync:
            try engine.checkDependencies()
            try engine.resync()
        case .unsync:
            try engine.checkDependencies()
            try engine.unsync()
        case .parse, .clean:
            break
        }
    }
}

/// Which config file applies: the snapshot `$DAEMON_FILE.conf` while asd runs
/// (edits to the live file apply at the next start), else `ASDCONF`.
enum ConfigLoader {
    static func pathInForce(_ invocation: Invocation) -> String {
        FileOps.exists(invocation.configSnapshotPath) ? invocation.configSnapshotPath : invocation.configPath
    }

    static func settingsInForce(invocation: Invocation, environment: [String: String]) throws(ASDError) -> Settings {
        try Settings.load(path: pathInForce(invocation), environment: environment)
    }
}
