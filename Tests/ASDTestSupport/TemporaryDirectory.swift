import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory for one test, `<parent>/<prefix>-XXXXXX` (mkdtemp(3), mode 0700;
/// `parent` is /tmp unless given),
/// removed with everything in it when the last reference goes away (or at `remove()`),
/// unless `ASD_KEEP_SANDBOX=1` asks to keep it for inspection.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(prefix: String = "asd-test", under parent: String = "/tmp") throws {
        var template = Array("\(parent)/\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestSupportError("mkdtemp(\(parent)/\(prefix)-XXXXXX) failed: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    deinit { remove() }

    /// `path/relative`.
    public subscript(_ relative: String) -> String { path + "/" + relative }

    /// Removes the directory and everything in it (idempotent).
    public func remove() {
        if ProcessInfo.processInfo.environment["ASD_KEEP_SANDBOX"] == "1" {
            print("asd-test: keeping \(path)")
            return
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `body` with the path of a fresh directory, removed afterwards.
    public static func with<T>(prefix: String = "asd-test", _ body: (String) throws -> T) throws -> T {
        let directory = try TemporaryDirectory(prefix: prefix)
        defer { directory.remove() }
        return try body(directory.path)
    }
}

/// A failure of the test rig itself (not of the code under test).
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
