import Foundation
import Testing

/// USE_RSYNC itself (engine-specific by nature, so it does not follow ASD_TEST_ENGINE):
/// parse names the engine in force; with USE_RSYNC on and rsync missing or older than
/// 3.1.3, sync refuses before touching anything and names the package and the version;
/// with it on, the copies really run rsync.
@Suite(.privileged) struct EngineChoiceTests {
    @Test func useRsyncIsCheckedShownAndUsed() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], backups: false, engine: .rsync)
        let paths = sandbox.paths(target)
        let oldRsync = "#!/bin/sh\necho 'rsync  version 3.1.2  protocol version 31'\n"
        func untouched(_ scenario: Scenario) -> Scenario {
            scenario.expectNotMounted(target).expectAbsent(paths.diskCopy).expectAbsent(paths.tmpfsCopy)
                .expectAbsent("$DAEMON_FILE").expectAbsent("$DAEMON_FILE.conf")
        }
        var scenario = Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "before")
            .shell("mkdir -p \"$SANDBOX/nothing\" \"$SANDBOX/old\"")
            .writeFile("$SANDBOX/old/rsync", oldRsync)
            .shell("chmod 0755 \"$SANDBOX/old/rsync\"")
            .asd("sync", as: "missing", environment: ["PATH": sandbox.root + "/nothing"])
        scenario = untouched(scenario)
            .asd("sync", as: "old", environment: ["PATH": sandbox.root + "/old"])
        let result = try await untouched(scenario)
            .snapshotTree(target, as: "refused")
            .asd("parse", as: "parse-rsync")
            .asd("sync", as: "sync", environment: ["DEBUG": "1"])
            .asd("resync", as: "resync", environment: ["DEBUG": "1"])
            .asd("unsync", as: "unsync")
            .shell("sed -i 's/^USE_RSYNC=.*/USE_RSYNC=\"no\"/' \"$ASDCONF\"")
            .asd("parse", as: "parse-builtin")
            .asd("sync", as: "sync-builtin", environment: ["DEBUG": "1"])
            .asd("unsync", as: "unsync-builtin")
            .run()
        result.expectNoFailures()
        for (label, found) in [("missing", "not installed"), ("old", "this system has rsync 3.1.2")] {
            let run = try result.command(label)
            #expect(run.status == 1, "\(label): \(run.output)")
            for text in ["USE_RSYNC", "rsync 3.1.3 or newer", found, "'rsync'", "apt-get install rsync"] {
                #expect(run.output.contains(text), "\(label): '\(text)' not in: \(run.output)")
            }
        }
        try expectSameTree(result.tree("before"), result.tree("refused"), .strict, "target after the refused syncs")
        try result.expectExitedZero(["parse-rsync", "sync", "resync", "unsync", "parse-builtin", "sync-builtin", "unsync-builtin"])
        #expect(try result.command("parse-rsync").output.contains("Copy engine in force: rsync (USE_RSYNC)."))
        #expect(try result.command("parse-builtin").output.contains("Copy engine in force: built-in."))
        #expect(try result.command("sync").output.contains("Running: rsync -aAX --numeric-ids --modify-window=-1 --exclude=/"))
        #expect(try result.command("resync").output.contains("Running: rsync -aAX --numeric-ids --modify-window=-1 --delete-after --exclude=/.flagged --temp-dir="))
        #expect(try !result.command("sync-builtin").output.contains("Running: rsync"))
        #expect(try result.command("sync-builtin").output.contains("(built-in copier)"))
    }
}

/// USE_RSYNC="yes" gives rsync only trees whose every directory is root's alone: rsync,
/// as root, walks by path and would follow a directory a user swaps for a symlink. A
/// tree with one directory another user owns (deep inside) is copied by the built-in
/// copier, with a warning at sync naming that directory; USE_RSYNC="always" uses rsync
/// for it too. Either way the trees come back exactly.
@Suite(.privileged) struct RsyncTrustTests {
    @Test func rsyncGetsOnlyTreesNoOtherUserCanChange() async throws {
        let sandbox = try Sandbox()
        let open = "$DATA/open", closed = "$DATA/closed"
        // A later assignment wins, as in bash: the harness's engine line is overridden.
        try sandbox.writeConfig(targets: [open, closed], backups: false, engine: .builtin, extra: "USE_RSYNC=\"yes\"")
        let result = try await Scenario(sandbox)
            .shell("""
                umask 022
                mkdir -p "$DATA/closed/a/b" "$DATA/open/sub/deep/er"
                printf 'c' >"$DATA/closed/a/b/file"; printf 'o' >"$DATA/open/sub/deep/er/file"
                chown 65534:65534 "$DATA/open/sub/deep"
                """)
            .snapshotTree(open, as: "open-before").snapshotTree(closed, as: "closed-before")
            .asd("sync", as: "sync", environment: ["DEBUG": "1"])
            .asd("resync", as: "resync", environment: ["DEBUG": "1"])
            .asd("unsync", as: "unsync")
            .snapshotTree(open, as: "open-after").snapshotTree(closed, as: "closed-after")
            .shell("sed -i 's/^USE_RSYNC=\"yes\"/USE_RSYNC=\"always\"/' \"$ASDCONF\"")
            .asd("sync", as: "sync-always", environment: ["DEBUG": "1"])
            .asd("unsync", as: "unsync-always")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync", "sync-always", "unsync-always"])
        let openDisk = sandbox.paths(open).diskCopy
        func rsyncRuns(_ label: String) throws -> [Substring] {
            try result.command(label).output.split(separator: "\n").filter { $0.contains("Running: rsync") }
        }
        let sync = try result.command("sync").output
        #expect(sync.contains("USE_RSYNC: \(openDisk) is copied with asd's built-in copier, not rsync: \(openDisk)/sub/deep (owner "), "\(sync)")
        #expect(sync.contains("USE_RSYNC=\"always\" uses rsync even so"), "\(sync)")
        #expect(try rsyncRuns("sync").contains { $0.contains("/closed") }, "closed tree not given to rsync: \(sync)")
        #expect(try !rsyncRuns("sync").contains { $0.contains("/open") }, "open tree given to rsync: \(sync)")
        let resync = try result.command("resync").output
        #expect(resync.contains("with the built-in copier: ") && resync.contains("/sub/deep (owner "), "\(resync)")
        #expect(try rsyncRuns("resync").contains { $0.contains("/closed") }, "\(resync)")
        #expect(try !rsyncRuns("resync").contains { $0.contains("/open") }, "\(resync)")
        let always = try result.command("sync-always").output
        #expect(!always.contains("built-in copier, not rsync"), "\(always)")
        #expect(try rsyncRuns("sync-always").contains { $0.contains("/open") }, "\(always)")
        try expectSameTree(result.tree("open-before"), result.tree("open-after"), .lifecycle, "open tree after the cycle")
        try expectSameTree(result.tree("closed-before"), result.tree("closed-after"), .lifecycle, "closed tree after the cycle")
    }
}
