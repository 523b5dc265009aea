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
