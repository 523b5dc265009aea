import Foundation
import Testing

/// DISK_ONLY, plain and overlay, both engines: the directory is not copied into RAM
/// nor into the hard-link snapshot (the overlay's lower layer, the crash archive),
/// the disk copy's directory is bound at its place in the RAM view (a write lands on
/// disk at once), write-back leaves it alone, and unsync takes the bind away first
/// and leaves the tree whole.
@Suite(.privileged) struct DiskOnlyTests {
    @Test(arguments: [(TestEngine.builtin, false), (.rsync, false), (.builtin, true), (.rsync, true)])
    func boundFromDiskAndLeftOutOfRam(engine: TestEngine, overlay: Bool) async throws {
        let sandbox = try Sandbox(), target = "$DATA/t"
        let paths = sandbox.paths(target)
        try sandbox.writeConfig(targets: [target], overlay: overlay, engine: engine,
                                extra: "DISK_ONLY=(\"$DATA/t/data/\")\n")
        let result = try await Scenario(sandbox)
            .shell("""
                umask 022
                mkdir -p "$DATA/t/data/sub" "$DATA/t/ram"
                printf big >"$DATA/t/data/sub/blob"; printf r >"$DATA/t/ram/file"; chmod 0750 "$DATA/t/data"
                """)
            .asd("sync", as: "sync")
            .expectMounted("\(target)/data")
            .expect("[ \"$(cat \(target)/data/sub/blob)\" = big ]", "the DISK_ONLY directory does not show the disk's data")
            .expect("[ \"$(stat -c %a \(target)/data)\" = 750 ]", "the DISK_ONLY directory lost its mode")
            .expect("[ -z \"$(ls -A \(paths.tmpfsCopy)/data)\" ]", "the DISK_ONLY data was copied into RAM")
            .expectAbsent("\(paths.snapshot)/data").expectExists("\(paths.snapshot)/ram/file")
            .shell("printf now >\"$DATA/t/data/written\"; rm \"$DATA/t/data/sub/blob\"; printf R >\"$DATA/t/ram/file\"")
            .expect("[ \"$(cat \(paths.diskCopy)/data/written)\" = now ] && [ ! -e \(paths.diskCopy)/data/sub/blob ]",
                    "a write under DISK_ONLY did not go straight to the disk copy")
            .asd("resync", as: "resync")
            .expect("[ \"$(cat \(paths.diskCopy)/data/written)\" = now ]", "resync touched the DISK_ONLY directory")
            .asd("unsync", as: "unsync")
            .expectNotMounted("\(target)/data").expectNotMounted(target)
            .expect("[ \"$(cat $DATA/t/data/written)\" = now ] && [ ! -e $DATA/t/data/sub/blob ] && [ \"$(cat $DATA/t/ram/file)\" = R ]",
                    "after unsync the tree is not what was written")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync"])
    }

    @Test func aMissingDiskOnlyDirectoryRefusesSyncAndChangesNothing() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], backups: false, extra: "DISK_ONLY=(\"$DATA/t/nothing\")\n")
        let result = try await Scenario(sandbox)
            .shell("mkdir -p \"$DATA/t\"; printf x >\"$DATA/t/f\"")
            .asd("sync", as: "sync")
            .expectNotMounted(target).expectAbsent("$DAEMON_FILE")
            .run()
        result.expectNoFailures()
        let run = try result.command("sync")
        #expect(run.status == 1 && run.output.contains("DISK_ONLY"), "\(run.output)")
    }
}
