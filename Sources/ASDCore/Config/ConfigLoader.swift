import ASDCopy
import ASDSystem
/// Which config file applies: the snapshot `$DAEMON_FILE.conf` while asd runs
/// (edits to the live file apply at the next start), else `ASDCONF`.
enum ConfigLoader {
    static func pathInForce(_ invocation: Invocation) -> FilePath {
        FileOps.exists(invocation.configSnapshotPath) ? invocation.configSnapshotPath : invocation.configPath
    }

    /// The settings in force, read (once) and parsed from `pathInForce`, with
    /// the warnings for what the file sets that asd does not use.
    static func settingsInForce(invocation: Invocation, environment: [String: String]) throws(ASDError) -> (settings: Settings, warnings: [String]) {
        try Settings.loadWithWarnings(path: pathInForce(invocation), environment: environment)
    }
}
