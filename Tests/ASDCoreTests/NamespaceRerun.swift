import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// Tests that mount need root and a private mount namespace. The outer test
/// re-runs this test binary under `unshare -m --propagation private` with only
/// the inner test selected, and an environment flag that enables the inner
/// test there (and only there).
struct NamespaceRerun {
    let flag: String

    /// True inside the namespace the outer test made.
    var isInside: Bool { ProcessEnvironment.current()[flag] == "1" }
    /// The outer test can run: root, unshare(1), and not already inside.
    var canUnshare: Bool { geteuid() == 0 && !isInside && Subprocess.which("unshare") != nil }
    /// The outer test runs when it can, and when it must (ASD_REQUIRE_PRIVILEGED=1):
    /// then `runInside` fails saying what is missing instead of the test skipping.
    var outerEnabled: Bool { !isInside && (canUnshare || TestPrivilege.required) }

    /// Runs `Suite/insideNamespace` in a new private mount namespace and
    /// expects it to pass.
    func runInside(suite: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try TestPrivilege.require(canUnshare, "root and unshare(1)")
        let binary = try FileOps.readSymlink("/proc/self/exe")
        var environment = ProcessEnvironment.current()
        environment[flag] = "1"
        let result = try Subprocess.run(
            [
                "unshare", "-m", "--propagation", "private", "--", FilePath(binary),
                "--testing-library", "swift-testing", "--filter", "\(suite)/insideNamespace",
            ], captureOutput: true, environment: environment)
        let output = result.outputText + result.standardError
        #expect(result.status == TerminationStatus.exited(0), "\(output)", sourceLocation: sourceLocation)
        #expect(output.contains("insideNamespace()") && output.contains("passed"), "\(output)", sourceLocation: sourceLocation)
    }
}

/// One skip policy for the unit tests, as the integration harness has it: a
/// test that lacks root or a tool skips, except under ASD_REQUIRE_PRIVILEGED=1
/// (CI), where it runs and fails saying what is missing.
enum TestPrivilege {
    static var required: Bool { ProcessEnvironment.current()["ASD_REQUIRE_PRIVILEGED"] == "1" }

    /// Enables a test when `available`, or when it is required (then `require` fails it).
    static func enabled(_ available: Bool) -> Bool { available || required }

    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// Throws unless `available`: reached only when the test was required to run.
    static func require(_ available: Bool, _ what: String) throws {
        guard available else { throw Missing(description: "ASD_REQUIRE_PRIVILEGED=1 but this test needs \(what)") }
    }
}
