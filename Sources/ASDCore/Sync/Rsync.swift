/// What a successful rsync run reported.
public struct RsyncOutcome: Equatable, Sendable {
    /// rsync exited 24: some source files vanished while it copied. Normal
    /// for a directory in use (a cache file deleted mid-copy).
    public var vanishedFiles: Bool

    public init(vanishedFiles: Bool) { self.vanishedFiles = vanishedFiles }
}

/// Runs an `RsyncCommand` through the subprocess runner.
public enum Rsync {
    /// rsync's exit status for "some files vanished before they could be
    /// transferred".
    public static let vanishedExitCode: Int32 = 24

    /// Runs `command`. Exit 0 is success; exit 24 is success with
    /// `vanishedFiles` and an info line; anything else (or a signal) throws
    /// `ASDError.command` with the argv, status and rsync's stderr. With
    /// `log.showsProgress` the progress options are added and rsync's stdout
    /// goes straight to ours; otherwise stdout is discarded.
    public static func run(_ command: RsyncCommand, log: any Log) throws(ASDError) -> RsyncOutcome {
        var effective = command
        effective.progress = command.progress || log.showsProgress
        let argv = effective.argv
        log.debug("Running: " + argv.map(shellQuoted).joined(separator: " "))
        let result = try Subprocess.run(argv, outputPassthrough: effective.progress)
        if result.status == .exited(vanishedExitCode) {
            log.info("Some files in \(command.source) vanished while they were being copied; that is normal for a directory in use.")
            return RsyncOutcome(vanishedFiles: true)
        }
        try result.requireSuccess()
        return RsyncOutcome(vanishedFiles: false)
    }
}
