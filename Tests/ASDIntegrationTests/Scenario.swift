import Foundation
import Testing

/// One test's whole privileged run, built step by step and executed as ONE bash script
/// under `unshare -m --propagation private`. See the doc comment in Harness.swift.
struct Scenario: Sendable {
    struct Step: Sendable {
        let script: String
        let location: SourceLocation
    }

    let sandbox: Sandbox
    /// tmpfs size of `$VOLATILE` (a `mount -o size=` value).
    var volatileSize: String
    /// Whole-script limit; the script is killed (`timeout -k`) after it.
    var timeoutSeconds: Int
    private(set) var steps: [Step] = []

    init(_ sandbox: Sandbox, volatileSize: String = "256m", timeoutSeconds: Int = 300) {
        self.sandbox = sandbox
        self.volatileSize = volatileSize
        self.timeoutSeconds = timeoutSeconds
    }

    private func adding(_ script: String, _ location: SourceLocation) -> Scenario {
        var copy = self
        copy.steps.append(Step(script: script, location: location))
        return copy
    }

    private var index: Int { steps.count }

    /// Any bash; a failing command aborts the script and fails the test at this line.
    func shell(_ command: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        adding(command, sourceLocation)
    }

    /// Runs the binary under test (or `binary`, a bash word such as `"$UPSTREAM"`) with
    /// `arguments` and `environment`; status/stdout/stderr go to `result.command(label)`.
    func asd(
        _ arguments: String..., as label: String? = nil, binary: String? = nil,
        environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) -> Scenario {
        let name = label ?? "step\(index)-\(arguments.first ?? "usage")"
        Self.checkLabel(name)
        var prefix = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuote($0.value)) " }.joined()
        if let binary { prefix += "ASD_BIN=\"\(binary)\" " }
        let words = arguments.map(shellQuote).joined(separator: " ")
        return adding("\(prefix)asd_as \(name) \(words)", sourceLocation)
    }

    /// Runs bash `command` in a subshell, recording it like `asd` (never aborts).
    func capture(_ command: String, as label: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        Self.checkLabel(label)
        return adding("asd_capture \(label) \(shellQuote(command))", sourceLocation)
    }

    /// Dumps a manifest of the tree at `path` (root included) for `result.tree(label)`.
    func snapshotTree(_ path: String, as label: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        Self.checkLabel(label)
        return adding("asd_manifest \"\(path)\" \"$OUT/trees/\(label)\"", sourceLocation)
    }

    /// Records a failure at this line unless bash `condition` succeeds; `$VARS` in
    /// `message` are expanded by bash.
    func expect(_ condition: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        let step = index
        return adding("if ! (\(condition)); then asd_fail \(step) \(expandingQuote(message)); fi", sourceLocation)
    }

    func expectMounted(_ path: String, fstype: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        var scenario = expect("mountpoint -q \"\(path)\"", "\(path) is not a mount point", sourceLocation: sourceLocation)
        if let fstype {
            let actual = "$(findmnt -n -o FSTYPE --mountpoint \"\(path)\" | tail -n 1)"
            scenario = scenario.expect(
                "[[ \"\(actual)\" == \(shellQuote(fstype)) ]]", "\(path) is not mounted as \(fstype)",
                sourceLocation: sourceLocation)
        }
        return scenario
    }

    func expectNotMounted(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        expect("! mountpoint -q \"\(path)\"", "\(path) is still a mount point", sourceLocation: sourceLocation)
    }

    /// Same filesystem (st_dev) for both paths, e.g. a target bound from the tmpfs.
    func expectSameFilesystem(_ path: String, as other: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        expect(
            "[[ \"$(stat -c %d \"\(path)\")\" == \"$(stat -c %d \"\(other)\")\" ]]",
            "\(path) is not on the filesystem of \(other)", sourceLocation: sourceLocation)
    }

    func expectExists(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        expect("[[ -e \"\(path)\" || -L \"\(path)\" ]]", "\(path) does not exist", sourceLocation: sourceLocation)
    }

    func expectAbsent(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        expect("[[ ! -e \"\(path)\" && ! -L \"\(path)\" ]]", "\(path) exists", sourceLocation: sourceLocation)
    }

    /// A directory with no entries at all (hidden ones included).
    func expectEmptyDirectory(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        expect(
            "[[ -d \"\(path)\" && -z \"$(ls -A \"\(path)\")\" ]]",
            "\(path) is not an empty directory", sourceLocation: sourceLocation)
    }

    /// Writes `text` to `path` (a bash word), e.g. to change the config mid-scenario.
    func writeFile(_ path: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        adding("printf '%s' \(shellQuote(text)) >\"\(path)\"", sourceLocation)
    }

    /// When a power-loss step kills its command.
    enum Trigger: Sendable {
        /// After a delay (fractions allowed).
        case after(seconds: Double)
        /// As soon as `path` (a bash word) exists.
        case whenExists(String)
        /// As soon as a process whose command line matches `pattern` runs (pgrep -f).
        case whenProcess(String)
        /// Any bash condition.
        case when(String)

        var condition: String {
            switch self {
            case .after(let seconds): return "sleep \(seconds); true"
            case .whenExists(let path): return "[[ -e \"\(path)\" ]]"
            case .whenProcess(let pattern): return "pgrep -f \(shellQuote(pattern)) >/dev/null"
            case .when(let condition): return condition
            }
        }
    }

    /// Runs bash `command` (the harness functions, e.g. `asd_as`, are available) in a child
    /// PID + mount namespace, SIGKILLs the whole tree when `trigger` holds, then reboots
    /// (see Harness.swift). `result.command(label)` has its output and `killed`.
    /// - Parameter mustKill: record a failure when the command ends before the trigger.
    func powerLoss(
        run command: String, when trigger: Trigger, as label: String, mustKill: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Scenario {
        Self.checkLabel(label)
        let words = [String(index), label, trigger.condition, command, mustKill ? "1" : "0"].map(shellQuote)
        return adding("asd_powerloss " + words.joined(separator: " "), sourceLocation)
    }

    /// Drops every mount under the sandbox and empties the tmpfs, as a reboot would.
    func reboot(sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        adding("asd_reboot", sourceLocation)
    }

    private static func checkLabel(_ label: String) {
        precondition(
            !label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) },
            "scenario labels are file names: letters, digits, '.', '_', '-' (got \(label))")
    }
}
