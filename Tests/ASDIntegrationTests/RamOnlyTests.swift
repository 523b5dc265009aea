import Foundation
import Testing

/// RAM_ONLY with both engines, plain and overlay: a matching path is not copied into
/// RAM nor into the snapshot, the overlay's lower layer (applications see only what
/// they create there), never written back, and never deleted from disk, not even with
/// a directory deleted in RAM (as rsync's --delete keeps excluded files); everything
/// else round-trips exactly.
@Suite(.privileged) struct RamOnlyTests {
    @Test(arguments: [(TestEngine.builtin, false), (.rsync, false), (.builtin, true), (.rsync, true)])
    func keptOutOfDiskWritesAndNeverDeleted(engine: TestEngine, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay, backups: false, engine: engine,
                                extra: "RAM_ONLY=('cache/' '*.swp' \"$DATA/t/run/lock\" 'no-such-*')\n")
        let paths = sandbox.paths(target)
        var scenario = Scenario(sandbox)
            .shell("""
                umask 022
                mkdir -p "$DATA/t/cache/sub" "$DATA/t/keep" "$DATA/t/run" "$DATA/t/other/run"
                printf old >"$DATA/t/cache/sub/blob"; printf swap >"$DATA/t/keep/.f.swp"
                printf k >"$DATA/t/keep/file"; printf l >"$DATA/t/run/lock"; printf m >"$DATA/t/other/run/lock"
                mkdir "$DATA/t/gone"; printf s >"$DATA/t/gone/.x.swp"; printf g >"$DATA/t/gone/file"
                """)
            .asd("parse", as: "parse").asd("parse", "--json", as: "json")
            .asd("sync", as: "sync")
        // Overlay mode too: the lower layer (the snapshot) leaves them out.
        scenario = scenario.expectAbsent("\(target)/cache").expectAbsent("\(target)/keep/.f.swp")
            .expectAbsent("\(target)/run/lock").expectExists("\(target)/other/run/lock")
            .expectAbsent("\(paths.snapshot)/cache").expectAbsent("\(paths.snapshot)/keep/.f.swp")
        let result = try await scenario
            .shell("""
                rm -rf "$DATA/t/cache" "$DATA/t/keep/.f.swp" "$DATA/t/run/lock" "$DATA/t/gone"
                mkdir -p "$DATA/t/cache"; printf new >"$DATA/t/cache/fresh"; printf s >"$DATA/t/keep/.g.swp"
                printf K >"$DATA/t/keep/file"; printf L >"$DATA/t/run/lock"; printf M >"$DATA/t/other/run/lock"
                """)
            .snapshotTree(target, as: "running")
            .asd("resync", as: "resync")
            .expect("[ \"$(cat \(paths.diskCopy)/cache/sub/blob)\" = old ]", "resync deleted or changed a RAM_ONLY file on disk")
            .expectAbsent("\(paths.diskCopy)/cache/fresh").expectAbsent("\(paths.diskCopy)/keep/.g.swp")
            .expect("[ \"$(cat \(paths.diskCopy)/keep/file)\" = K ]", "resync did not write keep/file back")
            .expect("[ \"$(cat \(paths.diskCopy)/gone/.x.swp)\" = s ] && [ ! -e \(paths.diskCopy)/gone/file ]",
                    "a directory deleted in RAM took its RAM_ONLY file on disk along, or kept the rest (rsync keeps exactly that file)")
            .asd("unsync", as: "unsync")
            .expect("[ \"$(cat $DATA/t/cache/sub/blob)\" = old ] && [ \"$(cat $DATA/t/keep/.f.swp)\" = swap ]",
                    "a RAM_ONLY path on disk was removed or changed")
            .expect("[ \"$(cat $DATA/t/run/lock)\" = l ] && [ \"$(cat $DATA/t/other/run/lock)\" = M ]",
                    "the per-target pattern /run/lock was not anchored at the target's root")
            .expectAbsent("\(target)/cache/fresh").expectAbsent("\(target)/keep/.g.swp")
            .expect("[ \"$(cat $DATA/t/keep/file)\" = K ]", "keep/file lost its change")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["parse", "json", "sync", "resync", "unsync"])
        let text = try result.command("parse").output
        for line in ["RAM only:           cache/: 1 entry, ", "*.swp: 2 entries, ", "no-such-*: 0 entries, 0 B kept out of disk writes",
                     "RAM_ONLY pattern 'no-such-*' matches nothing"] {
            #expect(text.contains(line), "'\(line)' not in: \(text)")
        }
        let json = try result.command("json").output
        for key in ["\"keptOut\" : [", "\"kind\" : \"ramOnly\"", "\"pattern\" : \"cache/\"", "\"line\" : 7"] {
            #expect(json.contains(key), "'\(key)' not in: \(json)")
        }
    }
}
