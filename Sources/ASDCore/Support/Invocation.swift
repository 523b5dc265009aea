/// Where this run of asd reads its config and keeps its state, from the
/// environment exactly as upstream computes it (SPEC §1).
public struct Invocation: Equatable, Sendable {
    public static let defaultConfigPath = "/etc/asd.conf"
    public static let defaultDaemonFile = "/run/asd"

    /// `ASDCONF` or /etc/asd.conf.
    public let configPath: String
    /// `asd`, or `asd-` + 16 hex digits of sha256(realpath(config) + "\n").
    public let instanceName: String
    /// `DAEMON_FILE`, or /run/<instanceName> for a non-default config.
    public let daemonFile: String
    /// /run/<instanceName>-lock.
    public let lockPath: String
    /// `DEBUG=1`.
    public let debug: Bool

    /// The snapshot of the config taken at sync: `$DAEMON_FILE.conf`.
    public var configSnapshotPath: String { daemonFile + ".conf" }

    /// - Parameter resolve: realpath(1) of the config (injectable for tests).
    public init(environment: [String: String], resolve: (String) -> String? = resolvedPath) {
        let config = environment["ASDCONF"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultConfigPath
        var daemonFile = environment["DAEMON_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultDaemonFile
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
    public static func instanceName(forResolvedConfig path: String) -> String {
        "asd-" + String(SHA256.hexDigest(Array((path + "\n").utf8)).prefix(16))
    }
}
