import ASDSystem
/// METRICS_DIR: where asd writes `asd.prom` for node_exporter's textfile
/// collector after every write-back attempt (see asd(1), METRICS).
enum MetricsDirectory: Equatable, Sendable {
    /// Not set: Debian's textfile directory when it exists, else nowhere.
    case automatic
    /// Set to an absolute path (trailing slashes dropped).
    case directory(FilePath)
    /// Set to "": no metrics.
    case off
    /// Set to a relative path: no metrics, and a warning at sync and parse.
    case invalid(FilePath)

    /// Where prometheus-node-exporter reads `*.prom` files (Debian's default
    /// `--collector.textfile.directory`).
    static let nodeExporterDefault: FilePath = "/var/lib/prometheus/node-exporter"

    /// From the config value; nil when METRICS_DIR is not assigned.
    init(_ value: FilePath?) {
        guard let value else { self = .automatic; return }
        let path = Settings.removingTrailingSlashes(value)
        if value.isEmpty {
            self = .off
        } else if path.isEmpty {
            self = .directory("/")
        } else {
            self = path.isAbsolute ? .directory(path) : .invalid(value)
        }
    }

    /// The directory to write to now, or nil for none. `isDirectory` is
    /// asked about the default only: a METRICS_DIR that is missing is still
    /// the place (the write then fails and says so).
    func resolved(isDirectory: (FilePath) -> Bool = FileOps.isDirectory) -> FilePath? {
        switch self {
        case .automatic: return isDirectory(Self.nodeExporterDefault) ? Self.nodeExporterDefault : nil
        case .directory(let path): return path
        case .off, .invalid: return nil
        }
    }

    /// The file name: `asd.prom`, or `<instance>.prom` for a non-default config
    /// (two instances must not overwrite each other's file).
    static func fileName(instance: String) -> FilePath { FilePath(instance + ".prom") }
}
