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
    /// "Some files/attrs were not transferred".
    static let partialExitCode: Int32 = 23

    /// rsync -A exits 23, not 24, when a source file vanishes between its stat and
    /// the read of its ACL (`rsync: [sender] get_acl: sys_acl_get_file(x, ...): No
    /// such file or directory (2)`). True when every line of `stderr` is of that kind,
    /// a "file has vanished" note or rsync's closing summary: nothing failed but
    /// sources that are gone. Errors on the receiving side never qualify.
    static func onlyVanishedSources(stderr: String) -> Bool {
        // Only the per-file ACL and xattr readers: a missing source root
        // ("[sender] change_dir ... failed") is a real failure.
        let readers = ["rsync: [sender] get_acl: ", "rsync: [sender] rsync_xal_get: ", "rsync: [sender] get_xattr"]
        func vanishedWhileRead(_ line: Substring) -> Bool {
            readers.contains { line.hasPrefix($0) } && line.hasSuffix(": No such file or directory (2)")
        }
        let lines = stderr.split(separator: "\n").filter { !$0.isEmpty }
        return lines.contains(where: vanishedWhileRead) && lines.allSatisfy { line in
            line.hasPrefix("file has vanished: ")
                || vanishedWhileRead(line)
                || line.hasPrefix("rsync error: some files/attrs were not transferred")
                || line.hasPrefix("rsync warning: some files vanished")
        }
    }

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
        if result.status == .exited(vanishedExitCode)
            || (result.status == .exited(partialExitCode) && onlyVanishedSources(stderr: result.standardError)) {
            log.info("Some files in \(command.source) vanished while they were being copied; that is normal for a directory in use.")
            return RsyncOutcome(vanishedFiles: true)
        }
        try result.requireSuccess()
        return RsyncOutcome(vanishedFiles: false)
    }
}
