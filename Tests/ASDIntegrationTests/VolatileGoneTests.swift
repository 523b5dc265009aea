import Foundation
import Testing

/// VOLATILE unmounted under a running asd (at shutdown, when nothing orders asd's
/// stop before VOLATILE's unmount: the generator's RequiresMountsFor= is what does).
/// The tmpfs copy then lives on only in the bind mount at the target; the path under
/// VOLATILE shows the empty directory below. unsync must write back what the target
/// shows, every change since sync, and put the target back on disk.
@Suite(.privileged) struct VolatileGoneTests {
    @Test(arguments: [false, true])
    func unsyncAfterVolatileWasUnmounted(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .shell("printf 'changed\\n' >>\"\(target)/one.txt\" && printf 'new\\n' >\"\(target)/new.txt\" && rm \"\(target)/sub/two.txt\"")
            .snapshotTree(target, as: "changed")
            // The overlay (mounted below VOLATILE) goes with it; the target's bind keeps it alive.
            .shell("umount -R \"$VOLATILE\"")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .snapshotTree(target, as: "disk")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        let output = try result.command("unsync").output
        #expect(output.contains("is no longer at") && output.contains("writing back what the mount at"), "\(output)")
        try expectSameTree(result.tree("changed"), result.tree("disk"), .lifecycle, "disk vs the changes made in tmpfs")
    }
}
