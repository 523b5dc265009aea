import Foundation
import Testing

/// Either implementation takes over the other's running state (doc/DESIGN.md §3). Optional: runs
/// only when `ASD_UPSTREAM` names upstream's script (`common/anything-sync-daemon.in`
/// with @VERSION@ replaced, executable; it needs pv, rsync, zstd, flock). CI does not
/// count these as required.
@Suite(
    .privileged,
    .enabled(if: Privilege.environment["ASD_UPSTREAM"].map { !$0.isEmpty } ?? false,
             "set ASD_UPSTREAM to upstream's anything-sync-daemon script to run the cross-compatibility tests")
)
struct LifecycleUpstreamTests {
    enum Direction: String, CaseIterable, Sendable {
        case upstreamSyncsOursUnsyncs, oursSyncsUpstreamUnsyncs
    }

    /// A tree upstream carries intact (it drops ACLs, so none here).
    static func tree(at root: String) -> String {
        Fixture.small(at: root) + """

            printf 'x' >"\(root)/sub/xattr" && setfattr -n user.test -v value "\(root)/sub/xattr"
            ln -s sub/two.txt "\(root)/link" && chmod 0600 "\(root)/one.txt"
            touch -d @1577934245.5 "\(root)/sub" "\(root)"
            """
    }

    @Test(arguments: Direction.allCases, [false, true])
    func takeOver(direction: Direction, overlay: Bool) async throws {
        let upstream = try #require(Privilege.environment["ASD_UPSTREAM"])
        try #require(access(upstream, X_OK) == 0, "ASD_UPSTREAM=\(upstream) is not executable")
        try #require(Executable.find("pv") != nil, "upstream asd needs pv(1), which is not installed")
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let first = direction == .upstreamSyncsOursUnsyncs ? "$UPSTREAM" : nil
        let second = direction == .upstreamSyncsOursUnsyncs ? nil : "$UPSTREAM"
        // Upstream's own defects are not what this test is about: when it writes back, it
        // leaves empty parents in VOLATILE and its rsync --delete-after bumps dir mtimes.
        let upstreamUnsyncs = direction == .oursSyncsUpstreamUnsyncs
        var comparison = TreeComparison.lifecycle
        comparison.ignoreDirectoryMtimes = upstreamUnsyncs
        let result = try await Scenario(sandbox)
            .shell(Self.tree(at: target))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync", binary: first)
            .expectMounted(target)
            .expectExists(paths.flag)
            .expectExists(paths.diskCopy)
            .snapshotTree(target, as: "synced")
            .shell("printf changed >>\"\(target)/one.txt\" && printf new >\"\(target)/new\" && rm \"\(target)/sub/two.txt\"")
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync", binary: second)
            .snapshotTree(paths.diskCopy, as: "disk")
            .asd("unsync", as: "unsync", binary: second)
            .expectNotMounted(target)
            .expectAbsent(paths.diskCopy)
            .expectAbsent(paths.snapshot)
            .expectAbsent(paths.tmpfsCopy)
            .expectAbsent("$DAEMON_FILE")
            .snapshotTree(target, as: "final")
            .expect(upstreamUnsyncs ? "true" : "[[ -z \"$(ls -A \"$VOLATILE\")\" ]]", "$VOLATILE is not empty")
            // Ours again: whatever upstream's unsync left of ours (the overlay's lower
            // bind, which upstream does not know) goes with the next sync and unsync.
            .asd("sync", as: "sync-again")
            .asd("unsync", as: "unsync-again")
            .expect("! findmnt -rn -o TARGET | grep -F \"$VOLATILE/\"", "mounts left in $VOLATILE: $(findmnt -rn -o TARGET | grep -F $VOLATILE/)")
            .expectAbsent(paths.overlayLower)
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync", "sync-again", "unsync-again"])
        // Upstream's initial copy (`rsync -aXl --append`) does not keep symlink mtimes; that
        // is upstream's sync, not ours, so only then are mtimes left out of this comparison.
        var syncComparison = TreeComparison.lifecycle
        if direction == .upstreamSyncsOursUnsyncs { syncComparison.ignoring.insert(.mtime) }
        try expectSameTree(result.tree("initial"), result.tree("synced"), syncComparison, "initial vs synced")
        try expectSameTree(result.tree("changed"), result.tree("disk"), comparison, "changed vs disk")
        try expectSameTree(result.tree("changed"), result.tree("final"), comparison, "changed vs final")
    }
}
