import ASDCopy
import ASDSystem
/// `asd-generator`: the asd binary run under that name (a link in systemd's
/// system-generators directory) at boot and at every `systemctl daemon-reload`
/// (systemd.generator(7)). It reads the config with asd's own parser, never
/// executing it, and writes a drop-in that gives asd.service `RequiresMountsFor=`
/// for every target and VOLATILE, so asd starts after those file systems are
/// mounted and its final write-back runs before any of them is unmounted.
/// With RESYNC_DELAY set the drop-in also has asd.service pull in
/// asd-watch.service (doc/DESIGN.md §12).
///
/// A generator must never fail the boot: a broken or missing config makes it
/// write nothing, say why in the kernel log (stderr when not run by systemd),
/// and exit 0.
public enum GeneratorCommand {
    /// The name (argv[0]'s last component) that selects generator mode.
    static let programName = "asd-generator"
    /// The drop-in, relative to the generator's output directory.
    static let dropInDirectory = "asd.service.d"
    static let dropInFile = "asd-mounts.conf"

    /// True when the process was started as `asd-generator`.
    public static func isInvoked(as argv0: String) -> Bool {
        FilePath(argv0).lastComponent == FilePath(programName)
    }

    /// Runs the generator; `arguments` are systemd's: normal-dir [early-dir late-dir].
    /// Always returns 0.
    public static func run(arguments: [String], environment: [String: String]) -> Int32 {
        let log = GeneratorLog(toKernel: environment["SYSTEMD_SCOPE"] != nil,
                               journal: JournalStreams.forCurrentProcess(environment: environment))
        guard let outputDirectory = arguments.first, outputDirectory.hasPrefix("/") else {
            log.say("expects the output directory as its first argument (systemd.generator(7)); nothing written.")
            return 0
        }
        let plan = mountPaths(invocation: Invocation(environment: environment), environment: environment, log: log)
        guard !plan.paths.isEmpty else { return 0 }
        let directory = FilePath(outputDirectory).appending(dropInDirectory)
        let file = directory.appending(dropInFile)
        do throws(Errno) {
            try FileOps.makeDirectories(directory)
            try FileOps.writeFileAtomically(file, contents: Array(dropIn(paths: plan.paths, sources: plan.sources, watch: plan.watch).utf8), mode: 0o644)
        } catch {
            log.say("could not write \(file): \(error); asd.service keeps its default ordering.")
        }
        return 0
    }

    /// The paths asd.service must have mounted: every target and VOLATILE of the
    /// live config and, while asd runs, of the snapshot in force (an edit of the
    /// live file must not drop the ordering of what is in tmpfs now). A config that
    /// cannot be read or parsed contributes nothing and is reported.
    static func mountPaths(
        invocation: Invocation, environment: [String: String], log: GeneratorLog
    ) -> (paths: [FilePath], sources: [FilePath], watch: Bool) {
        var configs = [invocation.configPath]
        if FileOps.exists(invocation.configSnapshotPath) { configs.insert(invocation.configSnapshotPath, at: 0) }
        var paths: [FilePath] = []
        var sources: [FilePath] = []
        var watch = false
        for config in configs {
            let settings: Settings
            do throws(ASDError) {
                settings = try Settings.load(path: config, environment: environment)
            } catch {
                switch error {
                case .noTargets, .configMissing:
                    break // a fresh install: nothing to order, nothing to complain about
                default:
                    log.say("\(error.message) No drop-in for it; asd.service keeps its default ordering.")
                }
                continue
            }
            sources.append(config)
            watch = watch || settings.resyncDelay != nil
            for path in settings.whatToSync + [settings.volatile] where !paths.contains(path) {
                paths.append(path)
            }
        }
        return (paths, sources, watch)
    }

    /// The drop-in text: one `RequiresMountsFor=` per path, in config order,
    /// and `Wants=asd-watch.service` when a config sets RESYNC_DELAY.
    /// A path that a unit file cannot spell (control characters, invalid
    /// UTF-8) is replaced by its nearest ancestor that it can, which lies on
    /// the same mounts unless the path itself is a mount point.
    static func dropIn(paths: [FilePath], sources: [FilePath], watch: Bool = false) -> String {
        var lines = [
            "# Written by asd-generator from \(sources.map(sanitizedComment).joined(separator: ", ")); do not edit.",
            "# asd's final write-back must run before these file systems are unmounted.",
            "[Unit]",
        ]
        var seen: Set<String> = []
        for path in paths {
            guard let word = unitFileWord(forNearest: path), seen.insert(word).inserted else { continue }
            lines.append("RequiresMountsFor=" + word)
        }
        if watch {
            lines += ["# RESYNC_DELAY is set: continuous write-back by asd watch.", "Wants=asd-watch.service"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `path`, or its nearest ancestor, as one word of a unit file setting.
    static func unitFileWord(forNearest path: FilePath) -> String? {
        var candidate = path.trimmingTrailingSlashes
        while !candidate.isEmpty {
            if let word = unitFileWord(candidate) { return word }
            let parent = candidate.parent
            if parent == candidate { break }
            candidate = parent
        }
        return "/"
    }

    /// One path as a unit-file word: `%` doubled (specifiers), double-quoted
    /// with `\\` and `\"` escaped when it holds a space, quote or backslash;
    /// nil when it holds a control character or is not valid UTF-8.
    static func unitFileWord(_ path: FilePath) -> String? {
        guard let text = path.string, path.isAbsolute,
              !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
        var word = text.replacingAll("%", with: "%%")
        if word.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\\" || $0 == "\t" }) {
            word = "\"" + word.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
        }
        return word
    }

    private static func sanitizedComment(_ path: FilePath) -> String {
        path.description.replacingAll("\n", with: " ")
    }
}

/// Where the generator reports: /dev/kmsg when run by systemd (no journal
/// yet), otherwise stderr, with the priority prefix when stderr is a journal
/// stream. Everything it says means asd.service lost its mount ordering (and a
/// config it cannot parse will fail asd.service too), so it says it as an error.
struct GeneratorLog {
    let toKernel: Bool
    var journal: JournalStreams = .none

    func say(_ message: String, level: LogLevel = .error) {
        if toKernel && KernelLog.write(GeneratorCommand.programName + ": " + message, priority: level.rawValue) { return }
        writeErr(rendered(message, level: level))
    }

    /// The line as stderr gets it.
    func rendered(_ message: String, level: LogLevel = .error) -> String {
        journal.text(GeneratorCommand.programName + ": " + message + "\n", level: level, toError: true)
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
