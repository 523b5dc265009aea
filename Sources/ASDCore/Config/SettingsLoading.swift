import ASDCopy
import ASDSystem
/// Turning parsed config variables into `Settings`, with upstream's defaults
/// and checks (doc/DESIGN.md §2). Unknown variables are ignored, as when bash sources the file
/// (with a warning: see SettingsWarnings.swift).
extension Settings {
    /// The words upstream accepts as "yes" for USE_OVERLAYFS and USE_BACKUPS (any case),
    /// and asd for USE_RSYNC.
    /// USE_RSYNC's third value: rsync on every tree (`Settings.rsyncOnEveryTree`).
    static let rsyncEveryTreeWord = "always"

    static let affirmativeWords: Set<String> = ["y", "yes", "true", "t", "on", "1", "enabled", "enable", "use"]

    /// Reads and parses the config at `path` (never executing it) and validates it.
    static func load(path: FilePath, environment: [String: String]) throws(ASDError) -> Settings {
        try loadWithWarnings(path: path, environment: environment).settings
    }

    /// Reads the config at `path` once and parses it: its exact bytes (kept as
    /// the snapshot in force) and its variables.
    static func values(path: FilePath, environment: [String: String]) throws(ASDError) -> (bytes: [UInt8], values: ConfigValues) {
        let bytes: [UInt8]
        do throws(Errno) {
            bytes = try readFile(path)
        } catch {
            if error == .noEntry { throw .configMissing(path: path) }
            throw .configUnreadable(path: path, reason: error)
        }
        return (bytes, try ConfigFile.parse(bytes, file: path, environment: environment))
    }

    /// Applies upstream's defaults and checks to the variables of `file`.
    static func from(_ values: ConfigValues, file: FilePath) throws(ASDError) -> Settings {
        let volatile = try volatile(values.string("VOLATILE") ?? "", file: file)
        var settings = Settings(
            whatToSync: try targets(values["WHATTOSYNC"], file: file),
            volatile: volatile,
            useOverlay: isAffirmative(values.string("USE_OVERLAYFS") ?? ""),
            useBackups: isAffirmative(values.string("USE_BACKUPS") ?? "", whenEmpty: true),
            backupLimit: try backupLimit(values.string("BACKUP_LIMIT") ?? "", file: file),
            hardlinkSafetyCheck: try hardlinkCheck(values.string("ENABLE_HARDLINK_SAFETY_CHECK") ?? "", file: file),
            useRsync: isAffirmative(values.string("USE_RSYNC") ?? ""),
            rsyncOnEveryTree: (values.string("USE_RSYNC")?.description.lowercased() ?? "") == Self.rsyncEveryTreeWord,
            zram: try zram(values, volatile: volatile, file: file),
            sourceFile: file,
            metricsDirectory: MetricsDirectory(values.string("METRICS_DIR"))
        )
        settings.exclusions = try Exclusions(values, targets: settings.whatToSync, file: file)
        settings.resyncDelay = try resyncDelay(values, file: file)
        return settings
    }

    /// Upstream's `case "${X,,}" in y|yes|...`; an empty value gives `whenEmpty`.
    static func isAffirmative(_ value: FilePath, whenEmpty: Bool = false) -> Bool {
        if value.isEmpty { return whenEmpty }
        return value.string.map { affirmativeWords.contains($0.lowercased()) } ?? false
    }

    /// `"${WHATTOSYNC[@]%%+(/)}"`, checked: absolute, no `.`/`..`/empty components,
    /// no duplicates, none inside another.
    static func targets(_ value: ConfigValue?, file: FilePath) throws(ASDError) -> [FilePath] {
        let entries = value?.elements ?? []
        if entries.isEmpty || entries == [""] { throw .noTargets(file: file) }
        var targets: [FilePath] = []
        for entry in entries {
            let path = removingTrailingSlashes(entry)
            if path.isEmpty {
                throw .configValue(file: file, key: "WHATTOSYNC", value: shellQuoted(entry.description),
                                   reason: "an empty path or / cannot be a sync target")
            }
            guard path.isAbsolute else { throw .targetNotAbsolute(path: entry, file: file) }
            let components = path.bytes.split(separator: FilePath.slash, omittingEmptySubsequences: false).dropFirst()
            if components.contains(where: { $0.isEmpty || $0.elementsEqual([0x2e]) || $0.elementsEqual([0x2e, 0x2e]) }) {
                throw .configValue(file: file, key: "WHATTOSYNC", value: shellQuoted(entry.description),
                                   reason: "write the path without '.', '..' or '//' components")
            }
            if targets.contains(path) { throw .duplicateTarget(path: path, file: file) }
            for other in targets {
                if path.isWithin(other) { throw .nestedTargets(outer: other, inner: path, file: file) }
                if other.isWithin(path) { throw .nestedTargets(outer: path, inner: other, file: file) }
            }
            targets.append(path)
        }
        return targets
    }

    /// `${VOLATILE%%+(/)}`, then /tmp when empty; must be absolute.
    static func volatile(_ value: FilePath, file: FilePath) throws(ASDError) -> FilePath {
        let path = removingTrailingSlashes(value)
        if path.isEmpty { return "/tmp" }
        guard path.isAbsolute else {
            throw .configValue(file: file, key: "VOLATILE", value: shellQuoted(value.description), reason: "it must be an absolute path")
        }
        return path
    }

    /// Empty gives 5; otherwise `^[0-9]+$`.
    static func backupLimit(_ word: FilePath, file: FilePath) throws(ASDError) -> Int {
        if word.isEmpty { return 5 }
        let value = word.description
        guard word.bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .configValue(file: file, key: "BACKUP_LIMIT", value: shellQuoted(value),
                               reason: "it must be a whole number of archives, 0 or more")
        }
        guard let limit = Int(value) else {
            throw .configValue(file: file, key: "BACKUP_LIMIT", value: value, reason: "the number is too large")
        }
        return limit
    }

    /// Empty gives on; upstream's `-ne 0` test: an integer, 0 means off.
    static func hardlinkCheck(_ word: FilePath, file: FilePath) throws(ASDError) -> Bool {
        if word.isEmpty { return true }
        let value = word.description
        var digits = Substring(value)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .configValue(file: file, key: "ENABLE_HARDLINK_SAFETY_CHECK", value: shellQuoted(value),
                               reason: "it must be 0 (off) or 1 (on)")
        }
        return digits.contains { $0 != "0" }
    }

    /// bash `${X%%+(/)}`: drops every trailing slash ("/" becomes "").
    static func removingTrailingSlashes(_ path: FilePath) -> FilePath {
        var result = path.bytes
        while result.last == FilePath.slash { result.removeLast() }
        return FilePath(bytes: result)
    }
}
