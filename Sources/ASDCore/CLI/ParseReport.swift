import ASDCopy
import ASDSystem
/// What `asd parse` reports, as plain values: printed as text by `ParseCommand`,
/// encoded as JSON by `ParseReport.json()` (`asd parse --json`). The property
/// names are the JSON keys: they are documented in asd(1), section JSON, and
/// must stay stable (monitoring depends on them). Times are seconds since the
/// epoch, sizes bytes; null means "not known" or "does not apply".
struct ParseReport: Codable, Equatable, Sendable {
    /// Version of this schema; raised only when a key changes meaning or goes.
    var schema: Int = 1
    var version: String
    /// The config file whose settings are shown (the snapshot while asd runs).
    var config: String
    var instance: String
    var daemonFile: String
    /// The daemon file exists: asd has synced and not yet unsynced.
    var running: Bool
    /// When the running asd synced (the daemon file's time); null when not running.
    @NullCoded var syncedAt: Int?
    /// "built-in" or "rsync" (`USE_RSYNC`).
    var engine: String
    var overlay: Bool
    var backups: Bool
    var backupLimit: Int
    var volatile: Volatile
    /// Where the metrics go after each write-back attempt (METRICS_DIR, or
    /// node_exporter's textfile directory); null when nowhere.
    @NullCoded var metricsFile: String?
    /// USE_ZRAM's device (ParseZram.swift); null when USE_ZRAM is off.
    @NullCoded var zram: ZramDevice? = nil
    /// RESYNC_DELAY and the watcher (ParseWatch.swift).
    var watch: Watch
    /// Units of asd under systemd; null without systemd or without asd's units.
    @NullCoded var systemd: Systemd?
    /// The hourly cron job (systems without systemd); null under systemd.
    @NullCoded var cron: Cron?
    /// In config order; empty when WHATTOSYNC is empty (a fresh install).
    var targets: [Target]

    struct Volatile: Codable, Equatable, Sendable {
        var path: String
        /// Type of its file system ("tmpfs"), null when it does not exist.
        @NullCoded var fsType: String?
        @NullCoded var freeBytes: UInt64?
        @NullCoded var totalBytes: UInt64?
    }

    struct Systemd: Codable, Equatable, Sendable {
        var service: UnitState
        var timer: UnitState
    }

    struct UnitState: Codable, Equatable, Sendable {
        var unit: String
        /// systemd's ActiveState: active, inactive, failed, activating...
        var activeState: String
        /// systemd's UnitFileState: enabled, disabled, static...
        var unitFileState: String
        /// Timers only: when it fires next; null when not scheduled.
        @NullCoded var nextRun: Int?
    }

    struct Cron: Codable, Equatable, Sendable {
        var path: String
        var present: Bool
    }

    struct Target: Codable, Equatable, Sendable {
        var path: String
        /// "running" (in tmpfs, marked), "stopped" (on disk), "ungraceful"
        /// (leftovers of a run that did not end with unsync), "missing".
        var state: String
        var user: String
        @NullCoded var gid: UInt32?
        var diskCopy: String
        var tmpfsCopy: String
        /// Disk usage of what the target path shows (in tmpfs while running).
        @NullCoded var sizeBytes: UInt64?
        /// RAM taken by the tmpfs copy (overlay mode: its upper layer); 0 when not running.
        @NullCoded var ramBytes: UInt64?
        /// Last successful write-back (resync or unsync) since the last sync; null: none yet.
        @NullCoded var lastWriteBack: Int?
        /// Whether that write-back was consistent (one instant of the tmpfs
        /// copy; see asd(1)); null: no write-back yet, or not known.
        @NullCoded var lastWriteBackConsistent: Bool?
        var recoveryArchives: [Archive]
        /// RAM_ONLY and DISK_ONLY entries in force for this target (ParseExclusions.swift).
        var keptOut: [KeptOut] = []
    }

    struct Archive: Codable, Equatable, Sendable {
        var path: String
        @NullCoded var sizeBytes: UInt64?
    }
}

extension ParseReport.Target {
    static let running = "running", stopped = "stopped", ungraceful = "ungraceful", missing = "missing"
}

extension Settings {
    /// The copy engine in force (USE_RSYNC), as parse names it.
    var copyEngineName: String { useRsync ? "rsync" : "built-in" }
}

extension ParseReport {
    /// Gathers the report: no state is changed. `summary` walks a tree once
    /// (shared with the hard-link check), `systemd` reads the unit states.
    static func gather(
        engine: Engine, configPath: FilePath, summary: (FilePath) -> TreeSummary?,
        systemd: () -> Systemd?, cronPath: FilePath = ParseReport.cronPath
    ) -> ParseReport {
        let settings = engine.settings
        let invocation = engine.invocation
        let volatileInfo = try? FileSystemInfo.of(settings.volatile)
        let units = systemd()
        let record = WriteBackRecord.read(daemonFile: invocation.daemonFile)
        return ParseReport(
            version: Version.string, config: configPath.description, instance: invocation.instanceName,
            daemonFile: invocation.daemonFile.description, running: FileOps.exists(invocation.daemonFile),
            syncedAt: (try? FileOps.status(invocation.daemonFile))?.modificationTime.seconds,
            engine: settings.copyEngineName, overlay: settings.useOverlay, backups: settings.useBackups,
            backupLimit: settings.backupLimit,
            volatile: Volatile(path: settings.volatile.description, fsType: volatileInfo?.typeName,
                               freeBytes: volatileInfo?.availableBytes, totalBytes: volatileInfo?.totalBytes),
            metricsFile: engine.metricsFile?.description,
            zram: zram(engine: engine),
            watch: watch(engine: engine),
            systemd: units,
            cron: units == nil ? Cron(path: cronPath.description, present: FileOps.exists(cronPath)) : nil,
            targets: engine.targets.map { target($0, engine: engine, summary: summary, record: record) })
    }

    static let cronPath: FilePath = "/etc/cron.hourly/asd-update"

    private static func target(
        _ paths: TargetPaths, engine: Engine, summary: (FilePath) -> TreeSummary?, record: WriteBackRecord
    ) -> Target {
        let status = try? FileOps.status(paths.target)
        let running = engine.isRunning(paths)
        let state: String
        if running {
            state = Target.running
        } else if FileOps.isDirectory(paths.diskCopy) || FileOps.isDirectory(paths.snapshot) {
            state = Target.ungraceful
        } else {
            state = status?.isDirectory == true ? Target.stopped : Target.missing
        }
        let size = status?.isDirectory == true ? summary(paths.target)?.diskUsage : nil
        var ram: UInt64? = 0
        if running {
            ram = engine.isOverlay(paths) ? (try? FileOps.diskUsage(paths.overlayUpper)) : size
        }
        return Target(
            path: paths.target.description, state: state, user: paths.user, gid: status?.gid,
            diskCopy: paths.diskCopy.description, tmpfsCopy: paths.tmpfsCopy.description, sizeBytes: size, ramBytes: ram,
            lastWriteBack: record.times[paths.target], lastWriteBackConsistent: record.consistent[paths.target],
            recoveryArchives: Retention.archives(for: paths).map {
                Archive(path: $0.description, sizeBytes: try? FileOps.diskUsage($0))
            },
            keptOut: status?.isDirectory == true ? keptOut(paths, settings: engine.settings, running: running) : [])
    }
}

/// An optional that is encoded as `null` instead of being left out, so every
/// documented key is present in `asd parse --json`.
@propertyWrapper
struct NullCoded<Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
