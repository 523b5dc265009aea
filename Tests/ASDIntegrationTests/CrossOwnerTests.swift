import Foundation
import Testing

/// A target whose parent is reached through one user's directory into what another
/// user owns (`/srv/www` of www-data holding `alice` of alice, target
/// `/srv/www/alice/site`): the first user could swap the
/// second's directory for a symlink at any moment, so asd (root) refuses the path,
/// names both owners and says how to make the layout acceptable, and changes nothing.
/// The same tree with the parent made root's syncs.
@Suite(.privileged) struct CrossOwnerTests {
    @Test func targetBehindAnotherUsersDirectoryIsRefused() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/www/alice/site"
        try sandbox.writeConfig(targets: [target])
        let paths = sandbox.paths(target)
        let result = try await Scenario(sandbox)
            .shell("""
                mkdir -p "$DATA/www/alice/site/sub" && printf 'page\\n' >"$DATA/www/alice/site/sub/index.html"
                chown -R 1:1 "$DATA/www/alice" && chown 65534:65534 "$DATA/www"
                """)
            .snapshotTree("$DATA/www", as: "before")
            .asd("sync", as: "refused")
            .expectNotMounted(target).expectAbsent(paths.diskCopy).expectAbsent("$DAEMON_FILE")
            .snapshotTree("$DATA/www", as: "after")
            .shell("chown root:root \"$DATA/www\"")
            .asd("sync", as: "sync")
            .expectMounted(target)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        let refused = try result.command("refused")
        #expect(refused.status == 1, "\(refused.output)")
        let owner = try #require(refused.output.firstMatch(of: /Refusing to use (\S+) \(owner (\w+)\): it is reached through a directory or symlink that (\w+) owns/),
                                 "\(refused.output)")
        #expect(owner.output.1 == Substring(sandbox.expand("$DATA/www/alice")) && owner.output.3 != owner.output.2, "\(refused.output)")
        #expect(refused.output.contains("'chown root: ") && !refused.output.contains("rm -r"), "\(refused.output)")
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "the tree after the refused sync")
        try result.expectExitedZero(["sync", "unsync"])
    }
}
