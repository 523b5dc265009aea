@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import ASDTestSupport
import Foundation
import Testing

/// Kill points inside the delta write-back (doc/DESIGN.md §6.3): asd is SIGKILLed by strace
/// at a chosen system call of a resync (`-e inject=SYSCALL:error=EIO:signal=KILL:when=N`:
/// the Nth call does not happen and the process dies there), on a loop-mounted ext4
/// (redo journal, in place) or btrfs/xfs (reflink clones renamed into place). Then the
/// machine "reboots" (mounts and tmpfs gone, the loop file system kept) and `asd sync`
/// recovers. Checked: the disk at the kill is in the state the kill point means (so the
/// point was really hit), after the recovery every file is wholly the old or wholly the
/// new version (a file half written at the kill is finished from the journal), and the
/// crash archive (from the hard-link snapshot) holds the sync-time content.
@Suite(.privileged) struct DeltaCrashTests {
    enum Expected: Sendable {
        /// At the kill every file is old; after recovery every file is new (journal replayed).
        case oldThenNew
        /// At the kill `n` files are new and one is half written; after recovery all are new.
        case tornThenNew(Int)
        /// New at the kill and after.
        case new
        /// Old at the kill and after (nothing replaced yet, or a torn journal discarded).
        case old
        /// `n` files new and the rest old at the kill and after.
        case partly(Int)
    }

    struct Point: Sendable, CustomStringConvertible {
        let name: String
        let fs: String
        let syscalls: String
        let when: Int
        let expected: Expected
        var overlay = false
        /// Cut the journal short after the kill (a crash while it was written).
        var tearJournal = false
        /// Reboot and `asd sync`, or (false: only asd died) the next `asd resync`.
        var reboot = true
        var description: String { "\(fs)\(overlay ? " overlay" : ""): \(name)\(reboot ? "" : ", no reboot")" }
        /// A redo journal in the temp dir at the kill (nil: on ext4, the in-place path).
        var journal: Bool? = nil
        var journalled: Bool { journal ?? (fs == "ext4") }
    }

    static let files = 40

    // ext4: the journal is pwrite #1, then each file's two ranges are pwrites 2k and 2k+1;
    // fdatasync #1 flushes the journal, #2 to #41 the files changed in place, then the journal goes.
    static let points: [Point] = [
        Point(name: "journal written, nothing applied", fs: "ext4", syscalls: "pwrite64", when: 2, expected: .oldThenNew),
        Point(name: "mid-apply, a file half written", fs: "ext4", syscalls: "pwrite64", when: 11, expected: .tornThenNew(4)),
        Point(name: "applied, before the data flush and the journal's removal", fs: "ext4", syscalls: "fdatasync", when: 2,
              expected: .new),
        Point(name: "applied, journal removed, before the final flush", fs: "ext4", syscalls: "syncfs", when: 1, expected: .new,
              journal: false),
        Point(name: "torn journal", fs: "ext4", syscalls: "pwrite64", when: 2, expected: .old, tearJournal: true),
        Point(name: "mid-apply, a file half written", fs: "ext4", syscalls: "pwrite64", when: 11, expected: .tornThenNew(4), overlay: true),
        Point(name: "mid-apply, a file half written", fs: "ext4", syscalls: "pwrite64", when: 11, expected: .tornThenNew(4), reboot: false),
        // btrfs and xfs: every clone is written and mapped (FIEMAP_FLAG_SYNC, no flush), then
        // renamed; the one syncfs at the end commits blocks and renames together.
        Point(name: "clones written and mapped, none renamed", fs: "btrfs", syscalls: "rename,renameat,renameat2", when: 1, expected: .old),
        Point(name: "mid-renames", fs: "btrfs", syscalls: "rename,renameat,renameat2", when: 6, expected: .partly(5)),
        Point(name: "renamed, before the flush", fs: "btrfs", syscalls: "syncfs", when: 1, expected: .new),
        Point(name: "clones written and mapped, none renamed", fs: "xfs", syscalls: "rename,renameat,renameat2", when: 1, expected: .old),
        Point(name: "mid-renames", fs: "xfs", syscalls: "rename,renameat,renameat2", when: 6, expected: .partly(5)),
        Point(name: "renamed, before the flush", fs: "xfs", syscalls: "syncfs", when: 1, expected: .new),
    ]

    /// Rewrites two bytes at two offsets of every file (two ranges, in two blocks).
    static func mutate(_ dir: String, _ bytes: String) -> String {
        """
        for f in "\(dir)"/rrd/*; do
            printf '\(bytes)' | dd of="$f" bs=1 seek=1000 conv=notrunc status=none
            printf '\(bytes)' | dd of="$f" bs=1 seek=200000 conv=notrunc status=none
        done
        """
    }

    @Test(arguments: points)
    func killedWriteBackRecovers(point: Point) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: point.overlay)
        let paths = sandbox.paths(target)
        let mkfs = ["ext4": "mkfs.ext4 -q -F", "btrfs": "mkfs.btrfs -q -f", "xfs": "mkfs.xfs -q -f -m reflink=1"][point.fs]!
        guard Executable.find("mkfs.\(point.fs)") != nil, Executable.find("strace") != nil else {
            throw HarnessError("mkfs.\(point.fs) and strace are needed (apt-get install e2fsprogs btrfs-progs xfsprogs strace).")
        }
        let calls = point.syscalls
        var scenario = Scenario(sandbox, timeoutSeconds: 400)
            .shell("""
                truncate -s 512M "$SANDBOX/disk.img"
                \(mkfs) "$SANDBOX/disk.img" >/dev/null
                mount -o loop "$SANDBOX/disk.img" "$DATA"
                mkdir -p "\(target)/rrd"
                head -c \(Self.files * 256)K /dev/urandom | split -b 256K -a 2 - "\(target)/rrd/db."
                cat >"$SANDBOX/kill-asd" <<EOF
                #!/bin/bash
                exec strace -f -qq -o /dev/null -e trace=\(calls) -e inject=\(calls):error=EIO:signal=KILL:when=\(point.when) "$ASD_BIN" "\\$@"
                EOF
                chmod +x "$SANDBOX/kill-asd"
                # A reboot that keeps the loop-mounted disk: every other mount under the sandbox goes.
                delta_reboot() {
                    findmnt -rn -o TARGET | while IFS= read -r m; do m=$(printf '%b' "$m")
                        [[ $m == "$DATA" ]] || case $m in "$SANDBOX"/*) echo "$m" ;; esac; done |
                        sort -r | while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
                    umount -l /run && asd_mount_tmpfs /run
                    asd_mount_tmpfs "$VOLATILE" "$ASD_VOLATILE_SIZE"
                    asd_mount_tmpfs "$SANDBOX/run"
                }
                """)
            .recordContent(target, as: "initial")
            .asd("sync", as: "sync")
            .expectMounted(target)
            // A first write-back: on ext4 the files are then no longer shared with the snapshot.
            .shell(Self.mutate(target, "R1"))
            .asd("resync", as: "resync1")
            .recordContent(target, as: "before")
            .shell(Self.mutate(target, "S2"))
            .recordContent(target, as: "after")
            .shell("ASD_BIN=\"$SANDBOX/kill-asd\" asd_as killed resync")
            .recordContent(paths.diskCopy, as: "atkill")
            .capture("ls -A \"\(paths.tempDirectory)\" 2>/dev/null | grep -c '\\.redo$' || true", as: "journals")
            .shell(point.tearJournal ? "for j in \"\(paths.tempDirectory)\"/*.redo; do truncate -s -7 \"$j\"; done" : "true")
        if point.reboot {
            scenario = scenario
                .shell("delta_reboot")
                .asd("sync", as: "recover")
                .expectMounted(target)
                .expectAbsent(paths.tempDirectory)
                .recordContent(target, as: "recovered")
                .inspectArchives(of: paths, as: "crash")
        } else {
            // Still running: the next resync replays through the disk copy, then writes back.
            scenario = scenario
                .asd("resync", as: "recover")
                .expectAbsent(paths.tempDirectory)
                .recordContent(paths.diskCopy, as: "recovered")
                .recordContent(paths.snapshot, as: "snapshot")
        }
        let result = try await scenario
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync1", "recover", "unsync"])
        let killed = try result.command("killed")
        #expect(killed.status == 137, "asd was to be killed by strace at \(point.syscalls) #\(point.when): \(killed.status.map(String.init) ?? "nil") \(killed.output)")

        let initial = try ContentManifest(sandbox: sandbox, label: "initial")
        let before = try ContentManifest(sandbox: sandbox, label: "before").withoutFlag
        let after = try ContentManifest(sandbox: sandbox, label: "after").withoutFlag
        let atKill = try ContentManifest(sandbox: sandbox, label: "atkill")
        let recovered = try ContentManifest(sandbox: sandbox, label: "recovered").withoutFlag
        #expect(before.files.count == Self.files && after.files.count == Self.files)
        #expect(before.files.keys.allSatisfy { before.files[$0] != after.files[$0] && before.files[$0] != initial.files[$0] })

        func count(_ manifest: ContentManifest) -> (new: Int, old: Int, torn: Int) {
            var new = 0, old = 0, torn = 0
            for (path, file) in manifest.files {
                if file == after.files[path] { new += 1 } else if file == before.files[path] { old += 1 } else { torn += 1 }
            }
            return (new, old, torn)
        }
        let kill = count(atKill), end = count(recovered)
        let journals = Int(try result.command("journals").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(journals == (point.journalled ? 1 : 0), "redo journals in the temp dir at the kill")
        switch point.expected {
        case .oldThenNew:
            #expect(kill == (0, Self.files, 0), "at the kill")
            #expect(end == (Self.files, 0, 0), "after recovery")
        case .tornThenNew(let n):
            #expect(kill == (n, Self.files - n - 1, 1), "at the kill: \(n) files new, one half written")
            #expect(end == (Self.files, 0, 0), "after recovery")
        case .new:
            #expect(kill == (Self.files, 0, 0), "at the kill")
            #expect(end == (Self.files, 0, 0), "after recovery")
        case .old:
            #expect(kill == (0, Self.files, 0), "at the kill")
            #expect(end == (0, Self.files, 0), "after recovery")
        case .partly(let n):
            #expect(kill == (n, Self.files - n, 0), "at the kill")
            #expect(end == (n, Self.files - n, 0), "after recovery")
        }
        expectNoProblems(recovered.problems(before: before, after: after), "\(point): disk after recovery")
        let recover = try result.command("recover")
        if point.journalled {
            let message = point.tearJournal ? "Discarded an incomplete redo journal" : "Finished an interrupted write-back"
            #expect(recover.output.contains(message), "\(recover.output)")
        }
        // The snapshot kept the sync-time content through all of it.
        if point.reboot {
            #expect(try sandbox.archiveNames("crash").count == 1)
            let archived = try ContentManifest(sandbox: sandbox, label: "crash-archive")
            expectNoProblems(archived.differences(from: initial), "\(point): crash archive vs sync-time tree")
        } else {
            expectNoProblems(try ContentManifest(sandbox: sandbox, label: "snapshot").differences(from: initial), "\(point): snapshot")
        }
    }
}
