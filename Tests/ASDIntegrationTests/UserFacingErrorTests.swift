@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// Errors that name what the user sees (doc/DESIGN.md §8).
@Suite(.privileged) struct UserFacingErrorTests {
    /// The target's parent is a small file system of its own (`$DATA/fs`, 2 MiB tmpfs), or
    /// the target itself is (`$DATA/fs`, a mount point); a resync that does not fit, or
    /// meets it read-only, names the target, its disk copy and that mount point, never the
    /// transient staging path. The tmpfs copy stays.
    @Test(arguments: [(false, "full"), (true, "full"), (false, "read-only"), (true, "read-only"),
                      (false, "full target"), (true, "full target")])
    func fullOrReadOnlyDiskDuringResync(overlay: Bool, problem: String) async throws {
        let sandbox = try Sandbox()
        let target = problem == "full target" ? "$DATA/fs" : "$DATA/fs/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let change = problem.hasPrefix("full")
            ? "head -c 3M /dev/zero >\"\(target)/big\""
            : "printf 'x' >>\"\(target)/one.txt\" && mount -o remount,ro \"$DATA/fs\""
        let result = try await Scenario(sandbox)
            .shell("mkdir -p \"$DATA/fs\" && mount -t tmpfs -o size=2m small \"$DATA/fs\"")
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .shell(change)
            .asd("resync", as: "resync")
            .expectMounted(target)
            .expectExists("$DAEMON_FILE")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync"])
        let resync = try result.command("resync")
        #expect(resync.status == 1, "\(resync.output)")
        for (what, path) in [("target", paths.target), ("disk copy", paths.diskCopy), ("mount point", sandbox.expand("$DATA/fs"))] {
            #expect(resync.output.contains(path), "resync does not name the \(what) \(path):\n\(resync.output)")
        }
        #expect(resync.output.contains("df -h") || resync.output.contains("remount"), "\(resync.output)")
        #expect(!resync.output.contains(".stage"), "resync names the staging path:\n\(resync.output)")
    }

    /// `chattr +i` / `+a` on a file in a target (on an ext4 image: tmpfs has no such
    /// flags): sync fails, rolled back, saying why and how to find such files.
    @Test(arguments: [(false, "+i"), (true, "+i"), (false, "+a"), (true, "+a")])
    func immutableFileInTarget(overlay: Bool, flag: String) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/fs/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let result = try await Scenario(sandbox)
            .shell("truncate -s 32M \"$SANDBOX/fs.img\" && mkfs.ext4 -q \"$SANDBOX/fs.img\"")
            .shell("mkdir -p \"$DATA/fs\" && mount -o loop \"$SANDBOX/fs.img\" \"$DATA/fs\"")
            .shell(Fixture.small(at: target))
            .shell("chattr \(flag) \"\(target)/sub/two.txt\"")
            .snapshotTree(target, as: "before")
            .asd("sync", as: "sync")
            .expectNotMounted(target)
            .expectAbsent("$DAEMON_FILE")
            .snapshotTree(target, as: "after")
            .shell("chattr -i -a \"\(target)/sub/two.txt\"")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        #expect(sync.output.contains(sandbox.expand("\(target)/sub/two.txt")), "\(sync.output)")
        #expect(sync.output.contains("immutable") && sync.output.contains("append-only") && sync.output.contains("lsattr -R"),
                "sync does not explain the flags:\n\(sync.output)")
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "before vs after")
    }
}
