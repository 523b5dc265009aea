import Glibc
import Synchronization
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// A `Log` that remembers what it was told.
final class RecordingLog: Log {
    let lines = Mutex<[String]>([])
    let showsProgress = false
    func info(_ message: String) { lines.withLock { $0.append("info: " + message) } }
    func debug(_ message: String) { lines.withLock { $0.append("debug: " + message) } }
    func warning(_ message: String) { lines.withLock { $0.append("warning: " + message) } }
}

/// A `Log` for a terminal: progress wanted.
struct TerminalLog: Log {
    let showsProgress = true
    func info(_ message: String) {}
    func debug(_ message: String) {}
    func warning(_ message: String) {}
}

/// The rsync copier against a real rsync (no root needed: no owners, no mounts).
@Suite("RsyncCopier", .enabled(if: Subprocess.which("rsync") != nil || ProcessEnvironment.current()["ASD_REQUIRE_PRIVILEGED"] == "1",
                               "needs rsync(1)"))
struct RsyncCopierTests {
    func shell(_ script: String, in dir: String) throws {
        let result = try Subprocess.run(["bash", "-ec", "cd \"$0\"; " + script, dir])
        try #require(result.status == .exited(0), "\(script): \(result.standardError)")
    }

    func output(_ script: String, in dir: String) throws -> String {
        try Subprocess.run(["bash", "-ec", "cd \"$0\"; " + script, dir], captureOutput: true).outputText
    }

    func withTempDirectory(_ body: (String) throws -> Void) throws {
        var template = Array("/tmp/asd-rsync-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw Errno.current }
        let dir = String(cString: made)
        defer { _ = try? Subprocess.run(["rm", "-rf", "--", dir]) }
        try body(dir)
    }

    @Test("full write-back: same-second rewrite, deletions, marker and temp dir kept out, shared inode never changed")
    func fullWriteBack() throws {
        try withTempDirectory { dir in
            try shell("""
                mkdir -p tmpfs/sub disk/sub tmp snap
                printf new >tmpfs/sub/file; printf old >disk/sub/file
                touch -d '2020-01-01 00:00:00.700000000' tmpfs/sub/file
                touch -d '2020-01-01 00:00:00.100000000' disk/sub/file
                echo 1 >tmpfs/.flagged; echo gone >disk/removed
                printf same >disk/shared; chmod 0644 disk/shared; touch -d @1500000000.5 disk/shared
                ln disk/shared snap/shared
                cp -a disk/shared tmpfs/shared; chmod 0600 tmpfs/shared
                """, in: dir)
            let log = RecordingLog()
            let job = WriteBackJob(source: FilePath(dir + "/tmpfs"), destination: FilePath(dir + "/disk"), tempDirectory: FilePath(dir + "/tmp"))
            let report = try RsyncCopier(log: log, onEveryTree: true).writeBack(job)
            #expect(report.vanished == 0)
            #expect(try output("cat disk/sub/file; stat -c ' %y' disk/sub/file", in: dir) == "new 2020-01-01 00:00:00.700000000 +0000\n")
            #expect(try output("find disk -mindepth 1 | sort", in: dir) == "disk/shared\ndisk/sub\ndisk/sub/file\n")
            // The snapshot's link keeps the sync-time mode; the disk copy has the new one.
            #expect(try output("stat -c '%a %h' snap/shared disk/shared", in: dir) == "644 1\n600 1\n")
            #expect(try output("ls -A tmp", in: dir) == "")
            #expect(log.lines.withLock { $0.contains { $0.hasPrefix("debug: Running: rsync -aAX") && $0.contains("--ignore-times") } })
        }
    }

    @Test("overlay write-back copies and deletes only in directories of the upper layer, names as bytes")
    func overlayWriteBack() throws {
        try withTempDirectory { dir in
            // merged = what the overlay shows; upper = what changed; disk = the disk copy.
            try shell("""
                mkdir -p merged/a/b merged/untouched upper/a disk/a/b disk/untouched tmp
                printf keep >disk/a/b/k; cp -a disk/a/b/k merged/a/b/k
                printf old >disk/untouched/u; printf 'differs but not in upper' >merged/untouched/u
                printf gone >disk/a/deleted; mkdir disk/a/deleted-dir; printf x >disk/a/deleted-dir/f
                printf new >"merged/a/$(printf 'caf\\351')"; cp -a "merged/a/$(printf 'caf\\351')" upper/a/
                printf 'line' >"merged/a/new
                line"; cp -a merged/a/new?line upper/a/
                echo 1 >merged/.flagged
                """, in: dir)
            let lists = try RsyncLists.overlay(
                merged: FilePath(dir + "/merged"), upper: FilePath(dir + "/upper"), destination: FilePath(dir + "/disk"),
                excluded: [".flagged"])
            let cafe = FilePath(bytes: Array("a/caf".utf8) + [0xE9])
            #expect(lists.transfer == [".", "a", cafe, "a/new\nline"])
            #expect(Set(lists.delete) == Set(["a/deleted", "a/deleted-dir"].map { FilePath($0) }))
            let job = WriteBackJob(source: FilePath(dir + "/merged"), destination: FilePath(dir + "/disk"), tempDirectory: FilePath(dir + "/tmp"),
                                   changedOnlyIn: FilePath(dir + "/upper"))
            _ = try RsyncCopier(log: RecordingLog(), onEveryTree: true).writeBack(job)
            #expect(try output("find disk -mindepth 1 -printf '%P\\0' | LC_ALL=C sort -z | od -An -c | tr -s ' \\n' ' '", in: dir)
                == " a \\0 a / b \\0 a / b / k \\0 a / c a f 351 \\0 a / n e w \\n l i n e \\0 u n t o u c h e d \\0 u n t o u c h e d / u \\0 ")
            #expect(try output("cat disk/a/caf$'\\351'; cat disk/untouched/u; [[ -e disk/.flagged ]] || echo noflag", in: dir)
                == "newoldnoflag\n")
        }
    }

    @Test("a failing rsync is a CopyError.command with its stderr; the missing source root is not 'vanished'")
    func failure() throws {
        try withTempDirectory { dir in
            #expect {
                _ = try RsyncCopier(log: RecordingLog(), onEveryTree: true).fill(from: FilePath(dir + "/missing"), into: FilePath(dir + "/out"), excludedTopNames: [])
            } throws: { error in
                guard case .command(let argv, let status, let stderr) = error as? CopyError else { return false }
                return argv.first == "rsync" && argv.last == dir + "/out/" && status == "exit status 23" && stderr.contains("missing")
            }
        }
    }

    @Test("progress options only when a terminal watches; the list reaches rsync's stdin as NUL-separated bytes")
    func progressAndList() throws {
        try withTempDirectory { dir in
            // A stand-in rsync that records its arguments and its stdin.
            let script = "#!/bin/sh\nprintf '%s\\n' \"$@\" >'\(dir)/args'\ncat >'\(dir)/stdin'\n"
            try FileOps.writeFileAtomically(FilePath(dir + "/fake-rsync"), contents: Array(script.utf8), mode: 0o755)
            try shell("mkdir src dst", in: dir)
            let fake = FilePath(dir + "/fake-rsync")
            _ = try RsyncCopier(log: RecordingLog(), executable: fake, onEveryTree: true).fill(from: FilePath(dir + "/src"), into: FilePath(dir + "/dst"), excludedTopNames: [])
            #expect(try !output("cat args", in: dir).contains("progress"))
            _ = try RsyncCopier(log: TerminalLog(), executable: fake, onEveryTree: true).fill(from: FilePath(dir + "/src"), into: FilePath(dir + "/dst"), excludedTopNames: [])
            #expect(try output("cat args", in: dir).contains("--info=progress2\n--no-inc-recursive\n"))
            let name = FilePath(bytes: Array("d/caf".utf8) + [0xE9, 0x0A, 0x78])
            _ = try Rsync.run(RsyncCommand(.list(.transfer, tempDirectory: nil), from: FilePath(dir + "/src"), to: FilePath(dir + "/dst"), executable: fake),
                              list: [".", name], log: RecordingLog())
            #expect(try output("od -An -tx1 stdin | tr -d ' \\n'", in: dir) == "2e00" + "642f636166e90a7800")
        }
    }

    @Test("exit 24 counts as success with vanished files")
    func vanished() throws {
        try withTempDirectory { dir in
            try shell("printf '#!/bin/sh\\necho \"file has vanished: \\\\\"/x/a\\\\\"\" >&2\\nexit 24\\n' >fake-rsync; chmod +x fake-rsync; mkdir src dst", in: dir)
            let copier = RsyncCopier(log: RecordingLog(), executable: FilePath(dir + "/fake-rsync"), onEveryTree: true)
            #expect(try copier.fill(from: FilePath(dir + "/src"), into: FilePath(dir + "/dst"), excludedTopNames: []).vanished == 1)
        }
    }
}
