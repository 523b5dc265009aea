import Foundation
import Testing

/// The two copiers test each other (doc/DESIGN.md §6.4, §9): for each seed one random tree
/// (`RandomTree`) is built twice, once in a target the built-in copier keeps and once in
/// a target the rsync copier keeps (two configs, two asd instances, one namespace). Both
/// are synced, changed the same random way over three rounds with a resync after each,
/// and unsynced. After every resync the disk copies must equal their RAM views (complete
/// manifests: type, mode, owner, size, content, nanosecond mtime, symlink target, device,
/// xattrs and ACLs) and each other, and so must the targets after unsync.
///
/// Seeds 1...`ASD_DIFF_SEEDS` (default 20), odd ones in full mode, even ones in overlay
/// mode (`ASD_DIFF_BOTH_MODES=1`: each in both). The cases run one after another (each
/// has 18 complete manifests to take; in parallel they starve each other); a failure
/// names the seed, the mode, the step and the first differing entry. Rerun one seed with
/// `ASD_DIFF_SEEDS=N ASD_DIFF_FIRST_SEED=N`.
///
/// Names with bytes that are not UTF-8 are part of every tree (both copiers keep them
/// exact); `ASD_DIFF_NON_UTF8=0` leaves them out, to tell such a failure apart.
/// `ASD_DIFF_STICKY_DIR_ACL=1` adds a case rsync itself gets wrong (see below).
@Suite(.privileged, .serialized) struct DifferentialTests {
    static let environment = ProcessInfo.processInfo.environment
    static let firstSeed = UInt64(environment["ASD_DIFF_FIRST_SEED"] ?? "") ?? 1
    static let seedCount = UInt64(environment["ASD_DIFF_SEEDS"] ?? "") ?? 20
    static let seeds = Array(firstSeed..<(firstSeed + max(1, seedCount)))
    static let nonUTF8 = environment["ASD_DIFF_NON_UTF8"] != "0"
    /// `ASD_DIFF_STICKY_DIR_ACL=1`: also access ACLs on sticky directories, which rsync
    /// copies wrongly (see `RandomTree.stickyDirectoryACLs`); off, as a known rsync defect.
    static let stickyDirectoryACLs = environment["ASD_DIFF_STICKY_DIR_ACL"] == "1"
    static let rounds = 3

    /// Odd seeds in full mode, even ones in overlay mode (`ASD_DIFF_BOTH_MODES=1`: each
    /// seed in both).
    static let cases: [(UInt64, Bool)] = seeds.flatMap { seed in
        environment["ASD_DIFF_BOTH_MODES"] == "1" ? [(seed, false), (seed, true)] : [(seed, seed % 2 == 0)]
    }

    @Test(arguments: cases)
    func bothCopiersLeaveTheSameTree(seed: UInt64, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let builtin = "$DATA/b", rsync = "$DATA/r"
        try sandbox.writeConfig(targets: [builtin], overlay: overlay, engine: .builtin)
        let rsyncConfig = sandbox.root + "/config/rsync.conf"
        try """
            WHATTOSYNC=("\(sandbox.expand(rsync))")
            VOLATILE="\(sandbox.volatile)"
            USE_OVERLAYFS="\(overlay ? "yes" : "no")"
            USE_RSYNC="always"

            """.write(toFile: rsyncConfig, atomically: false, encoding: .utf8)
        let viaRsync = ["ASDCONF": rsyncConfig, "DAEMON_FILE": sandbox.root + "/run/asd-rsync"]
        let diskB = sandbox.paths(builtin).diskCopy, diskR = sandbox.paths(rsync).diskCopy

        var tree = RandomTree(seed: seed, nonUTF8: Self.nonUTF8, stickyDirectoryACLs: Self.stickyDirectoryACLs)
        let generate = tree.generate()
        func inBoth(_ script: String) -> String {
            RandomTree.prelude + "\n" + [builtin, rsync].map { "( cd \"\($0)\"\n\(script)\n)" }.joined(separator: "\n")
        }
        var scenario = Scenario(sandbox, volatileSize: "512m", timeoutSeconds: 900)
            .shell("mkdir -p \"\(builtin)\" \"\(rsync)\"")
            .shell(inBoth(generate))
            .snapshotTree(builtin, as: "gen-b").snapshotTree(rsync, as: "gen-r")
            .asd("sync", as: "sync-b")
            .asd("sync", as: "sync-r", environment: viaRsync)
            .snapshotTree(builtin, as: "synced-b").snapshotTree(rsync, as: "synced-r")
        var labels = ["sync-b", "sync-r"]
        for round in 1...Self.rounds {
            scenario = scenario
                .shell(inBoth(tree.mutate()))
                .snapshotTree(builtin, as: "ram\(round)-b").snapshotTree(rsync, as: "ram\(round)-r")
                .asd("resync", as: "resync\(round)-b")
                .asd("resync", as: "resync\(round)-r", environment: viaRsync)
                .snapshotTree(diskB, as: "disk\(round)-b").snapshotTree(diskR, as: "disk\(round)-r")
            labels += ["resync\(round)-b", "resync\(round)-r"]
        }
        let result = try await scenario
            .asd("unsync", as: "unsync-b")
            .asd("unsync", as: "unsync-r", environment: viaRsync)
            .snapshotTree(builtin, as: "final-b").snapshotTree(rsync, as: "final-r")
            .run()
        labels += ["unsync-b", "unsync-r"]
        result.expectNoFailures()
        try result.expectExitedZero(labels)

        let what = "seed \(seed) (\(overlay ? "overlay" : "full") mode\(Self.nonUTF8 ? ", non-UTF-8 names" : ""))"
        let same = TreeComparison(excluding: [".flagged"], ignoreRootMtime: true)
        // The premise: the same script made the same trees.
        try expectIdentical(result.tree("gen-b"), result.tree("gen-r"), same, "\(what): the generator gave two different trees")
        try expectIdentical(result.tree("gen-b"), result.tree("synced-b"), same, "\(what), sync, built-in: tmpfs copy vs disk")
        try expectIdentical(result.tree("gen-r"), result.tree("synced-r"), same, "\(what), sync, rsync: tmpfs copy vs disk")
        for round in 1...Self.rounds {
            let ramB = try result.tree("ram\(round)-b"), ramR = try result.tree("ram\(round)-r")
            expectIdentical(ramB, ramR, same, "\(what), round \(round): the changes gave two different RAM views")
            expectIdentical(ramB, try result.tree("disk\(round)-b"), same, "\(what), resync \(round), built-in: disk copy vs RAM view")
            expectIdentical(ramR, try result.tree("disk\(round)-r"), same, "\(what), resync \(round), rsync: disk copy vs RAM view")
            expectIdentical(try result.tree("disk\(round)-b"), try result.tree("disk\(round)-r"), same,
                            "\(what), resync \(round): built-in disk copy vs rsync disk copy")
        }
        let lastB = try result.tree("ram\(Self.rounds)-b"), lastR = try result.tree("ram\(Self.rounds)-r")
        expectIdentical(lastB, try result.tree("final-b"), same, "\(what), after unsync, built-in: target vs last RAM view")
        expectIdentical(lastR, try result.tree("final-r"), same, "\(what), after unsync, rsync: target vs last RAM view")
        expectIdentical(try result.tree("final-b"), try result.tree("final-r"), same, "\(what), after unsync: built-in vs rsync")
    }

    /// One issue naming the first difference (and how many there are).
    func expectIdentical(
        _ left: TreeManifest, _ right: TreeManifest, _ comparison: TreeComparison, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let lines = left.differences(from: right, comparison)
        guard let first = lines.first else { return }
        Issue.record("\(what): first difference: \(first) (\(lines.count) in all; left = first named)",
                     sourceLocation: sourceLocation)
    }
}
