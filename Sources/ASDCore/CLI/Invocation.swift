import ASDCopy
import ASDSystem
/// Where this run of asd reads its config and keeps its state, from the
/// environment exactly as upstream computes it (doc/DESIGN.md §2).
struct Invocation: Equatable, Sendable {
    static let defaultConfigPath: FilePath = "/etc/asd.conf"
    static let defaultDaemonFile: FilePath = "/run/asd"

    /// `ASDCONF` or /etc/asd.conf.
    let configPath: FilePath
    /// `asd`, or `asd-` + 16 hex digits of sha256(realpath(config) + "\n").
    let instanceName: String
    /// `DAEMON_FILE`, or /run/<instanceName> for a non-default config.
    let daemonFile: FilePath
    /// /run/<instanceName>-lock.
    let lockPath: FilePath
    /// `DEBUG=1`.
    let debug: Bool

    /// The snapshot of the config taken at sync: `$DAEMON_FILE.conf`.
    var configSnapshotPath: FilePath { daemonFile + ".conf" }

    /// `$DAEMON_FILE.stage`: where write-back mounts a target's parent.
    var stagingMountPoint: FilePath { daemonFile + ".stage" }

    /// - Parameter resolve: realpath(1) of the config (injectable for tests).
    init(environment: [String: String], resolve: (FilePath) -> FilePath? = resolvedPath) {
        let config = environment["ASDCONF"].flatMap { $0.isEmpty ? nil : FilePath($0) } ?? Self.defaultConfigPath
        var daemonFile = environment["DAEMON_FILE"].flatMap { $0.isEmpty ? nil : FilePath($0) } ?? Self.defaultDaemonFile
        var name = "asd"
        if config != Self.defaultConfigPath {
            name = Self.instanceName(forResolvedConfig: resolve(config) ?? config)
            if daemonFile == Self.defaultDaemonFile {
                daemonFile = "/run/\(name)"
            }
        }
        self.configPath = config
        self.instanceName = name
        self.daemonFile = daemonFile
        self.lockPath = "/run/\(name)-lock"
        self.debug = environment["DEBUG"] == "1"
    }

    /// `asd-` + the first 16 hex digits of SHA-256 of `path` followed by a newline.
    static func instanceName(forResolvedConfig path: FilePath) -> String {
        "asd-" + String(SHA256.hexDigest(path.bytes + [0x0a]).prefix(16))
    }
}
