@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// doc/DESIGN.md §5: asd never discards data that lives only in RAM.
/// Whether a target is running is read from the mount table (is the target served
/// from our tmpfs copy?), not from the marker `.flagged` alone.
@Suite(.privileged) struct RunningStateTests {
    /// The marker is deleted through the target (a cleanup script, a user tidying
    /// dot-files) while asd runs; then `resync` or `unsync`. Every change made since
    /// sync must reach the disk, the target stays in tmpfs until unsync, the marker
    /// comes back, and no crash recovery happens.
    @Test(arguments: [(false, "resync"), (true, "resync"), (false, "unsync"), (true, "unsync")])
    func markerDeletedWhileRunning(overlay: Bool, command: String) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        var scenario = Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .shell("rm \"\(target)/.flagged\"")
            .shell("printf 'changed\\n' >>\"\(target)/one.txt\" && printf 'new\\n' >\"\(target)/new.txt\" && rm \"\(target)/sub/two.txt\"")
            .snapshotTree(target, as: "changed")
            .asd(command, as: "command")
        if command == "resync" {
            scenario = scenario
                .expectMounted(target)
                .expectExists(paths.flag)
                .expectExists("$DAEMON_FILE")
                .reboot()
        } else {
            scenario = scenario.expectNotMounted(target).expectAbsent("$DAEMON_FILE")
        }
        let result = try await scenario
            .snapshotTree(target, as: "disk")
            .expect("[[ -z \"$(compgen -G '\(paths.parent)/\(paths.archivePrefix)*')\" ]]", "a crash archive was made")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "command"])
        let output = try result.command("command").output
        #expect(!output.contains("Ungraceful"), "\(output)")
        #expect(output.contains(".flagged") && output.contains("still served"), "no warning about the marker:\n\(output)")
        try expectSameTree(result.tree("changed"), result.tree("disk"), .lifecycle, "disk vs changes")
    }

    /// The marker is deleted and `asd sync` runs again (the daemon file is gone too,
    /// as after a cleaned /run): the running target is kept and written back, not
    /// recovered or synced a second time over itself.
    @Test(arguments: [false, true])
    func syncAgainKeepsARunningTarget(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .shell("rm \"\(target)/.flagged\" \"$DAEMON_FILE\"")
            .shell("printf 'changed\\n' >>\"\(target)/one.txt\"")
            .snapshotTree(target, as: "changed")
            .asd("sync", as: "again")
            .expect("[[ $(findmnt -rn --mountpoint \"\(target)\" | wc -l) == 1 ]]", "target mounted $(findmnt -rn --mountpoint \"\(target)\" | wc -l) times")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .snapshotTree(target, as: "disk")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "again", "unsync"])
        #expect(try !result.command("again").output.contains("Ungraceful"))
        try expectSameTree(result.tree("changed"), result.tree("disk"), .lifecycle, "disk vs changes")
    }

    /// What goes behind asd's back while it runs.
    enum Gone: String, CaseIterable, Sendable {
        /// The target is unmounted (`umount -l`): it is no longer served from the tmpfs
        /// copy, so this is recovered, but the whole, marked tmpfs copy is written back
        /// first: what was only in RAM reaches the disk.
        case target
        /// VOLATILE is unmounted (at shutdown, when nothing orders asd's stop before it:
        /// the generator's RequiresMountsFor= does). The tmpfs copy lives on only in the
        /// bind mount at the target (in overlay mode the overlay below VOLATILE goes too);
        /// the path under VOLATILE shows the empty directory below. unsync must write back
        /// what the target shows and put the target back on disk.
        case volatile
    }

    @Test(arguments: Gone.allCases, [false, true])
    func mountGoneBehindOurBack(_ gone: Gone, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let command = gone == .target ? "resync" : "unsync"
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .shell("printf 'changed\\n' >>\"\(target)/one.txt\" && printf 'new\\n' >\"\(target)/new.txt\" && rm \"\(target)/sub/two.txt\"")
            .snapshotTree(target, as: "changed")
            .shell(gone == .target ? "umount -l \"\(target)\"" : "umount -R \"$VOLATILE\"")
            .asd(command, as: "command")
            .expectNotMounted(target)
            .snapshotTree(target, as: "disk")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "command"])
        if gone == .volatile {
            let output = try result.command("command").output
            #expect(output.contains("is no longer at") && output.contains("writing back what the mount at"), "\(output)")
        }
        try expectSameTree(result.tree("changed"), result.tree("disk"), .lifecycle, "disk vs changes")
    }
}
