import ASDCopy
import ASDSystem
/// RAM_ONLY and DISK_ONLY in `asd parse` (doc/DESIGN.md §2): for each entry in force
/// for a target, how many entries of the disk side it matches and their size: what
/// is kept out of the disk writes (RAM_ONLY) or out of RAM (DISK_ONLY).
extension ParseReport {
    struct KeptOut: Codable, Equatable, Sendable {
        /// "ramOnly" or "diskOnly".
        var kind: String
        /// As written in the config.
        var pattern: String
        /// The config line of the key.
        var line: Int
        /// Entries matched (a matched directory counts once; its contents are in the size).
        var matches: Int
        var sizeBytes: UInt64
    }

    /// Walks what is on disk for `paths` (the disk copy while running) by descriptor;
    /// each matched entry is attributed to the first entry of the config that matches.
    static func keptOut(_ paths: TargetPaths, settings: Settings, running: Bool) -> [KeptOut] {
        let exclusions = settings.exclusions
        let ram = exclusions.ramOnly.filter { $0.target == nil || $0.target == paths.target }
        let disk = exclusions.diskOnly.filter { $0.target == paths.target }
        if ram.isEmpty && disk.isEmpty { return [] }
        var found = ram.map { KeptOut(kind: "ramOnly", pattern: $0.written.description, line: $0.line, matches: 0, sizeBytes: 0) }
            + disk.map { KeptOut(kind: "diskOnly", pattern: $0.path.description, line: $0.line, matches: 0, sizeBytes: 0) }
        let root = running ? paths.diskCopy : paths.target
        guard let top = try? DirectoryHandle(path: root) else { return found }
        var pending: [(DirectoryHandle, FilePath)] = [(top, FilePath(bytes: []))]
        while let (directory, relative) = pending.popLast() {
            for name in (try? directory.entries()) ?? [] {
                guard let status = try? directory.status(name) else { continue }
                let path = relative.appending(name)
                let index = status.isDirectory ? disk.firstIndex(where: { $0.relative == path }).map { ram.count + $0 } : nil
                if let index = index ?? ram.firstIndex(where: { $0.pattern.matches(path, isDirectory: status.isDirectory) }) {
                    found[index].matches += 1
                    found[index].sizeBytes += status.isDirectory
                        ? ((try? FileOps.diskUsage(root.appending(path))) ?? 0) : UInt64(max(0, status.blocks)) * 512
                } else if status.isDirectory, let child = try? directory.openDirectory(name) {
                    pending.append((child, path))
                }
            }
        }
        return found
    }

    /// One warning per RAM_ONLY pattern that matches nothing in any target.
    func keptOutWarnings(file: String) -> [String] {
        var matched: [String: Int] = [:]
        var lines: [String: Int] = [:]
        for target in targets {
            for entry in target.keptOut where entry.kind == "ramOnly" {
                matched[entry.pattern, default: 0] += entry.matches
                lines[entry.pattern] = entry.line
            }
        }
        return matched.keys.sorted().filter { matched[$0] == 0 }.map {
            "\(file):\(lines[$0] ?? 0): RAM_ONLY pattern '\($0)' matches nothing on disk now; check its spelling (it still applies to what is created later)."
        }
    }
}
