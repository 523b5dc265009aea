import Foundation
import Testing

/// DISK_ONLY across crashes: a power cut while synced with the bind in place, and an
/// asd killed between the target's bind and the DISK_ONLY one (doc/DESIGN.md §2,
/// "RAM_ONLY and DISK_ONLY"; §5).
@Suite(.privileged) struct DiskOnlyRecoveryTests {
    static let config = "DISK_ONLY=(\"$DATA/t/data\")\nRAM_ONLY=('*.tmp')\n"

    static let tree = """
        umask 022
        mkdir -p "$DATA/t/data/sub" "$DATA/t/ram"
        printf base >"$DATA/t/data/sub/base"; printf r >"$DATA/t/ram/file"; printf disk >"$DATA/t/ram/x.tmp"
        """

    /// Power cut while synced, after a resync and with later writes on both sides: the
    /// next sync recovers (archive of the sync-time tree without the DISK_ONLY directory
    /// and the RAM_ONLY file), the DISK_ONLY directory is exactly what the applications
    /// wrote there (straight to disk, up to the cut), the RAM_ONLY file on disk is as it
    /// was, and the new run binds the directory again.
    @Test(arguments: [(TestEngine.builtin, false), (.rsync, false), (.builtin, true)])
    func powerCutWhileSynced(engine: TestEngine, overlay: Bool) async throws {
        let sandbox = try Sandbox(), target = "$DATA/t"
        let paths = sandbox.paths(target)
        try sandbox.writeConfig(targets: [target], overlay: overlay, engine: engine, extra: Self.config)
        let result = try await Scenario(sandbox)
            .shell(Self.tree)
            .asd("sync", as: "sync")
            .expectMounted("\(target)/data")
            .shell("printf one >\"$DATA/t/data/one\"; printf R1 >\"$DATA/t/ram/file\"; printf ram >\"$DATA/t/ram/x.tmp\"")
            .asd("resync", as: "resync")
            .shell("""
                printf two >"$DATA/t/data/two"; rm "$DATA/t/data/sub/base"; mkdir "$DATA/t/data/new"
                printf lost >"$DATA/t/ram/file"; sync
                """)
            .snapshotTree("\(target)/data", as: "data-at-cut")
            .reboot()
            .asd("sync", as: "recover")
            .expectMounted("\(target)/data")
            .snapshotTree("\(target)/data", as: "data-after")
            .expect("[ \"$(cat \(paths.diskCopy)/ram/x.tmp)\" = disk ]", "recovery changed the RAM_ONLY file on disk")
            .expect("[ \"$(cat \(paths.diskCopy)/ram/file)\" = R1 ]", "the disk copy is not the last write-back")
            .expectAbsent("\(target)/ram/x.tmp")
            .inspectArchives(of: paths, as: "crash", tree: true)
            .asd("unsync", as: "unsync")
            .expectNotMounted("\(target)/data").expectNotMounted(target)
            .expect("[ \"$(cat $DATA/t/data/two)\" = two ] && [ ! -e $DATA/t/data/sub/base ]", "DISK_ONLY data lost after unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "recover", "unsync"])
        #expect(try result.command("recover").output.contains("Ungraceful state"))
        try expectSameTree(result.tree("data-at-cut"), result.tree("data-after"), .strict, "DISK_ONLY directory across the cut")
        let archive = try result.tree("crash-archive")
        let leaked = archive.entries.keys.filter { $0 == "data" || $0.hasPrefix("data/") || $0.hasSuffix(".tmp") }
        #expect(leaked.isEmpty, "the crash archive holds what DISK_ONLY and RAM_ONLY keep out: \(leaked.sorted())")
        #expect(archive["ram/file"] != nil, "the crash archive lacks the rest of the tree")
    }

    /// asd killed (SIGKILL by strace at the DISK_ONLY bind's mount(2)) after the target
    /// was bound: the target is served from RAM without the bind. The next sync binds
    /// it (a write there lands on disk), and unsync removes the binds and loses nothing.
    @Test func killedBeforeTheDiskOnlyBind() async throws {
        let sandbox = try Sandbox(), target = "$DATA/t"
        let paths = sandbox.paths(target)
        try sandbox.writeConfig(targets: [target], extra: Self.config)
        // Three mount(2) per bind (bind, private, noatime): disk copy, target, then DISK_ONLY.
        let killed = "strace -f -qq -o /dev/null -e trace=mount -e inject=mount:signal=KILL:when=7 \"$ASD_BIN\" sync"
        let result = try await Scenario(sandbox)
            .shell(Self.tree)
            .capture(killed, as: "killed")
            .expectMounted(target).expectNotMounted("\(target)/data").expectAbsent("$DAEMON_FILE")
            .asd("sync", as: "sync")
            .expectMounted("\(target)/data")
            .shell("printf new >\"$DATA/t/data/new\"; printf R >\"$DATA/t/ram/file\"")
            .expect("[ \"$(cat \(paths.diskCopy)/data/new)\" = new ]", "a write under DISK_ONLY did not go to disk")
            .asd("unsync", as: "unsync")
            .expectNotMounted("\(target)/data").expectNotMounted(target)
            .expect("[ \"$(cat $DATA/t/data/new)\" = new ] && [ \"$(cat $DATA/t/data/sub/base)\" = base ]", "DISK_ONLY data lost")
            .expect("[ \"$(cat $DATA/t/ram/file)\" = R ] && [ \"$(cat $DATA/t/ram/x.tmp)\" = disk ]", "the rest of the tree is not as written")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        #expect(try result.command("killed").status != 0)
        let sync = try result.command("sync").output
        #expect(sync.contains("binding it now"), "\(sync)")
    }

    /// As above, but an application wrote into the DISK_ONLY place before the bind was
    /// made again, so those files were only in RAM. sync renames them aside (a new
    /// directory beside the place, written back with the target), binds the disk
    /// directory, and says where they are: after unsync both the disk's DISK_ONLY
    /// files and the RAM-only ones are on disk, none replaced by the other.
    @Test(arguments: [TestEngine.builtin, .rsync])
    func writtenWhileUnboundIsKept(engine: TestEngine) async throws {
        let sandbox = try Sandbox(), target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], engine: engine, extra: Self.config)
        let killed = "strace -f -qq -o /dev/null -e trace=mount -e inject=mount:signal=KILL:when=7 \"$ASD_BIN\" sync"
        let result = try await Scenario(sandbox)
            .shell(Self.tree)
            .capture(killed, as: "killed")
            .expectNotMounted("\(target)/data")
            .shell("mkdir -p \"$DATA/t/data/sub\"; printf ram >\"$DATA/t/data/sub/base\"; printf only >\"$DATA/t/data/only\"")
            .asd("sync", as: "sync")
            .expectMounted("\(target)/data")
            .expect("[ \"$(cat $DATA/t/data/sub/base)\" = base ] && [ ! -e $DATA/t/data/only ]", "the bound place does not show the disk")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .expect("[ \"$(cat $DATA/t/data/sub/base)\" = base ]", "the disk's DISK_ONLY file was replaced")
            .expect("set -- $DATA/t/data.asd-unbound-*; [ $# = 1 ] && [ \"$(cat $1/sub/base)\" = ram ] && [ \"$(cat $1/only)\" = only ]",
                    "the files written while the place was unbound are not on disk")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
        let sync = try result.command("sync").output
        #expect(sync.contains("asd-unbound-") && sync.contains("2 entries"), "\(sync)")
    }
}
