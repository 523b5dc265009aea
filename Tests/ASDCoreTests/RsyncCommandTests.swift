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
         ["rsync", "-aX", "--numeric-ids", "--modify-window=-1", "--exclude=/.asd-resync-tmp",
          "--", "/srv/.http-backup_asd/", "/tmp/asd-root/srv/http/"]),
        (RsyncCommand(.fillTmpfs(from: "/srv/.http-backup_asd/", to: "/tmp/x//"), acls: true, progress: true),
         ["rsync", "-aAX", "--numeric-ids", "--modify-window=-1", "--exclude=/.asd-resync-tmp",
          "--info=progress2", "--no-inc-recursive", "--", "/srv/.http-backup_asd/", "/tmp/x/"]),
        (RsyncCommand(.writeBack(from: "/tmp/asd-root/srv/http", to: "/srv/.http-backup_asd",
                                 tempDir: "/srv/.http-backup_asd/.asd-resync-tmp")),
         ["rsync", "-aX", "--numeric-ids", "--modify-window=-1", "--delete-after", "--exclude=/.flagged",
          "--exclude=/.asd-resync-tmp", "--temp-dir=/srv/.http-backup_asd/.asd-resync-tmp",
          "--", "/tmp/asd-root/srv/http/", "/srv/.http-backup_asd/"]),
        (RsyncCommand(.writeBack(from: "/tmp/a", to: "/srv/b", tempDir: "/srv/.tmp"), acls: true, progress: true),
         ["rsync", "-aAX", "--numeric-ids", "--modify-window=-1", "--delete-after", "--exclude=/.flagged",
          "--temp-dir=/srv/.tmp", "--info=progress2", "--no-inc-recursive", "--", "/tmp/a/", "/srv/b/"]),
        (RsyncCommand(.writeBack(from: "/tmp/-a", to: "/-b", tempDir: "/-b/t/x"), executable: "/usr/bin/rsync"),
         ["/usr/bin/rsync", "-aX", "--numeric-ids", "--modify-window=-1", "--delete-after", "--exclude=/.flagged",
          "--exclude=/t/x", "--temp-dir=/-b/t/x", "--", "/tmp/-a/", "/-b/"]),
        (RsyncCommand(.fillTmpfs(from: "/", to: "/tmp/root")),
         ["rsync", "-aX", "--numeric-ids", "--modify-window=-1", "--exclude=/.asd-resync-tmp",
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

    @Test("default temp dir lives inside the disk copy")
    func tempDir() {
        #expect(RsyncCommand.defaultTempDir(in: "/srv/.http-backup_asd/") == "/srv/.http-backup_asd/.asd-resync-tmp")
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
            mkdir -p tmpfs/sub disk/sub disk/.asd-resync-tmp
            printf new > tmpfs/sub/file; printf old > disk/sub/file
            touch -d '2020-01-01 00:00:00.700000000' tmpfs/sub/file
            touch -d '2020-01-01 00:00:00.100000000' disk/sub/file
            echo 1 > tmpfs/.flagged; echo gone > disk/removed
            """, in: dir)
        let command = RsyncCommand(.writeBack(
            from: dir + "/tmpfs", to: dir + "/disk", tempDir: RsyncCommand.defaultTempDir(in: dir + "/disk")))
        let log = RecordingLog()
        let outcome = try Rsync.run(command, log: log)
        #expect(outcome == RsyncOutcome(vanishedFiles: false))
        #expect(try read(dir + "/disk/sub/file") == "new")
        let listing = try Subprocess.run(["find", dir + "/disk", "-mindepth", "1"], captureOutput: true).outputText
        let expected = ["\(dir)/disk/.asd-resync-tmp", "\(dir)/disk/sub", "\(dir)/disk/sub/file"]
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
