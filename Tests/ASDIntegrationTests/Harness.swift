/// Integration-test harness: runs the built `asd` binary as root inside a private
/// mount namespace, one bash process per test, so every mount vanishes with the test.
///
/// How to write a test:
/// ```swift
/// @Suite(.privileged) struct MyTests {
///     @Test func syncMountsTheTarget() async throws {
///         let sandbox = try Sandbox()                       // /tmp/asd-itest-XXXXXX
///         try sandbox.writeConfig(targets: ["$DATA/t"])    // config/asd.conf
///         let result = try await Scenario(sandbox)
///             .shell(Fixture.rich(at: "$DATA/t"))           // any bash, runs as root
///             .snapshotTree("$DATA/t", as: "before")        // manifest read back later
///             .asd("sync", as: "sync")                      // status/stdout/stderr recorded
///             .expectMounted("$DATA/t", fstype: "tmpfs")    // checked inside the namespace
///             .run()
///         result.expectNoFailures()                          // script errors + expect* steps
///         #expect(try result.command("sync").status == 0)
///         try expectSameTree(result.tree("before"), result.tree("after"), .lifecycle, "after sync")
///     }
/// }
/// ```
/// (with a `.snapshotTree("$DATA/t", as: "after")` step after the sync). Tests in a suite
/// run in parallel: each has its own sandbox, config (so its own instance name and lock)
/// and namespace. `Sandbox.paths(_:user:)` gives upstream's names (disk copy, tmpfs copy,
/// `.flagged`) for a target.
/// Path arguments of steps are bash double-quoted words: `$SANDBOX`, `$DATA`, `$VOLATILE`,
/// `$OUT`, `$ASDCONF`, `$DAEMON_FILE` expand inside the script. Every state check that
/// needs the mounts must be a step (the namespace ends with the script); everything else
/// (comparing manifests, reading outputs) happens in Swift on the `ScenarioResult`.
/// A failed `expect*` step is reported at the source line that added it; a failing
/// `shell` step aborts the script (`set -e`) and is reported with the step's line.
///
/// Power loss: `.powerLoss(run:when:)` runs its command in a child PID + mount namespace
/// (`unshare -m -p -f --kill-child --mount-proc`), waits for the trigger, then SIGKILLs it:
/// every process of that command dies at once and every mount it made vanishes. Then the
/// harness "reboots": all mounts under the sandbox are dropped and the tmpfs on
/// `$VOLATILE`, `$SANDBOX/run` and `/run` are replaced by empty ones. Not simulated: loss
/// of the disk's page cache (data written but not yet flushed survives the "power loss").
///
/// Engines: `ASD_TEST_ENGINE=builtin` (default) or `rsync` selects the copier every config
/// written by `writeConfig(targets:)` uses (`USE_RSYNC`), so the whole suite runs on either
/// (`make check` runs it on both).
/// Environment: `ASD_BINARY` overrides the binary; `ASD_REQUIRE_PRIVILEGED=1` (CI) turns
/// "skipped: not root / no unshare" into a failure; `ASD_KEEP_SANDBOX=1` keeps the sandbox
/// directory for inspection; `ASD_UPSTREAM` points at upstream's script (optional tests).
import Foundation
import ASDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Whether this process may run privileged scenarios.
enum Privilege {
    static let environment = ProcessInfo.processInfo.environment

    static var isRoot: Bool { TestPrivilege.isRoot }

    /// `unshare` from util-linux, found on PATH.
    static var unsharePath: String? { Executable.find("unshare") }

    /// CI sets `ASD_REQUIRE_PRIVILEGED=1`: a test that would be skipped must fail instead.
    static var required: Bool { TestPrivilege.required }

    static var available: Bool { isRoot && unsharePath != nil }

    /// Why privileged scenarios cannot run here, or nil when they can.
    static var missingReason: String? {
        if !isRoot { return "integration tests must run as root (they mount tmpfs in a private namespace)" }
        if unsharePath == nil { return "unshare(1) from util-linux is not on PATH" }
        return nil
    }

    /// Throws when the scenario cannot run; reached only when `required` let the test run.
    static func check() throws {
        if let reason = missingReason {
            throw HarnessError("ASD_REQUIRE_PRIVILEGED=1 but \(reason).")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only as root with `unshare` available: a non-root `swift test` skips
    /// these tests with the reason shown. With `ASD_REQUIRE_PRIVILEGED=1` the test runs
    /// anyway and fails in `Scenario.run()`, so CI can never pass by skipping.
    static var privileged: Self {
        .enabled(
            if: Privilege.available || Privilege.required,
            "needs root and unshare(1); CI sets ASD_REQUIRE_PRIVILEGED=1 to fail instead of skipping"
        )
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Executable {
    /// The asd binary under test: `ASD_BINARY`, else `asd` next to the running test
    /// bundle (same build configuration), else `<package>/.build/debug/asd`.
    static func asd(filePath: String = #filePath) throws -> String {
        if let override = Privilege.environment["ASD_BINARY"], !override.isEmpty {
            guard access(override, X_OK) == 0 else { throw HarnessError("ASD_BINARY=\(override) is not executable.") }
            return override
        }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let sibling = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("asd").path
            if access(sibling, X_OK) == 0 { return sibling }
        }
        let root = URL(fileURLWithPath: filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let built = root.appendingPathComponent(".build/debug/asd").path
        guard access(built, X_OK) == 0 else {
            throw HarnessError("No asd binary at \(built): run `swift build` first or set ASD_BINARY.")
        }
        return built
    }
}

/// The copier the generated configs select: `ASD_TEST_ENGINE` = `builtin` (default) or
/// `rsync`. Any other value stops the run: a typo must not silently test the default.
enum TestEngine: String, CaseIterable, Sendable {
    case builtin, rsync

    static let current: TestEngine = {
        let value = Privilege.environment["ASD_TEST_ENGINE"] ?? ""
        if value.isEmpty { return .builtin }
        guard let engine = TestEngine(rawValue: value) else {
            fatalError("ASD_TEST_ENGINE=\(value): use 'builtin' or 'rsync'")
        }
        return engine
    }()

    /// The USE_RSYNC value for a config: "always" for rsync, so that rsync copies
    /// every fixture, also those with directories other users can write (with
    /// "yes" asd would copy those with the built-in copier: see RsyncTrust.swift;
    /// EngineChoiceTests and RaceAttackTests test "yes").
    var useRsync: String { self == .rsync ? "always" : "no" }
}

/// A private directory for one test: `config/asd.conf`, `run/` (DAEMON_FILE's home, a
/// tmpfs inside the scenario), `data/` (targets live here, on the real disk) and
/// `volatile/` (a tmpfs inside the scenario). Removed when the last reference goes away.
final class Sandbox: @unchecked Sendable {
    let root: String
    var config: String { root + "/config/asd.conf" }
    var data: String { root + "/data" }
    var volatile: String { root + "/volatile" }
    var daemonFile: String { root + "/run/asd" }
    var out: String { root + "/out" }

    private let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "asd-itest")
        root = directory.path
        for dir in ["config", "run", "data", "volatile", "out/asd", "out/trees"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        // mkdtemp gives 0700; targets owned by other users must be reachable.
        chmod(root, 0o755)
    }

    /// Writes `text` verbatim as the config file.
    func writeConfig(_ text: String) throws {
        try text.write(toFile: config, atomically: false, encoding: .utf8)
    }

    /// A config syncing `targets` (bash double-quoted words such as `$DATA/t`, expanded
    /// here to real paths) with VOLATILE set to the sandbox tmpfs, copying with `engine`
    /// (default: the one `ASD_TEST_ENGINE` selects).
    func writeConfig(
        targets: [String], overlay: Bool = false, backups: Bool = true, engine: TestEngine = .current, extra: String = ""
    ) throws {
        let list = targets.map { "\"\(expand($0))\"" }.joined(separator: " ")
        try writeConfig("""
            # written by ASDIntegrationTests
            WHATTOSYNC=(\(list))
            VOLATILE="\(volatile)"
            USE_OVERLAYFS="\(overlay ? "yes" : "no")"
            USE_BACKUPS="\(backups ? "yes" : "no")"
            USE_RSYNC="\(engine.useRsync)"
            \(extra)

            """)
    }

    /// Replaces the harness variables in `word` by this sandbox's paths.
    func expand(_ word: String) -> String {
        var result = word
        for (name, value) in [("$DATA", data), ("$VOLATILE", volatile), ("$SANDBOX", root)] {
            result = result.replacingOccurrences(of: name, with: value)
        }
        return result
    }

    /// realpath(3) of the config, as asd resolves it for the instance name.
    var resolvedConfig: String {
        guard let resolved = realpath(config, nil) else { return config }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// `'text'` for bash, with embedded single quotes escaped.
func shellQuote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// `"text"` for bash: `$VAR` and `$(command)` still expand; backslash, double quote and
/// backtick do not, except inside `$(...)`, which bash parses as a script of its own
/// (escaped there, `"$X"` would reach the command with its quotes).
func expandingQuote(_ text: String) -> String {
    var quoted = "\""
    var depth = 0
    var previous: Character? = nil
    for character in text {
        if character == "(" && previous == "$" { depth += 1 } else if character == ")" && depth > 0 { depth -= 1 }
        if depth == 0 && "\\\"`".contains(character) { quoted.append("\\") }
        quoted.append(character)
        previous = character
    }
    return quoted + "\""
}
