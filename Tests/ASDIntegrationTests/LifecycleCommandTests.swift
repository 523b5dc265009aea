@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// `asd parse`, `asd clean` and config safety against the real binary (doc/DESIGN.md §2).
@Suite(.privileged) struct LifecycleCommandTests {
    @Test func parsePrintsUpstreamPaths() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .capture("realpath \"$ASDCONF\" | sha256sum | cut -b -16", as: "hash")
            .asd("parse", as: "parse")
            .asd("p", as: "p")
            .expectNotMounted(target)
            .expectAbsent("$DAEMON_FILE")
            .run()
        result.expectNoFailures()
        let hash = try result.command("hash").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hash.count == 16)
        #expect("asd-" + hash == sandbox.instance, "Invocation.instanceName disagrees with sha256sum")
        let paths = SandboxPaths(TargetPaths(target: FilePath(sandbox.expand(target)), user: "root", volatile: FilePath(sandbox.volatile), instance: "asd-" + hash))
        let parse = try result.command("parse")
        #expect(parse.status == 0, "\(parse.output)")
        for path in [paths.target, paths.diskCopy, paths.tmpfsCopy, sandbox.config] {
            #expect(parse.output.contains(path), "parse output lacks \(path):\n\(parse.output)")
        }
        func pathLines(_ text: String) -> [Substring] {
            CommandRecord.stripANSI(text).split(separator: "\n").filter { $0.contains(sandbox.root) }
        }
        #expect(try pathLines(result.command("p").stdout) == pathLines(parse.stdout), "alias p differs from parse")
    }

    @Test func cleanRemovesOnlyArchives() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let archive = "$DATA/.t-backup_asd-crashrecovery-"
        let keep = [
            "$DATA/.u-backup_asd-crashrecovery-20200101_000000.tar.zstd",  // not a configured target
            "$DATA/t-backup_asd-crashrecovery-20200101_000000.tar.zstd",  // no leading dot
            "$DATA/keep.tar.zstd",
        ]
        var scenario = Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell(Fixture.small(at: "$DATA/.u"))
            .shell("touch \"\(archive)20200101_000000.tar.zstd\" \"\(archive)20200102_030405.tar.zstd\"")
            .shell(keep.map { "touch \"\($0)\"" }.joined(separator: "\n"))
            .snapshotTree(target, as: "before")
            .asd("clean", as: "clean")
            .expect("[[ -z \"$(find \"$DATA\" -maxdepth 1 -name '.t-backup_asd-crashrecovery-*')\" ]]",
                    "archives left: $(ls -A \"$DATA\")")
        for path in keep { scenario = scenario.expectExists(path) }
        let result = try await scenario
            .expectExists("$DATA/.u/one.txt")
            .snapshotTree(target, as: "after")
            .asd("clean", as: "clean-again")
            .run()
        result.expectNoFailures()
        let clean = try result.command("clean")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try result.command("clean-again").status == 0)
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "before vs after")
    }

    static let injections = [
        "X=$(touch \"$SANDBOX/pwned\")",
        "X=`touch \"$SANDBOX/pwned\"`",
        "X=1; touch \"$SANDBOX/pwned\"",
        "touch \"$SANDBOX/pwned\"",
        "X=\"$(touch \"$SANDBOX/pwned\")\"",
    ]

    @Test(arguments: injections)
    func configCodeIsNeverRun(injection: String) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        let line = sandbox.expand(injection)
        try sandbox.writeConfig("""
            WHATTOSYNC=('\(sandbox.expand(target))')
            VOLATILE="\(sandbox.volatile)"
            \(line)

            """)
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "before")
            .asd("sync", as: "sync")
            .asd("parse", as: "parse")
            .expectAbsent("$SANDBOX/pwned")
            .expectNotMounted(target)
            .expectAbsent("$DAEMON_FILE")
            .expectEmptyDirectory("$VOLATILE")
            .snapshotTree(target, as: "after")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        #expect(sync.output.contains(sandbox.config), "error does not name the config file:\n\(sync.output)")
        let withoutPath = sync.output.replacingOccurrences(of: sandbox.config, with: "<config>")
        let lineThree = try Regex("(?im)(line:?\\s*3\\b|<config>:3\\b|^\\s*3:)")
        #expect(withoutPath.contains(lineThree), "error does not name line 3:\n\(sync.output)")
        #expect(sync.output.contains("touch"), "error does not show the offending text:\n\(sync.output)")
        #expect(try result.command("parse").status != 0)
        try expectSameTree(result.tree("before"), result.tree("after"), .strict, "before vs after")
    }
}
