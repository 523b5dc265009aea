@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// USE_ZRAM: the RAM copies on asd's own zram device (doc/DESIGN.md §11):
/// the lifecycle in full and overlay mode, many cycles,
/// the memory guard and a full device.
extension ZramSuites {
@Suite(.zram) struct ZramTests {
    /// `$VOLATILE/.zram-<instance>`, where asd mounts its device.
    static func mountPoint(_ sandbox: Sandbox) -> String { "$VOLATILE/.zram-\(sandbox.instance)" }

    static func paths(_ sandbox: Sandbox, _ target: String) -> SandboxPaths {
        SandboxPaths(TargetPaths(target: FilePath(sandbox.expand(target)), user: "root",
                                 volatile: FilePath(sandbox.expand(mountPoint(sandbox))), instance: sandbox.instance))
    }

    @Test(arguments: [false, true])
    func roundTripOnZram(overlay: Bool) async throws {
        try ZramSupport.check()
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay, extra: "USE_ZRAM=yes\nZRAM_SIZE=300M")
        let paths = Self.paths(sandbox, target), mount = Self.mountPoint(sandbox)
        let result = try await Scenario(sandbox).withZram()
            .shell(Fixture.rich(at: target))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .shell("zram_keep \"$SANDBOX/rec\"")
            .expect("zram_alive \"$SANDBOX/rec\"", "no live device recorded in $DAEMON_FILE.zram")
            .expect("[[ $(findmnt -n -o SOURCE --mountpoint \"\(mount)\") == /dev/zram* ]]", "\(mount) is not a zram mount")
            .expect("findmnt -n -o OPTIONS --mountpoint \"\(mount)\" | grep -q discard", "\(mount) is not mounted with discard")
            .expectMounted(target, fstype: overlay ? "overlay" : nil)
            .expectExists(paths.flag)
            .asd("parse", "--json", as: "json")
            .snapshotTree(target, as: "synced")
            .shell(Fixture.changes(in: target))
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync")
            .snapshotTree(paths.diskCopy, as: "disk-resync")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .expectZramGone("$SANDBOX/rec")
            .expectEmptyDirectory("$VOLATILE")
            .expectAbsent("$DAEMON_FILE")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "json", "resync", "unsync"])
        try expectSameTree(result.tree("initial"), result.tree("synced"), .lifecycle, "zram view after sync")
        try expectSameTree(result.tree("changed"), result.tree("disk-resync"), .lifecycle, "disk copy after resync")
        try expectSameTree(result.tree("changed"), result.tree("final"), .lifecycle, "target after unsync")
        let report = try ParseReport.decode(json: result.command("json").stdout)
        let zram = try #require(report.zram)
        #expect(zram.device?.hasPrefix("/dev/zram") == true)
        #expect(zram.algorithm == "lz4" || zram.algorithm == "zstd")
        #expect(zram.sizeBytes == 300 << 20)
        #expect((zram.ramBytes ?? 0) > 0 && zram.ratio != nil)
    }

    /// 100 sync/unsync cycles leave no device and no mount.
    @Test func hundredCyclesLeaveNothing() async throws {
        try ZramSupport.check()
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], backups: false, extra: "USE_ZRAM=yes\nZRAM_SIZE=32M")
        let result = try await Scenario(sandbox, timeoutSeconds: 600).withZram()
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "initial")
            .shell("""
                for i in $(seq 100); do
                    "$ASD_BIN" sync >/dev/null
                    zram_keep "$SANDBOX/rec"
                    mountpoint -q "$DATA/t"
                    echo "$i" >"$DATA/t/cycle"
                    "$ASD_BIN" unsync >/dev/null
                    ! zram_alive "$SANDBOX/rec"
                    [[ ! -e $DAEMON_FILE.zram && -z $(ls -A "$VOLATILE") ]]
                    ! mountpoint -q "$DATA/t"
                done
                rm "$DATA/t/cycle"
                """)
            .expect("[[ -z $(findmnt -rn -o TARGET | grep -F \"$VOLATILE/\") ]]", "mounts left in $VOLATILE")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try expectSameTree(result.tree("initial"), result.tree("final"), .lifecycle, "target after 100 cycles")
    }

    /// Data that cannot fit on the device is refused up front, with the numbers.
    @Test func tooMuchDataIsRefused() async throws {
        let target = "$DATA/t"
        let result = try await Scenario.onSmallZram()
            .shell("mkdir -p \"\(target)\" && head -c 40M /dev/urandom >\"\(target)/big\"")
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .shell("zram_keep \"$SANDBOX/rec\"")
            .expectNotMounted(target)
            .expectAbsent("$DAEMON_FILE")
            .expectAbsent("$DAEMON_FILE.zram")
            .expectEmptyDirectory("$VOLATILE")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1)
        #expect(sync.output.contains("ZRAM_SIZE") && sync.output.contains("40 MiB") && sync.output.contains("32 MiB"), "\(sync.output)")
        try expectSameTree(result.tree("initial"), result.tree("final"), .strict, "target after the refused sync")
    }

    /// A device filled with data that does not compress: writes fail with
    /// ENOSPC as on a full tmpfs, and write-back keeps everything that was written.
    @Test func fullDeviceLosesNothing() async throws {
        let target = "$DATA/t"
        let result = try await Scenario.onSmallZram()
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .shell("zram_keep \"$SANDBOX/rec\"")
            .shell("echo kept >\"\(target)/before-full\"")
            .capture("dd if=/dev/urandom of=\"\(target)/big\" bs=1M count=64 conv=fsync", as: "fill")
            .snapshotTree(target, as: "full")
            .asd("resync", as: "resync")
            .asd("unsync", as: "unsync")
            .expectZramGone("$SANDBOX/rec")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync"])
        let fill = try result.command("fill")
        #expect(fill.status != 0 && fill.output.contains("No space left on device"), "\(fill.output)")
        try expectSameTree(result.tree("full"), result.tree("final"), .lifecycle, "target after unsync of a full device")
        #expect(try result.tree("final")["before-full"] != nil)
    }

    /// A power cut takes the device with the RAM: the next start recovers from
    /// the disk copy and archives the snapshot, as with tmpfs.
    @Test func powerCutRecoversAsWithTmpfs() async throws {
        let target = "$DATA/t"
        let result = try await Scenario.onSmallZram()
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .shell("zram_keep \"$SANDBOX/rec\"")
            .shell("echo lost >\"\(target)/after-sync\"")
            .reboot()
            .shell("zram_cleanup") // the RAM is gone: so is the device
            .expect("! zram_alive \"$SANDBOX/rec\"", "the device survived the simulated power cut")
            .asd("sync", as: "recover")
            .expectMounted(target)
            .asd("unsync", as: "unsync")
            .expectAbsent("$DAEMON_FILE.zram")
            .expectEmptyDirectory("$VOLATILE")
            .capture("cd \"$DATA\" && ls -A | grep -c crashrecovery", as: "archives")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "recover", "unsync"])
        #expect(try result.command("archives").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        try expectSameTree(result.tree("initial"), result.tree("final"), .lifecycle, "target after the power cut")
    }
}
}
