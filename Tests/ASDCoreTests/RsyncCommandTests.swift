import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import ASDTestSupport

/// The rsync engine's command lines (pure values) and how its exit statuses are read.
@Suite("RsyncCommand argv")
struct RsyncCommandTests {
    static let base: [FilePath] = ["rsync", "-aAX", "--numeric-ids", "--modify-window=-1"]

    static let cases: [(RsyncCommand, [FilePath])] = [
        (RsyncCommand(.fill, from: "/srv/.http-backup_asd", to: "/tmp/asd-root/srv/http"),
         base + ["--", "/srv/.http-backup_asd/", "/tmp/asd-root/srv/http/"]),
        (RsyncCommand(.fill, from: "/srv/.http-backup_asd//", to: "/tmp/x", progress: true),
         base + ["--info=progress2", "--no-inc-recursive", "--", "/srv/.http-backup_asd/", "/tmp/x/"]),
        (RsyncCommand(.writeBack(tempDirectory: "/run/asd.stage/.http-backup_asd-tmp"),
                      from: "/tmp/asd-root/srv/http", to: "/run/asd.stage/http"),
         base + ["--delete-after", "--exclude=/.flagged", "--temp-dir=/run/asd.stage/.http-backup_asd-tmp",
                 "--", "/tmp/asd-root/srv/http/", "/run/asd.stage/http/"]),
        (RsyncCommand(.writeBack(tempDirectory: nil), from: "/tmp/a", to: "/srv/b", progress: true),
         base + ["--delete-after", "--exclude=/.flagged", "--info=progress2", "--no-inc-recursive",
                 "--", "/tmp/a/", "/srv/b/"]),
        (RsyncCommand(.list(.transfer, tempDirectory: "/s/.t-tmp"), from: "/v/t", to: "/s/t"),
         base + ["--files-from=-", "--from0", "--exclude=/.flagged", "--ignore-missing-args", "--force",
                 "--temp-dir=/s/.t-tmp", "--", "/v/t/", "/s/t/"]),
        (RsyncCommand(.list(.rewrite, tempDirectory: "/s/.t-tmp"), from: "/v/t", to: "/s/t"),
         base + ["--files-from=-", "--from0", "--exclude=/.flagged", "--ignore-missing-args", "--force", "--ignore-times",
                 "--temp-dir=/s/.t-tmp", "--", "/v/t/", "/s/t/"]),
        (RsyncCommand(.fill, from: "/", to: "/tmp/-root", executable: "/usr/bin/rsync"),
         ["/usr/bin/rsync", "-aAX", "--numeric-ids", "--modify-window=-1", "--", "/", "/tmp/-root/"]),
        // Bytes that are not UTF-8 stay exactly as they are.
        (RsyncCommand(.writeBack(tempDirectory: FilePath(bytes: Array("/s/caf".utf8) + [0xE9, 0x2D, 0x74])),
                      from: FilePath(bytes: Array("/v/caf".utf8) + [0xE9]), to: FilePath(bytes: Array("/s/caf".utf8) + [0xE9])),
         base + ["--delete-after", "--exclude=/.flagged", FilePath(bytes: Array("--temp-dir=/s/caf".utf8) + [0xE9, 0x2D, 0x74]),
                 "--", FilePath(bytes: Array("/v/caf".utf8) + [0xE9, 0x2F]), FilePath(bytes: Array("/s/caf".utf8) + [0xE9, 0x2F])]),
    ]

    @Test("argv", arguments: cases)
    func argv(command: RsyncCommand, expected: [FilePath]) {
        #expect(command.argv == expected)
    }

    @Test("never writes in place, never keeps partial files, never delays updates into the target")
    func neverInPlace() {
        for (command, _) in Self.cases {
            for forbidden: FilePath in ["--inplace", "--partial", "--append", "--append-verify", "--delay-updates", "-H"] {
                #expect(!command.argv.contains(forbidden), "\(command.argv)")
            }
            #expect(command.argv.contains("-aAX") && command.argv.contains("--modify-window=-1"))
        }
    }

    @Test("version", arguments: [
        ("rsync  version 3.2.7  protocol version 31\nCopyright (C) 1996-2022", [3, 2, 7], true),
        ("rsync  version v3.1.3  protocol version 31", nil, false),
        ("rsync  version 3.1.3  protocol version 31", [3, 1, 3], true),
        ("rsync  version 3.1.2  protocol version 31", [3, 1, 2], false),
        ("rsync  version 3.5.0  protocol version 32", [3, 5, 0], true),
        ("rsync  version 3.2  protocol version 31", [3, 2], true),
        ("rsync  version 2.6.9  protocol version 29", [2, 6, 9], false),
        ("openrsync: protocol version 29", nil, false),
    ] as [(String, [Int]?, Bool)])
    func version(text: String, expected: [Int]?, newEnough: Bool) {
        let parsed = Rsync.version(fromVersionOutput: text)
        #expect(parsed == expected)
        #expect((parsed.map(Rsync.isNewEnough) ?? false) == newEnough)
    }

    static let vanishedACL = "rsync: [sender] get_acl: sys_acl_get_file(a/b, ACL_TYPE_ACCESS): No such file or directory (2)"
    static let summary23 = "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]"

    @Test("exit status", arguments: [
        (TerminationStatus.exited(0), "", 0 as Int?),
        (.exited(24), "file has vanished: \"/v/t/a\"\nfile has vanished: \"/v/t/b\"\nrsync warning: some files vanished before they could be transferred (code 24)", 2),
        (.exited(24), "", 1),
        (.exited(23), vanishedACL + "\n" + summary23, 1),
        (.exited(23), "rsync: [sender] rsync_xal_get: lgetxattr2(\"/v/x\",\"user.a\",0,0): No such file or directory (2)\n" + summary23, 1),
        // A missing source root, a receiver error or a write error is a failure.
        (.exited(23), "rsync: [sender] change_dir \"/v/t\" failed: No such file or directory (2)\n" + summary23, nil),
        (.exited(23), vanishedACL + "\nrsync: [receiver] mkstemp \"/s/.x.AbC\" failed: Permission denied (13)\n" + summary23, nil),
        (.exited(23), summary23, nil),
        (.exited(11), "rsync: [receiver] write failed on \"/s/t/x\": No space left on device (28)", nil),
        (.exited(20), "rsync error: received SIGINT, SIGTERM, or SIGHUP (code 20)", nil),
        (.signalled(9), "", nil),
    ] as [(TerminationStatus, String, Int?)])
    func exitStatus(status: TerminationStatus, stderr: String, vanished: Int?) {
        let result = ProcessResult(argv: ["rsync", "-aAX", "--", "/v/t/", "/s/t/"], status: status, standardOutput: [], standardError: stderr)
        do {
            let count = try Rsync.outcome(of: result)
            #expect(vanished == count, "\(status): \(stderr)")
        } catch {
            #expect(vanished == nil, "\(status): \(error)")
            #expect(error == .command(argv: result.argv.map(\.description), status: status.description, stderr: stderr))
            let message = ASDError(error).message
            #expect(message.contains("rsync -aAX -- /v/t/ /s/t/") && message.contains(status.description))
            #expect(stderr.isEmpty || message.contains(stderr))
        }
    }

    @Test("a missing or old rsync is refused naming the package and the version")
    func refusal() {
        let error = ASDError.toolTooOld(name: "rsync", package: "rsync", found: "3.1.2", needed: "3.1.3", key: "USE_RSYNC")
        #expect(error.message.contains("rsync 3.1.3 or newer") && error.message.contains("3.1.2")
            && error.message.contains("'rsync'") && error.message.contains("USE_RSYNC=no"))
        #expect(throws: ASDError.toolTooOld(name: "rsync", package: "rsync", found: nil, needed: "3.1.3", key: "USE_RSYNC")) {
            try ASDError.copying { () throws(CopyError) in try RsyncCopier(log: NullLog(), executable: "/nonexistent/rsync").checkAvailable() }
        }
    }

    @Test("rsync --version runs once per copier, however often the version is asked for")
    func versionProbedOnce() throws {
        try TemporaryDirectory.with(prefix: "asd-rsync-probe") { dir in
            let fake = dir + "/rsync"
            let made = try Subprocess.run(["bash", "-ec", """
                printf '#!/bin/sh\necho run >>"$0.log"\necho "rsync  version 3.2.7  protocol version 31"\n' >"$0"
                chmod 0755 "$0"
                """, fake])
            try #require(made.status.isSuccess, "cannot write \(fake)")
            let copier = RsyncCopier(log: NullLog(), executable: FilePath(fake))
            try copier.checkAvailable()
            try copier.checkAvailable()
            #expect(copier.version == [3, 2, 7])
            let runs = try Subprocess.run(["cat", fake + ".log"], captureOutput: true).outputText
            #expect(runs == "run\n")
        }
    }

    @Test("extra top-level names are excluded exactly, wildcards escaped; the marker only once")
    func excludedNames() {
        let command = RsyncCommand(.writeBack(tempDirectory: nil), from: "/v/t", to: "/s/t",
                                   excludedTopNames: [TargetPaths.flagName, ".t-backup_asd-tmp", "[a]*"])
        let words = command.argv.map(\.description)
        #expect(words.filter { $0 == "--exclude=/.flagged" }.count == 1)
        #expect(words.contains("--exclude=/.t-backup_asd-tmp"))
        #expect(words.contains("--exclude=/\\[a]\\*"))
        #expect(words.suffix(3) == ["--", "/v/t/", "/s/t/"])
    }

    @Test("--fsync only where asked, and never for the tmpfs fill")
    func fsyncOnWriteBack() {
        var writeBack = RsyncCommand(.writeBack(tempDirectory: "/s/tmp"), from: "/v/t", to: "/s/t")
        #expect(!writeBack.argv.contains("--fsync"))
        writeBack.fsync = true
        #expect(writeBack.argv.contains("--fsync"))
        var fill = RsyncCommand(.fill, from: "/s/t", to: "/v/t")
        fill.fsync = true
        #expect(!fill.argv.contains("--fsync"))
        #expect(Rsync.isAtLeast([3, 2, 7], Rsync.fsyncVersion) && !Rsync.isAtLeast([3, 2, 3], Rsync.fsyncVersion))
    }

    @Test("--stderr=all where asked, unless a progress line is shown")
    func directErrors() {
        var command = RsyncCommand(.writeBack(tempDirectory: nil), from: "/v/t", to: "/s/t")
        #expect(!command.argv.contains("--stderr=all"))
        command.directErrors = true
        #expect(command.argv.contains("--stderr=all"))
        #expect(command.argv.suffix(3) == ["--", "/v/t/", "/s/t/"])
        command.progress = true
        #expect(!command.argv.contains("--stderr=all") && command.argv.contains("--info=progress2"))
        #expect(Rsync.isAtLeast([3, 2, 3], Rsync.stderrVersion) && !Rsync.isAtLeast([3, 2, 2], Rsync.stderrVersion))
    }
}
