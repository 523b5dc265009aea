import ASDSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a running `asd watch` tells `asd parse` (doc/DESIGN.md §12):
/// `$DAEMON_FILE.watch`, JSON, replaced atomically at start and whenever a
/// target's state changes (never per write-back), removed at a clean exit. A
/// file whose pid is gone is a watcher that was killed.
struct WatchStatus: Codable, Equatable, Sendable {
    var pid: Int
    /// fanotify, inotify or scan (`ChangeSource.Kind`).
    var source: String
    var delaySeconds: Int
    var startedAt: Int
    /// Targets whose last write-back by the watcher failed.
    var failing: [Failure] = []

    struct Failure: Codable, Equatable, Sendable {
        var target: String
        /// When the failures began (seconds since the epoch).
        var since: Int
        var message: String
        /// When the watcher tries again (seconds since the epoch).
        var nextAttempt: Int
    }

    static func path(daemonFile: FilePath) -> FilePath { daemonFile + ".watch" }

    func write(daemonFile: FilePath) throws(Errno) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data()
        try FileOps.writeFileAtomically(Self.path(daemonFile: daemonFile), contents: Array(data) + [0x0a], mode: 0o644)
    }

    /// The status of a watcher that is still alive, else nil.
    static func read(daemonFile: FilePath) -> WatchStatus? {
        guard let bytes = try? readFile(path(daemonFile: daemonFile)),
              let status = try? JSONDecoder().decode(WatchStatus.self, from: Data(bytes)),
              FileOps.exists(FilePath("/proc/\(status.pid)")) else { return nil }
        return status
    }

    static func remove(daemonFile: FilePath) {
        try? FileOps.unlink(path(daemonFile: daemonFile))
    }
}
