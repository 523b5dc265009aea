@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// Where a target lies (doc/DESIGN.md §4): a target with a file
/// system mounted inside it is refused up front by parse and sync, naming the mount;
/// a target reached through a symlink, or that is one, is refused naming the symlink.
/// Nothing is mounted and nothing changes, in either mode.
@Suite(.privileged) struct TargetLayoutTests {
    @Test(arguments: [false, true])
    func mountInsideTargetIsRefused(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("printf 'beneath\\n' >\"\(target)/sub/beneath.txt\"")
            .shell("mount -t tmpfs -o size=8m nested \"\(target)/sub\" && printf 'nested\\n' >\"\(target)/sub/nested.txt\"")
            .snapshotTree(target, as: "before")
            .asd("parse", as: "parse")
            .asd("sync", as: "sync")
            .expectMounted("\(target)/sub", fstype: "tmpfs")
            .expect("[[ $(findmnt -rn --mountpoint \"\(target)\" | wc -l) == 0 ]]", "the target was mounted over")
            .expectAbsent("$DAEMON_FILE")
            .snapshotTree(target, as: "after")
            .shell("mkdir -p \"$SANDBOX/peek\" && mount --bind \"$DATA\" \"$SANDBOX/peek\"")
            .capture("ls -A \"$SANDBOX/peek/t/sub\"", as: "beneath")
            .run()
        result.expectNoFailures()
        let nested = sandbox.expand("\(target)/sub")
        for label in ["parse", "sync"] {
            let run = try result.command(label)
            #expect(run.status == 1, "\(label): \(run.output)")
            #expect(run.output.contains(nested) && run.output.contains("mounted inside"), "\(label) does not name the mount:\n\(run.output)")
        }
        #expect(try result.command("beneath").stdout == "beneath.txt\ntwo.txt\n", "the directory beneath the nested mount changed")
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "before vs after")
    }

    /// `$DATA/link -> real`, target `$DATA/link/t`; and a target `$DATA/t2 -> real/t`.
    @Test(arguments: [(false, "parent"), (true, "parent"), (false, "target"), (true, "target")])
    func symlinkIsRefused(overlay: Bool, which: String) async throws {
        let sandbox = try Sandbox()
        let target = which == "parent" ? "$DATA/link/t" : "$DATA/t2"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: "$DATA/real/t"))
            .shell("ln -s real \"$DATA/link\" && ln -s real/t \"$DATA/t2\"")
            .snapshotTree("$DATA/real/t", as: "before")
            .asd("parse", as: "parse")
            .asd("sync", as: "sync")
            .expect("[[ -z \"$(findmnt -rn -o TARGET | grep -F \"$DATA\")\" ]]", "something was mounted")
            .expectAbsent("$DAEMON_FILE")
            .expect("[[ -z \"$(find \"$DATA\" \"$DATA/real\" -maxdepth 1 -name '.*backup_asd*')\" ]]", "left: $(ls -A \"$DATA\" \"$DATA/real\")")
            .snapshotTree("$DATA/real/t", as: "after")
            .run()
        result.expectNoFailures()
        let link = sandbox.expand(which == "parent" ? "$DATA/link" : "$DATA/t2")
        let destination = which == "parent" ? "real" : "real/t"
        for label in ["parse", "sync"] {
            let run = try result.command(label)
            #expect(run.status == 1, "\(label): \(run.output)")
            #expect(run.output.contains("symlink") && run.output.contains(link) && run.output.contains(destination),
                    "\(label) does not name the symlink \(link) -> \(destination):\n\(run.output)")
        }
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "before vs after")
    }
}
