@testable import ASDCore
@testable import ASDSystem
import Testing
import ASDTestSupport

/// A sync with USE_ZRAM killed (SIGKILL) at each step of setting up the
/// device and filling it: the next start completes it (or starts afresh),
/// unsync then leaves no device, no mount and the target as it was. The
/// kill is strace's fault injection at a chosen system call: deterministic,
/// no timing involved. A step failing or a SIGTERM after the device is
/// mounted: sync rolls back and removes the device.
extension ZramSuites {
@Suite(.zram) struct ZramKillTests {
    struct KillPoint: Sendable, CustomStringConvertible {
        let name: String
        /// strace options that kill asd (or, for mkfs, the child) at the step.
        let strace: String
        /// The killed sync exits 1 (it rolled back, removing its device) instead of dying.
        let rollsBack: Bool
        var description: String { name }
    }

    static let points: [KillPoint] = [
        KillPoint(name: "before hot_add", strace: "-P /sys/class/zram-control/hot_add -e trace=openat -e inject=openat:signal=KILL", rollsBack: false),
        KillPoint(name: "mkfs killed", strace: "-f -P /usr/sbin/mkfs.ext4 -P /sbin/mkfs.ext4 -e trace=execve -e inject=execve:signal=KILL", rollsBack: true),
        // Mounts of a sync: the device, the target onto its disk copy (bind, private,
        // noatime), then the copy onto the target.
        KillPoint(name: "before mounting the device", strace: "-e trace=mount -e inject=mount:signal=KILL:when=1", rollsBack: false),
        KillPoint(name: "before binding the target", strace: "-e trace=mount -e inject=mount:signal=KILL:when=2", rollsBack: false),
        KillPoint(name: "binding the target fails", strace: "-e trace=mount -e inject=mount:error=EPERM:when=2", rollsBack: true),
        KillPoint(name: "SIGTERM while binding the target", strace: "-e trace=mount -e inject=mount:signal=TERM:when=2", rollsBack: true),
        // Renames of a sync: config snapshot, zram intent, zram record, (renameat of the
        // old backup,) the marker, the daemon file.
        KillPoint(name: "before the marker", strace: "-e trace=rename,renameat -e inject=rename,renameat:signal=KILL:when=5", rollsBack: false),
        KillPoint(name: "before the daemon file", strace: "-e trace=rename -e inject=rename:signal=KILL:when=5", rollsBack: false),
    ]

    @Test(arguments: points)
    func killedSyncIsCompletedOrUndone(point: KillPoint) async throws {
        guard let strace = Executable.find("strace") else {
            throw HarnessError("strace is needed to kill asd at a chosen step; install it (apt-get install strace).")
        }
        let target = "$DATA/t"
        let result = try await Scenario.onSmallZram()
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "initial")
            .capture("DEBUG=1 \(strace) -qq -o /dev/null \(point.strace) \"$ASD_BIN\" sync", as: "killed")
            .shell("zram_keep \"$SANDBOX/rec-killed\"")
            .asd("sync", as: "sync")
            .shell("zram_keep \"$SANDBOX/rec\"")
            .expectMounted(target)
            .snapshotTree(target, as: "synced")
            .asd("unsync", as: "unsync")
            .expectZramGone("$SANDBOX/rec")
            .expect("! zram_alive \"$SANDBOX/rec-killed\"", "the killed sync's device is left: $(cat \"$SANDBOX/rec-killed\")")
            .expectNotMounted(target)
            .expectEmptyDirectory("$VOLATILE")
            .expect("[[ -z $(findmnt -rn -o TARGET | grep -F \"$VOLATILE/\") ]]", "mounts left in $VOLATILE")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        let killed = try result.command("killed")
        if point.rollsBack {
            #expect(killed.status == 1, "\(killed.output)")
            #expect(killed.output.contains("Removed zram device"), "the failed sync kept its device: \(killed.output)")
        } else {
            #expect(killed.status != 0 && !killed.output.contains("Sync successful"), "not killed: \(killed.output)")
        }
        try result.expectExitedZero(["sync", "unsync"])
        try expectSameTree(result.tree("initial"), result.tree("synced"), .lifecycle, "view after the second sync")
        try expectSameTree(result.tree("initial"), result.tree("final"), .lifecycle, "target after unsync")
    }

    /// Killed after hot_add made the device and before the record names it
    /// (at the close of hot_add, whose read strace logs with the number): the
    /// next sync finds the intent and removes exactly that device.
    @Test func killedBetweenHotAddAndRecordLeavesNoDevice() async throws {
        guard let strace = Executable.find("strace") else {
            throw HarnessError("strace is needed to kill asd at a chosen step; install it (apt-get install strace).")
        }
        let target = "$DATA/t"
        let hotAdd = "/sys/class/zram-control/hot_add"
        let result = try await Scenario.onSmallZram()
            .shell(Fixture.small(at: target))
            .snapshotTree(target, as: "initial")
            .capture("\(strace) -qq -o \"$SANDBOX/hot_add.trace\" -P \(hotAdd) -e trace=read,close -e inject=close:signal=KILL \"$ASD_BIN\" sync", as: "killed")
            // The device the killed sync made, as a record (also for the cleanup trap).
            .shell(#"n=$(sed -n 's/^read([0-9]*, "\([0-9]*\)\\n".*/\1/p' "$SANDBOX/hot_add.trace" | head -n1); "#
                + #"[[ -n $n ]] && printf 'device=%s\ndiskseq=%s\n' "$n" "$(cat /sys/block/zram$n/diskseq)" >"$SANDBOX/rec-killed" && cp "$SANDBOX/rec-killed" "$SANDBOX/zram-rec.killed""#)
            // hot_add ran before the kill. (The device itself may be gone already: any
            // asd that takes the machine-wide lock meanwhile, e.g. of a test running in
            // parallel, removes a device the intent proves abandoned.)
            .expect("[[ -s \"$SANDBOX/rec-killed\" ]]", "the kill came before hot_add: $(cat \"$SANDBOX/hot_add.trace\")")
            .expectAbsent("$DAEMON_FILE.zram")
            .asd("sync", as: "sync")
            .expect("! zram_alive \"$SANDBOX/rec-killed\"", "the killed sync's device is left: $(cat \"$SANDBOX/rec-killed\")")
            .shell("zram_keep \"$SANDBOX/rec\"")
            .expectMounted(target)
            .asd("unsync", as: "unsync")
            .expectZramGone("$SANDBOX/rec")
            .expectNotMounted(target)
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        #expect(try result.command("killed").status != 0)
        try result.expectExitedZero(["sync", "unsync"])
        try expectSameTree(result.tree("initial"), result.tree("final"), .lifecycle, "target after unsync")
    }
}
}
