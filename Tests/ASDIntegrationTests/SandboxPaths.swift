@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// asd's `TargetPaths` as text, for the harness's shell scripts (whose
/// targets are UTF-8; the non-UTF-8 tests build their names with printf).
struct SandboxPaths: Sendable {
    let paths: TargetPaths

    init(_ paths: TargetPaths) { self.paths = paths }

    private static func text(_ path: FilePath) -> String { String(decoding: path.bytes, as: UTF8.self) }

    var target: String { Self.text(paths.target) }
    var user: String { paths.user }
    var diskCopy: String { Self.text(paths.diskCopy) }
    var snapshot: String { Self.text(paths.snapshot) }
    var tmpfsCopy: String { Self.text(paths.tmpfsCopy) }
    var overlayUpper: String { Self.text(paths.overlayUpper) }
    var overlayWork: String { Self.text(paths.overlayWork) }
    var overlayLower: String { Self.text(paths.overlayLower) }
    var flag: String { Self.text(paths.flag) }
    var parent: String { Self.text(paths.parent) }
    var archivePrefix: String { Self.text(paths.archivePrefix) }
    /// asd's temp dir beside the disk copy (`.base-backup_asd-tmp`), seen from outside
    /// asd's staging mount.
    var tempDirectory: String { Self.text(paths.tempDirectory) }
}
