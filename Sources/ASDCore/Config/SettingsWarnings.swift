import ASDCopy
import ASDSystem
/// What a config sets that asd does not use, said as warnings rather than errors
/// (doc/DESIGN.md §2): upstream configs may set other variables, and bash would accept
/// any word for a boolean. Each warning names the file and the line.
extension Settings {
    /// The variables asd reads.
    static let knownKeys: Set<String> = [
        "WHATTOSYNC", "VOLATILE", "USE_OVERLAYFS", "USE_BACKUPS", "BACKUP_LIMIT",
        "ENABLE_HARDLINK_SAFETY_CHECK", "USE_RSYNC", "METRICS_DIR",
        "USE_ZRAM", "ZRAM_ALGORITHM", "ZRAM_SIZE", "RAM_ONLY", "DISK_ONLY",
        "RESYNC_DELAY",
    ]
    /// Boolean keys; their value is read with `isAffirmative`.
    static let booleanKeys = ["USE_OVERLAYFS", "USE_BACKUPS", "USE_RSYNC", "USE_ZRAM"]
    /// Words that clearly mean "no"; anything outside these and the affirmative
    /// words also means no, but is probably a mistake.
    static let negativeWords: Set<String> = ["n", "no", "false", "f", "off", "0", "disabled", "disable"]

    /// Loads like `load` and also returns the warnings for the file.
    static func loadWithWarnings(path: FilePath, environment: [String: String]) throws(ASDError) -> (settings: Settings, warnings: [String]) {
        let (bytes, values) = try values(path: path, environment: environment)
        var settings = try from(values, file: path)
        settings.sourceBytes = bytes
        return (settings, warnings(for: values, file: path))
    }

    /// One sentence per unknown variable (unless a later `$NAME` reads it: then it
    /// is a helper) and per boolean outside the accepted words, in file order.
    static func warnings(for values: ConfigValues, file: FilePath) -> [String] {
        var found: [(line: Int, text: String)] = []
        func place(_ name: String) -> (Int, String) {
            guard let line = values.lines[name] else { return (0, file.description) }
            return (line, "\(file):\(line)")
        }
        for name in values.order where !knownKeys.contains(name) && !values.referenced.contains(name) {
            let (line, at) = place(name)
            let hint = closestKey(to: name).map { " (did you mean \($0)?)" } ?? ""
            found.append((line, "\(at): \(name) is not a setting asd knows\(hint); it is ignored."))
        }
        for key in booleanKeys {
            guard let bytes = values.string(key), !bytes.isEmpty else { continue }
            let value = bytes.description
            let word = value.lowercased()
            if affirmativeWords.contains(word) || negativeWords.contains(word) { continue }
            if key == "USE_RSYNC" && word == rsyncEveryTreeWord { continue }
            let (line, at) = place(key)
            found.append((line, "\(at): \(key)=\(shellQuoted(value)) is neither a yes word (y, yes, true, t, on, 1, enabled, enable, use) nor a no word (n, no, false, f, off, 0, disabled, disable); it counts as no."))
        }
        if case .invalid(let value) = MetricsDirectory(values.string("METRICS_DIR")) {
            let (line, at) = place("METRICS_DIR")
            found.append((line, "\(at): METRICS_DIR=\(shellQuoted(value.description)) is not an absolute path; no metrics are written. Write the directory's full path, or METRICS_DIR=\"\" to turn metrics off."))
        }
        if !isAffirmative(values.string("USE_ZRAM") ?? "") {
            for key in ["ZRAM_ALGORITHM", "ZRAM_SIZE"] where !(values.string(key) ?? "").isEmpty {
                let (line, at) = place(key)
                found.append((line, "\(at): \(key) has no effect unless USE_ZRAM is on; it is ignored."))
            }
        }
        return found.sorted { $0.line < $1.line }.map(\.text)
    }

    /// The known key within two edits of `name` (case ignored), if any.
    static func closestKey(to name: String) -> String? {
        let upper = Array(name.uppercased().utf8)
        var best: (key: String, distance: Int)? = nil
        for key in knownKeys.sorted() {
            let distance = editDistance(upper, Array(key.utf8))
            if distance <= 2, distance < (best?.distance ?? Int.max) { best = (key, distance) }
        }
        return best?.key
    }

    /// Levenshtein distance of two byte strings.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
