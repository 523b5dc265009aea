import Testing
@testable import ASDCore

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

@Suite("RsyncCommand argv")
struct RsyncCommandTests {
    static let cases: [(RsyncCommand, [String])] = [
        (RsyncCommand(.fillTmpfs(from: "/srv/.http-backup_asd", to: "/tmp/asd-root/srv/http")),
         ["rsync", "-aAX", "--numeric-ids", "--modify-window=-1",
          "--", "/srv/.http-backup_asd/", "/tmp/asd-root/srv/http/"]),
        (RsyncCommand(.fillTmpfs(from: "/srv/.http-backup_asd/", to: "/tmp/x//"), acls: false, progress: true),
         ["rsync", "-aX", "--numeric-ids", "--modify-window=-1",
          "--info=progress2", "--no-inc-recursive", "--", "/srv/.http-backup_asd/", "/tmp/x/"]),
        (RsyncCommand(.writeBack(from: "/tmp/asd-root/srv/http", to: "/run/asd.stage/http",
                                 tempDir: "/run/asd.stage/.http-backup_asd-tmp")),
         ["rsync", "-aAX", "--numeric-ids", "--modify-window=-1", "--delete-after", "--exclude=/.flagged",
          "--temp-dir=/run/asd.stage/.http-backup_asd-tmp",
          "--", "/tmp/asd-root/srv/http/", "/run/asd.stage/http/"]),
        (RsyncCommand(.writeBack(from: "/tmp/a", to: "/srv/b", tempDir: nil), progress: true),
         ["rsync", "-aAX", "--numeric-ids", "--modify-window=-1", "--delete-after", "--exclude=/.flagged",
          "--info=progress2", "--no-inc-recursive", "--", "/tmp/a/", "/srv/b/"]),
        (RsyncCommand(.writeBack(from: "/tmp/-a", to: "/-b", tempDir: "/-b/t/x"), acls: false, executable: "/usr/bin/rsync"),
         ["/usr/bin/rsync", "-aX", "--numeric-ids", "--modify-window=-1", "--delete-after", "--exclude=/.flagged",
          "--exclude=/t/x", "--temp-dir=/-b/t/x", "--", "/tmp/-a/", "/-b/"]),
        (RsyncCommand(.fillTmpfs(from: "/", to: "/tmp/root")),
         ["rsync", "-aAX", "--numeric-ids", "--modify-window=-1",
          "--", "/", "/tmp/root/"]),
    ]

    @Test("argv", arguments: cases)
    func argv(command: RsyncCommand, expected: [String]) {
        #expect(command.argv == expected)
    }

    @Test("never writes in place")
    func neverInPlace() {
        for (command, _) in Self.cases {
            for forbidden in ["--inplace", "--partial", "--append", "--append-verify", "--delay-updates"] {
                #expect(!command.argv.contains(forbidden))
            }
        }
    }

}

/// A `Log` that remembers what it was told.
final class RecordingLog: Log {
    let lines = Mutex<[String]>([])
    let showsProgress = false
    func info(_ message: String) { lines.withLock { $0.append("info: " + message) } }
    func debug(_ message: String) { lines.withLock { $0.append("debug: " + message) } }
    func warning(_ message: String) { lines.withLock { $0.append("warning: " + message) } }
}

@Suite("Rsync runs")
struct RsyncRunTests {
    /// Runs a shell snippet in `dir`, failing the test on error.
    func shell(_ script: String, in dir: String) throws {
        let result = try Subprocess.run(["sh", "-ec", "cd \"$0\"; " + script, dir])
        #expect(result.status == .exited(0), "\(script): \(result.standardError)")
    }

    func read(_ path: String) throws -> String {
        try Subprocess.run(["cat", path], captureOutput: true).outputText
    }

    @Test("write-back copies a same-size, same-second rewrite, deletes, keeps the marker and temp dir out")
    func writeBack() throws {
        let dir = try makeRsyncTempDirectory()
        defer { _ = try? Subprocess.run(["rm", "-rf", "--", dir]) }
        try shell("""
            mkdir -p tmpfs/sub disk/sub tmp
            printf new > tmpfs/sub/file; printf old > disk/sub/file
            touch -d '2020-01-01 00:00:00.700000000' tmpfs/sub/file
            touch -d '2020-01-01 00:00:00.100000000' disk/sub/file
            echo 1 > tmpfs/.flagged; echo gone > disk/removed
            """, in: dir)
        let command = RsyncCommand(.writeBack(
            from: dir + "/tmpfs", to: dir + "/disk", tempDir: dir + "/tmp"))
        let log = RecordingLog()
        let outcome = try Rsync.run(command, log: log)
        #expect(outcome == RsyncOutcome(vanishedFiles: false))
        #expect(try read(dir + "/disk/sub/file") == "new")
        let listing = try Subprocess.run(["find", dir + "/disk", "-mindepth", "1"], captureOutput: true).outputText
        let expected = ["\(dir)/disk/sub", "\(dir)/disk/sub/file"]
        #expect(listing.split(separator: "\n").map(String.init).sorted() == expected)
        #expect(log.lines.withLock { $0.contains { $0.hasPrefix("debug: Running: rsync") } })
    }

    @Test("a failing rsync is an ASDError.command with its stderr")
    func failure() throws {
        let dir = try makeRsyncTempDirectory()
        defer { _ = try? Subprocess.run(["rm", "-rf", "--", dir]) }
        let command = RsyncCommand(.fillTmpfs(from: dir + "/missing", to: dir + "/out"))
        #expect {
            _ = try Rsync.run(command, log: RecordingLog())
        } throws: { error in
            guard case .command(let argv, let status, let stderr) = error as? ASDError else { return false }
            return argv == command.argv && status == "exit status 23" && stderr.contains("missing")
        }
    }

    @Test("exit 24 counts as success with vanished files")
    func vanished() throws {
        let dir = try makeRsyncTempDirectory()
        defer { _ = try? Subprocess.run(["rm", "-rf", "--", dir]) }
        // A stand-in rsync that exits 24, to exercise the status handling.
        try shell("printf '#!/bin/sh\\nexit 24\\n' > fake-rsync; chmod +x fake-rsync", in: dir)
        let log = RecordingLog()
        let command = RsyncCommand(.fillTmpfs(from: dir, to: dir + "/x"), executable: dir + "/fake-rsync")
        #expect(try Rsync.run(command, log: log) == RsyncOutcome(vanishedFiles: true))
        #expect(log.lines.withLock { $0.contains { $0.hasPrefix("info: Some files in \(dir) vanished") } })
    }
}

/// mkdtemp(3) under /tmp.
fileprivate func makeRsyncTempDirectory() throws -> String {
    var template = Array("/tmp/asd-rsync-test-XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw Errno.current }
    return String(cString: result)
}
