@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing
import ASDTestSupport

/// Block records (doc/DESIGN.md §6.6) on a loop-mounted ext4 (redo
/// journal, in place) and btrfs (reflink clones), built-in copier. Every read
/// and write of the resyncs is traced (`strace -y`: each descriptor with its
/// path), so the bytes read from the disk copy and written into files are
/// counted exactly, without depending on the page cache:
///
/// - the second resync of 40 files of 256 KiB (two bytes changed at two places
///   each) and a 64 MiB file (three bytes across a block boundary) reads only
///   the changed blocks from the disk copy (< 1 MiB) and writes exactly the
///   changed bytes;
/// - a disk file changed behind asd's back (its mtime put back to the very
///   nanosecond) has a stale record (its ctime moved): the next resync reads
///   it whole and the disk copy ends up exactly like the RAM copy.
@Suite(.privileged) struct BlockRecordTests {
    static let files = 40

    /// `pread64`/`pwrite64` bytes of a trace, by the path of the descriptor.
    static func bytes(of call: String, in trace: String, where wanted: (String) -> Bool) -> [String: Int] {
        var result: [String: Int] = [:]
        for line in joined(trace) {
            guard let open = line.range(of: "\(call)("), let close = line.range(of: ">", range: open.upperBound..<line.endIndex),
                  let equals = line.range(of: "= ", options: .backwards), let count = Int(line[equals.upperBound...])
            else { continue }
            let descriptor = line[open.upperBound..<close.lowerBound]
            guard let start = descriptor.firstIndex(of: "<") else { continue }
            let path = String(descriptor[descriptor.index(after: start)...])
            if wanted(path) { result[path, default: 0] += count }
        }
        return result
    }

    /// The lines of an `strace -f` trace with each call interrupted by another
    /// thread ("<unfinished ...>", later "<... call resumed>") put back together.
    static func joined(_ trace: String) -> [Substring] {
        var started: [Substring: Substring] = [:]
        var lines: [Substring] = []
        for line in trace.split(separator: "\n") {
            let pid = line.prefix { $0 != " " }
            if let cut = line.range(of: " <unfinished ...>") {
                started[pid] = line[..<cut.lowerBound]
            } else if let resumed = line.range(of: " resumed>"), let first = started.removeValue(forKey: pid) {
                lines.append(Substring(String(first) + line[resumed.upperBound...]))
            } else {
                lines.append(line)
            }
        }
        return lines
    }

    static func mutate(_ dir: String, _ bytes: String, bigAt offset: Int) -> String {
        DeltaCrashTests.mutate(dir, bytes) + """

            printf '\(bytes)x' | dd of="\(dir)/big" bs=1 seek=\(offset) conv=notrunc status=none
            """
    }

    @Test(arguments: ["ext4", "btrfs"])
    func secondResyncReadsOnlyChangedBlocks(fs: String) async throws {
        let mkfs = fs == "ext4" ? "mkfs.ext4 -q -F" : "mkfs.btrfs -q -f"
        for tool in ["mkfs.\(fs)", "strace"] where Executable.find(tool) == nil {
            throw HarnessError("\(tool) is needed for block records on \(fs) (apt-get install e2fsprogs btrfs-progs strace).")
        }
        let sandbox = try Sandbox(), target = "$DATA/t", paths = sandbox.paths("$DATA/t")
        try sandbox.writeConfig(targets: [target], engine: .builtin)
        let strace = "strace -f -y -qq -e trace=pread64,pwrite64"
        let result = try await Scenario(sandbox, timeoutSeconds: 300)
            .shell("""
                truncate -s 512M "$SANDBOX/disk.img" && \(mkfs) "$SANDBOX/disk.img" >/dev/null
                mount -o loop "$SANDBOX/disk.img" "$DATA" && mkdir -p "\(target)/rrd"
                head -c \(Self.files * 256)K /dev/urandom | split -b 256K -a 2 - "\(target)/rrd/db."
                head -c 64M /dev/urandom >"\(target)/big"
                """)
            .asd("sync", as: "sync")
            .shell(Self.mutate(target, "R1", bigAt: 1 << 20))
            .asd("resync", as: "first")
            .shell(Self.mutate(target, "S2", bigAt: 65535))
            .recordContent(target, as: "expected")
            .capture("\(strace) -o \"$OUT/steady.trace\" \"$ASD_BIN\" resync", as: "steady")
            // Behind asd's back: a block of the disk copy changes, its mtime is put back.
            .shell("""
                f="\(paths.diskCopy)/rrd/db.aa"; m=$(stat -c %y "$f")
                printf XX | dd of="$f" bs=1 seek=100000 conv=notrunc status=none
                touch -m -d "$m" "$f"
                [[ $(stat -c %y "$f") == "$m" ]] || { echo "mtime not restored" >&2; exit 1; }
                printf YY | dd of="\(target)/rrd/db.aa" bs=1 seek=150000 conv=notrunc status=none
                """)
            .recordContent(target, as: "expected2")
            .capture("\(strace) -o \"$OUT/stale.trace\" \"$ASD_BIN\" resync", as: "stale")
            .recordContent(paths.diskCopy, as: "disk")
            .asd("unsync", as: "unsync")
            .recordContent(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "first", "steady", "stale", "unsync"])
        let volatile = sandbox.volatile
        let onDisk = { (path: String) in !path.hasPrefix(volatile) && (path.contains("/rrd/db.") || path.hasSuffix("/big")) }
        let steady = try String(contentsOfFile: sandbox.out + "/steady.trace", encoding: .utf8)
        let read = Self.bytes(of: "pread64", in: steady, where: onDisk).values.reduce(0, +)
        #expect(read > 0 && read < 1 << 20, "\(fs): the second resync read \(read) bytes of the disk copy")
        let written = Self.bytes(of: "pwrite64", in: steady) { !$0.hasPrefix(volatile) && !$0.hasSuffix(".redo") }
        #expect(written.values.reduce(0, +) == Self.files * 4 + 3, "\(fs): bytes written into files: \(written)")
        let stale = try String(contentsOfFile: sandbox.out + "/stale.trace", encoding: .utf8)
        let staleRead = Self.bytes(of: "pread64", in: stale, where: onDisk)
        #expect(staleRead.count == 1 && staleRead.values.first == 256 << 10,
                "\(fs): a disk file changed behind asd's back is read whole: \(staleRead)")
        let expected2 = try ContentManifest(sandbox: sandbox, label: "expected2").withoutFlag
        expectNoProblems(try ContentManifest(sandbox: sandbox, label: "disk").differences(from: expected2), "\(fs): disk copy")
        expectNoProblems(try ContentManifest(sandbox: sandbox, label: "final").differences(from: expected2), "\(fs): after unsync")
    }
}
