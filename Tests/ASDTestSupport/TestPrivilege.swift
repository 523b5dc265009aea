import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One skip policy for both test targets: a test that lacks root, a tool or a
/// kernel feature skips, except under `ASD_REQUIRE_PRIVILEGED=1` (CI), where it
/// runs and fails saying what is missing. It never passes by skipping there.
public enum TestPrivilege {
    public static var isRoot: Bool { geteuid() == 0 }

    /// CI sets `ASD_REQUIRE_PRIVILEGED=1`: a test that would be skipped must fail instead.
    public static var required: Bool { ProcessInfo.processInfo.environment["ASD_REQUIRE_PRIVILEGED"] == "1" }

    /// Enables a test when `available`, or when it is required (then `require` fails it).
    public static func enabled(_ available: Bool) -> Bool { available || required }

    /// Throws unless `available`: reached only when the test was required to run.
    public static func require(_ available: Bool, _ what: String) throws {
        guard available else { throw TestSupportError("ASD_REQUIRE_PRIVILEGED=1 but this test needs \(what)") }
    }
}

/// Programs the tests run.
public enum Executable {
    /// First executable `name` in PATH (plus the sbin dirs root usually has).
    public static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
