@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// doc/DESIGN.md §7: in overlay mode the lower layer is never named by a path in the target
/// owner's directory. The snapshot is bound read-only, by descriptor, at
/// `$VOLATILE/.lower-<instance>-USER/abs/path` (root-only), the overlay's lowerdir is
/// that path, and every way out (unsync, rollback, a killed sync and the next sync's
/// recovery) leaves no mount and no directory behind and loses nothing.
@Suite(.privileged) struct OverlayLowerTests {
    static let owner = 47_031
    static let stranger = 47_032
    static let asStranger = "setpriv --reuid=\(stranger) --regid=\(stranger) --clear-groups --"

    /// The user's tree in `$DATA/home/t`, owned (with its parent) by `owner`.
    static func tree(at target: String, rich: Bool = false) -> String {
        // The rich tree's own owners stay; the target and its parent are the user's.
        (rich ? Fixture.rich(at: target) : Fixture.small(at: target))
            + "\nchown \(rich ? "" : "-R ")\(owner):\(owner) \"$DATA/home\" \"\(target)\"; chmod 0755 \"$DATA/home\""
    }

    /// Checks that leave nothing of asd's behind: no mount under the sandbox's data or
    /// VOLATILE, an empty VOLATILE, no disk copy or snapshot beside the target (crash
    /// archives are what recovery is meant to leave).
    static func expectNothingLeft(_ scenario: Scenario) -> Scenario {
        scenario
            .expect("! findmnt -rn -o TARGET | grep -F -e \"$VOLATILE/\" -e \"$DATA/\"", "mounts left: $(findmnt -rn -o TARGET | grep -F -e $VOLATILE/ -e $DATA/)")
            .expectEmptyDirectory("$VOLATILE")
            .expect("[[ -z \"$(find \"$DATA/home\" -maxdepth 1 -name '.t-backup_asd*' ! -name '*-crashrecovery-*')\" ]]", "leftovers: $(ls -A $DATA/home)")
    }

    @Test func lowerLayerIsARootOnlyReadOnlyBindOfTheSnapshot() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/home/t"
        try sandbox.writeConfig(targets: [target], overlay: true)
        let paths = sandbox.paths(target, user: String(Self.owner))
        let lower = paths.overlayLower
        let top = sandbox.volatile + "/.lower-" + sandbox.instance + "-" + String(Self.owner)
        let scenario = Scenario(sandbox)
            .shell(Self.tree(at: target, rich: true))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .expectMounted(target, fstype: "overlay")
            .capture("cat /proc/self/mountinfo", as: "mountinfo")
            .expect("[[ \"$(stat -c '%d %i' \"\(lower)\")\" == \"$(stat -c '%d %i' \"\(paths.snapshot)\")\" ]]", "the lower bind does not show the snapshot")
            .expect("[[ \"$(stat -c '%u %a' \"\(top)\")\" == '0 700' ]]", "\(top) is $(stat -c '%U %a' \"\(top)\")")
            .expect("! \(Self.asStranger) ls \"\(lower)\" >/dev/null 2>&1", "another user lists the lower layer")
            .expect("! touch \"\(lower)/written-through-lower\" 2>/dev/null", "the lower bind is writable")
            .shell(Fixture.changes(in: target))
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync", environment: ["DEBUG": "1"])
            .snapshotTree(paths.diskCopy, as: "disk")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .snapshotTree(target, as: "final")
        let result = try await Self.expectNothingLeft(scenario).run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync"])
        let table = MountInfo.parse(try result.command("mountinfo").stdout)
        let overlay = try #require(table.last { $0.mountPoint == FilePath(paths.tmpfsCopy) })
        #expect(overlay.fsType == "overlay")
        #expect(overlay.superOption("lowerdir") == FilePath(lower), "lowerdir: \(String(describing: overlay.superOption("lowerdir")))")
        let binds = table.filter { $0.mountPoint == FilePath(lower) }
        #expect(binds.count == 1, "mounts at the lower dir: \(binds)")
        #expect(binds.first?.mountOptions.contains("ro") == true, "\(String(describing: binds.first?.mountOptions))")
        #expect(binds.first?.isPrivate == true)
        // Our lower bind counts as ours: the write-back copies only the upper layer's changes.
        let resync = try result.command("resync").output
        #expect(!resync.contains("writing back the whole merged view"), "\(resync)")
        try expectSameTree(result.tree("changed"), result.tree("disk"), .lifecycle, "changed vs disk")
        try expectSameTree(result.tree("changed"), result.tree("final"), .lifecycle, "changed vs final")
    }

    /// `$SANDBOX/held-asd`: asd under strace, its `call`-th mount(2) (every one of
    /// `calls` when nil) returning only after `seconds`, so a loop polling the mount table
    /// surely sees that mount before the next. A sync of one overlay target mounts: 1-3
    /// disk copy (bind, private, noatime), 4-6 lower layer (bind, private, read-only),
    /// 7 overlay, 8- the target's bind.
    static func writeHeldAsd(_ sandbox: Sandbox, calls: String = "mount", call: Int?, seconds: Double) throws {
        let strace = try #require(Executable.find("strace"), "strace is needed to hold asd at a system call (apt-get install strace)")
        let when = call.map { ":when=\($0)" } ?? ""
        let script = """
            #!/bin/bash
            exec \(strace) -qq -o /dev/null -e trace=\(calls) -e inject=\(calls):delay_exit=\(Int(seconds * 1_000_000))\(when) \
                \(shellQuote(try Executable.asd())) "$@"

            """
        try script.write(toFile: sandbox.root + "/held-asd", atomically: false, encoding: .utf8)
        chmod(sandbox.root + "/held-asd", 0o755)
    }

    enum KillPoint: String, CaseIterable, CustomTestStringConvertible {
        /// The snapshot is bound at the lower dir; the overlay is not mounted yet.
        case lowerBound
        /// The overlay is mounted at the tmpfs copy; the target is not redirected yet.
        case overlayMounted
        /// SIGTERM (not SIGKILL) once the lower bind is made: sync rolls itself back.
        case terminatedAtLowerBound
        var testDescription: String { rawValue }
    }

    /// sync SIGKILLed (asd only: its mounts stay, as after `kill -9`) at `point`, or
    /// SIGTERMed (it rolls back, leaving nothing); the next sync recovers (lower bind and
    /// its directory gone, nothing stacked), and unsync leaves nothing behind with the
    /// tree as it was.
    @Test(arguments: KillPoint.allCases)
    func killedSyncIsRecovered(at point: KillPoint) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/home/t"
        try sandbox.writeConfig(targets: [target], overlay: true)
        // Held at the lower layer's bind or the overlay; SIGTERM is handled once it returns.
        try Self.writeHeldAsd(sandbox, call: point == .overlayMounted ? 7 : 4, seconds: point == .terminatedAtLowerBound ? 3 : 30)
        let paths = sandbox.paths(target, user: String(Self.owner))
        let mounted = { (path: String) in "awk -v m=\(shellQuote(path)) '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo" }
        let trigger = point == .overlayMounted ? mounted(paths.tmpfsCopy) : mounted(paths.overlayLower)
        let notYet = point == .overlayMounted ? mounted(paths.target) : mounted(paths.tmpfsCopy)
        let kill = point == .terminatedAtLowerBound
            ? "kill -TERM $(pgrep -P \"$tracer\") 2>/dev/null || true"
            : "kill -9 $(pgrep -P \"$tracer\") \"$tracer\" 2>/dev/null || true"
        var scenario = Scenario(sandbox)
            .shell(Self.tree(at: target))
            .snapshotTree(target, as: "initial")
            .shell("""
                "$SANDBOX/held-asd" sync >"$SANDBOX/killed.out" 2>&1 &
                tracer=$!
                deadline=$((SECONDS + 60))
                until \(trigger); do
                    (( SECONDS < deadline )) || { echo "the trigger never held"; cat "$SANDBOX/killed.out"; exit 1; }
                    sleep 0.005
                done
                \(kill)
                wait "$tracer" 2>/dev/null || true
                """)
            .expect("! \(notYet)", "the kill came too late: \(point)")
        if point == .terminatedAtLowerBound {
            scenario = Self.expectNothingLeft(scenario)
                .expect("grep -q 'was rolled back' \"$SANDBOX/killed.out\"", "no roll-back: $(cat $SANDBOX/killed.out)")
        }
        scenario = scenario
            .asd("sync", as: "recover")
            .expectMounted(target, fstype: "overlay")
            .capture("cat /proc/self/mountinfo", as: "mountinfo")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .snapshotTree(target, as: "final")
        let result = try await Self.expectNothingLeft(scenario).run()
        result.expectNoFailures()
        try result.expectExitedZero(["recover", "unsync"])
        let table = MountInfo.parse(try result.command("mountinfo").stdout)
        #expect(table.filter { $0.mountPoint == FilePath(paths.overlayLower) }.count == 1, "stacked lower binds")
        try expectSameTree(result.tree("initial"), result.tree("final"), .lifecycle, "initial vs final")
    }

    /// The owner, woken by inotify the moment the snapshot gets its name (asd is held
    /// by strace for 1 s after each rename), swaps it for a symlink to a root-only
    /// directory. With the lower layer named by path, mount(2) would follow the link and
    /// the target would show that directory; here the sync is refused, naming the link.
    @Test func snapshotSwappedBeforeTheMountIsRefused() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/home/t"
        try sandbox.writeConfig(targets: [target], overlay: true)
        try Self.writeHeldAsd(sandbox, calls: "rename,renameat,renameat2", call: nil, seconds: 1)
        let paths = sandbox.paths(target, user: String(Self.owner))
        let watcher = """
            import ctypes, os, struct, sys
            parent, name, decoy = sys.argv[1:4]
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init()
            libc.inotify_add_watch(fd, parent.encode(), 0x80)  # IN_MOVED_TO
            open(os.path.join(parent, ".watching"), "w").close()
            while True:
                data, offset = os.read(fd, 65536), 0
                while offset + 16 <= len(data):
                    _, _, _, length = struct.unpack_from("iIII", data, offset)
                    found = data[offset + 16:offset + 16 + length].rstrip(b"\\0").decode()
                    offset += 16 + length
                    if found == name:
                        path = os.path.join(parent, name)
                        os.rename(path, path + ".aside")
                        os.symlink(decoy, path)
                        sys.exit(0)
            """
        let snapshotName = String(paths.snapshot.split(separator: "/").last!)
        let result = try await Scenario(sandbox)
            .shell(Self.tree(at: target))
            .writeFile("$SANDBOX/watcher.py", watcher)
            .shell("""
                mkdir -m 0700 "$SANDBOX/decoy"; printf 'root secret' >"$SANDBOX/decoy/secret"; chmod 0600 "$SANDBOX/decoy/secret"
                setpriv --reuid=\(Self.owner) --regid=\(Self.owner) --clear-groups -- \\
                    python3 "$SANDBOX/watcher.py" "$DATA/home" \(shellQuote(snapshotName)) "$SANDBOX/decoy" &
                echo $! >"$SANDBOX/watcher.pid"
                until [[ -e "$DATA/home/.watching" ]]; do sleep 0.01; done
                rm "$DATA/home/.watching"
                """)
            .asd("sync", as: "sync", binary: "$SANDBOX/held-asd")
            .shell("wait $(cat \"$SANDBOX/watcher.pid\") || true")
            .expectExists(paths.snapshot + ".aside")
            // The roll-back removes only what asd made: the owner's link stays.
            .expect("[[ -L \"\(paths.snapshot)\" ]]", "the planted link was removed")
            .expect("! grep -r -q 'root secret' \"\(target)\"", "the target shows the root-only directory")
            .expectNotMounted(target)
            .expect("! findmnt -rn -o TARGET | grep -F -e \"$VOLATILE/\" -e \"$DATA/\"", "mounts left: $(findmnt -rn -o TARGET | grep -F -e $VOLATILE/ -e $DATA/)")
            .expect("[[ \"$(cat \"$SANDBOX/decoy/secret\")\" == 'root secret' ]]", "the decoy changed")
            .shell("umount -R \"\(target)\" 2>/dev/null || true")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        #expect(sync.output.contains("Refusing to use \(paths.snapshot) (owner \(Self.owner)): it is a symbolic link"), "\(sync.output)")
    }
}
