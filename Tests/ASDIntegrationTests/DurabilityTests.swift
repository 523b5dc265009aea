@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// resync and unsync return only once what they wrote is durable (doc/DESIGN.md §6.2); files
/// vanishing during a resync are normal (§5.6); a failing copy (disk full) keeps the tmpfs
/// copy (§5.6); a same-second rewrite reaches the disk at unsync too (§5.5).
@Suite(.privileged) struct DurabilityTests {
    static let strace = Executable.find("strace")

    /// Syscalls that change a file system, and the ones that flush it.
    static let changing = [
        "rename", "renameat", "renameat2", "openat", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir",
        "link", "linkat", "symlinkat", "mknodat", "fchmodat", "fchownat", "fchmod", "fchown", "utimensat",
        "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "truncate", "ftruncate",
    ]
    static let flushing = ["syncfs", "fsync", "fdatasync", "sync"]

    /// The paths a syscall line of `strace -y` names, before its result: absolute quoted
    /// paths, relative ones joined to the directory of their dirfd (`5</dir>, "name"`),
    /// and fd arguments (`5</path>`). nil for a relative path without a dirfd (rsync
    /// works relative to its destination): the caller counts that as a change.
    static func paths(in line: String) -> [String?] {
        let head = line.range(of: ") = ", options: .backwards).map { String(line[..<$0.lowerBound]) } ?? line
        var result: [String?] = []
        let quoted = try! Regex(#"(?:<([^>]*)>, )?"((?:[^"\\]|\\.)*)""#)
        for match in head.matches(of: quoted) {
            let dir = match.output[1].substring.map(String.init)
            let text = match.output[2].substring.map(String.init) ?? ""
            result.append(text.hasPrefix("/") ? text : dir.map { $0 + "/" + text })
            if head.contains("xattr") { return result }  // then come the attribute's name and value
        }
        let descriptor = try! Regex(#"<([^>]*)>(?!, ")"#)
        for match in head.matches(of: descriptor) {
            result.append(match.output[1].substring.map(String.init))
        }
        return result
    }

    /// The syscall a line of `strace -f` shows. strace pads the pid column
    /// ("123   rename(", "12345 rename("), so the gap has no fixed width.
    static func syscallName(in line: String) -> String {
        let call = try! Regex(#"^(?:\d+\s+)?([a-z0-9_]+)\("#)
        guard let match = line.firstMatch(of: call), let name = match.output[1].substring else { return "" }
        return String(name)
    }

    /// The last change on the target's file system, and whether a flush of it follows.
    /// Our temp dir (`-tmp`, purged at every start), read-only opens and failed calls
    /// are not changes.
    static func lastChangeIsFlushed(trace: String, data: String, daemonFile: String) -> (lastChange: String?, flushed: Bool) {
        let stage = daemonFile + ".stage/"
        func onTargetFS(_ path: String) -> Bool {
            (path == data || path.hasPrefix(data + "/") || path.hasPrefix(stage))
                && !path.contains("-backup_asd-tmp")
        }
        var lastChange: (index: Int, line: String)?
        var lastFlush: Int?
        for (index, line) in trace.split(separator: "\n").enumerated() {
            let text = String(line)
            let call = Self.syscallName(in: text)
            if text.contains(" = -1 ") || text.contains("resumed>") { continue }
            let paths = Self.paths(in: text)
            if flushing.contains(call) {
                if text.hasSuffix(" = 0") && (call == "sync" || paths.contains { $0.map(onTargetFS) ?? false }) {
                    lastFlush = index
                }
            } else if changing.contains(call) {
                if call == "openat" && !["O_WRONLY", "O_RDWR", "O_CREAT"].contains(where: text.contains) { continue }
                if paths.contains(where: { $0.map(onTargetFS) ?? true }) { lastChange = (index, text) }
            }
        }
        guard let lastChange else { return (nil, false) }
        return (lastChange.line, (lastFlush ?? -1) > lastChange.index)
    }

    @Test(
        .enabled(if: strace != nil || Privilege.required, "needs strace(1)"),
        arguments: ["resync", "unsync"], [false, true])
    func flushedBeforeExit(command: String, overlay: Bool) async throws {
        guard let strace = Self.strace else {
            throw HarnessError("ASD_REQUIRE_PRIVILEGED=1 but strace(1) is not installed: the durability tests need it (apt-get install strace).")
        }
        let (sandbox, trace) = try await Self.traced(
            command, overlay: overlay, strace: strace,
            change: "head -c 3M /dev/urandom >\"$DATA/t/a/b/new.bin\" && chmod 0600 \"$DATA/t/a/b/4k.bin\"")
        let (lastChange, flushed) = Self.lastChangeIsFlushed(trace: trace, data: sandbox.data, daemonFile: sandbox.daemonFile)
        #expect(lastChange != nil, "no change on the target's file system seen in the trace:\n\(trace.suffix(2000))")
        #expect(flushed, "\(command): no syncfs/fsync after the last change on the target's file system: \(lastChange ?? "-")")
    }

    /// A loop creates and deletes files and dirs in the target while resync runs
    /// (rsync exit 24 in full mode; entries vanish under the overlay walker): every
    /// resync succeeds, and unsync afterwards too.
    @Test(arguments: [false, true])
    func vanishingFilesDuringResync(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let runs = 6
        var scenario = Scenario(sandbox)
            .shell(BigTree.create(at: target, bigFiles: 5, smallDirs: 10))
            .asd("sync", as: "sync")
            .shell("""
                (
                    set +e
                    trap 'exit 0' TERM
                    cd "\(target)"
                    while :; do
                        mkdir -p churn/sub
                        for i in $(seq 1 150); do echo "$i" >churn/f$i; echo "$i" >churn/sub/g$i; done
                        rm -rf churn
                        for i in $(seq 1 50); do echo x >small/d1/c$i; done
                        rm -f small/d1/c*
                    done
                ) >/dev/null 2>&1 &
                echo $! >"$SANDBOX/churn.pid"
                sleep 0.2
                """)
        for run in 1...runs {
            scenario = scenario.asd("resync", as: "resync\(run)")
        }
        let result = try await scenario
            .shell("kill \"$(cat \"$SANDBOX/churn.pid\")\"; while kill -0 \"$(cat \"$SANDBOX/churn.pid\")\" 2>/dev/null; do sleep 0.05; done")
            .recordContent(target, as: "before-unsync")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .recordContent(target, as: "final")
            .run()
        result.expectNoFailures()
        var notes = 0, succeeded = 0
        for run in 1...runs {
            let resync = try result.command("resync\(run)")
            #expect(resync.status == 0, "resync \(run) during churn: \(resync.output)")
            if resync.status == 0 { succeeded += 1 }
            if resync.output.contains("vanished") { notes += 1 }
        }
        #expect(try result.command("unsync").status == 0)
        let expected = try ContentManifest(sandbox: sandbox, label: "before-unsync").withoutFlag
        expectNoProblems(try ContentManifest(sandbox: sandbox, label: "final").differences(from: expected), "after unsync")
        print("asd-itest vanishing files (\(overlay ? "overlay" : "full")): \(succeeded)/\(runs) resyncs ok, \(notes) printed a 'vanished' note")
    }

    /// The disk fills up mid-copy during resync and during unsync (the target lives on a
    /// 4 MiB file system and an 8 MiB file was added in tmpfs): exit 1, the message names
    /// the target and the reason, the target stays in tmpfs and running; once the file
    /// system is grown, the next resync and unsync write everything.
    @Test func diskFullKeepsTheTmpfsCopy() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/disk/t"
        try sandbox.writeConfig(targets: [target])
        let paths = sandbox.paths(target)
        func stillRunning(_ scenario: Scenario) -> Scenario {
            scenario.expectMounted(target, fstype: "tmpfs").expectMounted(paths.diskCopy)
                .expectExists(paths.flag).expectExists("$DAEMON_FILE").expectExists(paths.snapshot)
        }
        let result = try await stillRunning(stillRunning(
            Scenario(sandbox)
                .shell("mkdir -p \"$DATA/disk\" && mount -t tmpfs -o size=4m,mode=0755 asd-itest-disk \"$DATA/disk\"")
                .shell(Fixture.rich(at: target))
                .asd("sync", as: "sync")
                .shell(Fixture.changes(in: target))
                .shell("head -c 8M /dev/urandom >\"\(target)/big-new.bin\"")
                .asd("resync", as: "bad-resync"))
                .asd("unsync", as: "bad-unsync"))
            .snapshotTree(target, as: "tmpfs")
            .shell("mount -o remount,size=64m \"$DATA/disk\"")
            .asd("resync", as: "resync")
            .snapshotTree(paths.diskCopy, as: "disk")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        #expect(try result.command("sync").status == 0)
        for label in ["bad-resync", "bad-unsync"] {
            let run = try result.command(label)
            #expect(run.status == 1, "\(label): \(run.output)")
            #expect(run.output.contains(sandbox.expand(target)), "\(label): target not named:\n\(run.output)")
            #expect(run.output.contains("No space left on device"), "\(label): reason not given:\n\(run.output)")
        }
        #expect(try result.command("resync").status == 0 && result.command("unsync").status == 0)
        try expectSameTree(result.tree("tmpfs"), result.tree("disk"), .lifecycle, "disk after the good resync")
        try expectSameTree(result.tree("tmpfs"), result.tree("final"), .lifecycle, "target after unsync")
    }

    /// Same size, same mtime second, other nanoseconds and content, written back by
    /// unsync (LifecycleTests covers resync).
    @Test(arguments: [false, true])
    func sameSecondRewriteKeptByUnsync(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("printf 'AAAA' >\"\(target)/same\" && touch -d @1700000000.100000000 \"\(target)/same\"")
            .asd("sync", as: "sync")
            .shell(Fixture.sameSecondRewrite(in: target).replacingOccurrences(of: "same-second", with: "same"))
            .asd("unsync", as: "unsync")
            .capture("cat \"\(target)/same\"; date -r \"\(target)/same\" +' %s.%N'", as: "same")
            .run()
        result.expectNoFailures()
        #expect(try result.command("unsync").status == 0)
        let same = try result.command("same").stdout
        #expect(same == "BBBB 1700000000.200000000\n", "\(same)")
    }
}

/// The trace reader itself, on made-up traces: it must see changes and flushes
/// whatever the width of strace's pid column (short pids on a fresh machine).
@Suite struct StraceReadingTests {
    @Test(arguments: ["812   ", "4095  ", "12345 ", ""])
    func findsChangeAndFlush(pidColumn: String) {
        let change = pidColumn + #"rename("/d/run/asd.stage/.t-backup_asd-tmp/x", "/d/run/asd.stage/t/x") = 0"#
        let flush = pidColumn + "syncfs(4</d/data>) = 0"
        #expect(DurabilityTests.syscallName(in: change) == "rename")
        let flushed = DurabilityTests.lastChangeIsFlushed(
            trace: change + "\n" + flush, data: "/d/data", daemonFile: "/d/run/asd")
        #expect(flushed.lastChange == change)
        #expect(flushed.flushed)
        let unflushed = DurabilityTests.lastChangeIsFlushed(
            trace: flush + "\n" + change, data: "/d/data", daemonFile: "/d/run/asd")
        #expect(unflushed.lastChange == change)
        #expect(!unflushed.flushed)
    }
}
