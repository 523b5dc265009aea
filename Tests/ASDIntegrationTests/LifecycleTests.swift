@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Testing

extension Sandbox {
    /// asd's instance name for this sandbox's config (write the config first).
    var instance: String { Invocation.instanceName(forResolvedConfig: FilePath(resolvedConfig)) }

    /// Upstream's paths for `target` (a bash word such as `$DATA/t`), owned by `user`.
    func paths(_ target: String, user: String = "root") -> SandboxPaths {
        SandboxPaths(TargetPaths(target: FilePath(expand(target)), user: user, volatile: FilePath(volatile), instance: instance))
    }
}

extension TreeManifest {
    /// Entries named like temporary files (rsync's `.name.XXXXXX`, the engine's
    /// `.asd-tmp-*`), which must never remain inside a target (doc/DESIGN.md §6).
    var temporaryFiles: [String] {
        let pattern = try! Regex("^\\..+\\.[A-Za-z0-9]{6}$")
        return paths.filter { path in
            let name = String(path.split(separator: "/").last ?? "")
            return name.hasPrefix(".asd-tmp") || (try? pattern.wholeMatch(in: name)) != nil
        }
    }
}

/// sync → resync → unsync of the real engine, in full and overlay mode (doc/DESIGN.md §3-§6,
/// §5.5). These fail until the engine exists; they are not skipped for that.
@Suite(.privileged) struct LifecycleTests {
    @Test(arguments: [false, true])
    func roundTripKeepsEveryChange(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        var scenario = Scenario(sandbox)
            .shell(Fixture.rich(at: target))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .expectMounted(target, fstype: overlay ? "overlay" : "tmpfs")
            .expectMounted(paths.diskCopy)
            .expectExists(paths.flag)
            .expectExists("$DAEMON_FILE")
            .expectExists("$DAEMON_FILE.conf")
        if overlay {
            scenario = scenario.expectExists(paths.overlayUpper).expectExists(paths.overlayWork)
        } else {
            scenario = scenario.expectSameFilesystem(target, as: "$VOLATILE")
        }
        let result = try await scenario
            .snapshotTree(target, as: "synced")
            .snapshotTree(paths.diskCopy, as: "disk-synced")
            .shell(Fixture.changes(in: target))
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync1")
            .expectMounted(target)
            .expectExists(paths.flag)
            .snapshotTree(paths.diskCopy, as: "disk-resync1")
            .shell(Fixture.sameSecondRewrite(in: target))
            .snapshotTree(target, as: "rewritten")
            .asd("resync", as: "resync2")
            .snapshotTree(paths.diskCopy, as: "disk-resync2")
            .shell("rm -rf \"\(target)/a/b/c\" && ln -s x \"\(target)/late-link\" && echo late >>\"\(target)/secret\"")
            .snapshotTree(target, as: "before-unsync")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .expectNotMounted(paths.diskCopy)
            .expect("[[ -z \"$(find \"$DATA\" -maxdepth 1 -name '.t-backup_asd*')\" ]]", "leftovers: $(ls -A \"$DATA\")")
            .expectEmptyDirectory("$VOLATILE")
            .expectAbsent("$DAEMON_FILE")
            .expectAbsent("$DAEMON_FILE.conf")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync1", "resync2", "unsync"])
        let initial = try result.tree("initial")
        try expectSameTree(initial, result.tree("synced"), .lifecycle, "tmpfs view after sync")
        #expect(try result.tree("synced")[".flagged"] != nil, ".flagged not visible in the target")
        try expectSameTree(initial, result.tree("disk-synced"), .strict, "disk copy after sync")
        try expectSameTree(result.tree("changed"), result.tree("disk-resync1"), .lifecycle, "changed vs disk-resync1")
        // Same size, same mtime second, other nanoseconds and content (doc/DESIGN.md §6.2).
        try expectSameTree(result.tree("rewritten"), result.tree("disk-resync2"), .lifecycle, "rewritten vs disk-resync2")
        #expect(try result.tree("disk-resync2")["same-second"]?.mtime.nanoseconds == 200_000_000)
        let final = try result.tree("final")
        try expectSameTree(result.tree("before-unsync"), final, .lifecycle, "before-unsync vs final")
        #expect(final[".flagged"] == nil)
        for label in ["disk-resync1", "disk-resync2", "final"] {
            #expect(try result.tree(label).temporaryFiles == [], "temp files left in \(label)")
        }
    }

    @Test func ownerModeDotNameAndTwoTargets() async throws {
        let sandbox = try Sandbox()
        let owned = "$DATA/owned", dotted = "$DATA/.cache"
        try sandbox.writeConfig(targets: [owned, dotted + "/"])
        let ownedPaths = sandbox.paths(owned, user: "nobody"), dotPaths = sandbox.paths(dotted)
        #expect(dotPaths.diskCopy == sandbox.data + "/.cache-backup_asd")
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: owned) + "\nchown -R 65534:65534 \"\(owned)\" && chmod 0750 \"\(owned)\"")
            .shell(Fixture.small(at: dotted) + "\nchmod 0700 \"\(dotted)\"")
            .snapshotTree(owned, as: "owned-initial")
            .snapshotTree(dotted, as: "dot-initial")
            .asd("sync", as: "sync")
            .expectMounted(owned)
            .expectMounted(dotted)
            .expectExists(ownedPaths.flag)
            .expectExists(dotPaths.flag)
            .expectExists(dotPaths.diskCopy)
            .expect("[[ $(stat -c %u:%g:%a \"\(ownedPaths.tmpfsCopy)\") == 65534:65534:750 ]]",
                    "tmpfs copy of owned: $(stat -c %u:%g:%a \"\(ownedPaths.tmpfsCopy)\")")
            .snapshotTree(owned, as: "owned-synced")
            .snapshotTree(dotted, as: "dot-synced")
            .shell("printf x >\"\(owned)/new\" && chown 65534:65534 \"\(owned)/new\" && rm \"\(dotted)/one.txt\"")
            .snapshotTree(owned, as: "owned-changed")
            .snapshotTree(dotted, as: "dot-changed")
            .asd("unsync", as: "unsync")
            .expectNotMounted(owned)
            .expectNotMounted(dotted)
            .expectAbsent(dotPaths.diskCopy)
            .expectAbsent(ownedPaths.diskCopy)
            .expectEmptyDirectory("$VOLATILE")
            .snapshotTree(owned, as: "owned-final")
            .snapshotTree(dotted, as: "dot-final")
            .run()
        result.expectNoFailures()
        #expect(try result.command("sync").status == 0 && result.command("unsync").status == 0)
        for name in ["owned", "dot"] {
            let initial = try result.tree("\(name)-initial")
            try expectSameTree(initial, result.tree("\(name)-synced"), .lifecycle, "\(name)")
            try expectSameTree(result.tree("\(name)-changed"), result.tree("\(name)-final"), .lifecycle, "\(name) after unsync")
        }
        let ownedRoot = try #require(try result.tree("owned-synced")["."])
        #expect(ownedRoot.uid == 65534 && ownedRoot.gid == 65534 && ownedRoot.modeText == "0750")
        let finalRoot = try #require(try result.tree("owned-final")["."])
        #expect(finalRoot.uid == 65534 && finalRoot.modeText == "0750")
        #expect(try result.tree("dot-final")["."]?.modeText == "0700")
    }

    @Test func repeatedAndUnneededCommandsAreHarmless() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "initial")
            .asd("resync", as: "resync-idle")
            .asd("unsync", as: "unsync-idle")
            .expectNotMounted(target)
            .asd("sync", as: "sync1")
            .asd("sync", as: "sync2")
            .capture("findmnt -n --mountpoint \"\(target)\" | wc -l", as: "mounts")
            .asd("unsync", as: "unsync1")
            .asd("unsync", as: "unsync2")
            .asd("resync", as: "resync-after")
            .expectNotMounted(target)
            .expectEmptyDirectory("$VOLATILE")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["resync-idle", "unsync-idle", "sync1", "sync2", "unsync1", "unsync2", "resync-after"])
        #expect(try result.command("sync2").output.lowercased().contains("already running"))
        for label in ["resync-idle", "unsync-idle", "unsync2", "resync-after"] {
            #expect(try result.command(label).output.lowercased().contains("not running"), "\(label)")
        }
        #expect(try result.command("mounts").stdout == "1\n", "sync twice stacked mounts")
        try expectSameTree(result.tree("initial"), result.tree("final"), .lifecycle, "initial vs final")
    }
}
