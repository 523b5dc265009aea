@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// The reflink path of the delta write-back without a flush per batch (doc/DESIGN.md §6.3):
/// on btrfs and xfs a clone is renamed over its file only after FIEMAP_FLAG_SYNC has waited
/// until its new blocks are mapped into it, so the rename cannot reach the disk before them;
/// the write-back's one syncfs then commits both (on btrfs one transaction commit instead of
/// two: Tests/bench/wear.sh). Checked on the system calls of a first and a steady resync of
/// 40 files on a loop-mounted file system: every renamed clone was mapped (or flushed) after
/// its last write, and the resync flushed once.
@Suite(.privileged) struct CloneOrderTests {
    struct Call {
        let name: String
        /// The whole call, an `<unfinished ...>` start joined to its `resumed` end.
        let text: String
        /// Line of its start and of its end.
        let start: Int
        let end: Int
    }

    /// The calls of an `strace -f -y` trace, each placed at its start and its end.
    static func calls(_ trace: String) -> [Call] {
        let resumed = try! Regex(#"^(\d+)\s+<\.\.\. ([a-z0-9_]+) resumed>(.*)$"#)
        var open: [String: (String, Int)] = [:]
        var calls: [Call] = []
        for (index, line) in trace.split(separator: "\n").map(String.init).enumerated() {
            let pid = String(line.prefix { $0.isNumber })
            if line.hasSuffix("<unfinished ...>") {
                open[pid] = (String(line.dropLast("<unfinished ...>".count)), index)
            } else if let match = line.firstMatch(of: resumed), let (head, start) = open.removeValue(forKey: pid) {
                calls.append(Call(name: String(match.output[2].substring ?? ""), text: head + (match.output[3].substring ?? ""),
                                  start: start, end: index))
            } else {
                calls.append(Call(name: DurabilityTests.syscallName(in: line), text: line, start: index, end: index))
            }
        }
        return calls
    }

    /// (clones renamed, those renamed without a mapping or flush after their last write, syncfs calls).
    static func check(_ trace: String) -> (renamed: Int, unordered: [String], syncfs: Int) {
        let clone = try! Regex(#"\.asd-tmp-\d+-d\d+"#)
        var lastWrite: [String: Int] = [:], mapped: [String: Int] = [:]
        var lastFlush = -1, renamed = 0, syncfs = 0
        var unordered: [String] = []
        for call in calls(trace) where call.text.hasSuffix(" = 0") || call.name == "pwrite64" {
            if DurabilityTests.flushing.contains(call.name) {
                lastFlush = max(lastFlush, call.end)
                if call.name == "syncfs" { syncfs += 1 }
                continue
            }
            guard let match = call.text.firstMatch(of: clone) else { continue }
            let name = String(call.text[match.range])
            switch call.name {
            case "pwrite64": lastWrite[name] = call.end
            case "ioctl" where call.text.contains("FS_IOC_FIEMAP") && call.text.contains("FIEMAP_FLAG_SYNC"):
                mapped[name] = call.end
            case let rename where rename.hasPrefix("rename"):
                renamed += 1
                let written = lastWrite[name] ?? -1
                if !((mapped[name] ?? -1) > written && (mapped[name] ?? -1) < call.start) && !(lastFlush > written && lastFlush < call.start) {
                    unordered.append(call.text)
                }
            default: break
            }
        }
        return (renamed, unordered, syncfs)
    }

    @Test(arguments: ["btrfs", "xfs"])
    func clonesMappedBeforeTheirRenames(fs: String) async throws {
        guard let mkfs = ["btrfs": "mkfs.btrfs -q -f", "xfs": "mkfs.xfs -q -f -m reflink=1"][fs],
              Executable.find("mkfs.\(fs)") != nil, Executable.find("strace") != nil else {
            throw HarnessError("mkfs.\(fs) and strace are needed (apt-get install btrfs-progs xfsprogs strace).")
        }
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let strace = "strace -f -y -qq -e trace=pwrite64,ioctl,rename,renameat,renameat2,syncfs,fsync,fdatasync"
        let result = try await Scenario(sandbox, timeoutSeconds: 300)
            .shell("""
                truncate -s 512M "$SANDBOX/disk.img"
                \(mkfs) "$SANDBOX/disk.img" >/dev/null
                mount -o loop "$SANDBOX/disk.img" "$DATA"
                mkdir -p "\(target)/rrd"
                head -c \(DeltaCrashTests.files * 256)K /dev/urandom | split -b 256K -a 2 - "\(target)/rrd/db."
                """)
            .asd("sync", as: "sync")
            .shell(DeltaCrashTests.mutate(target, "R1"))
            .capture("\(strace) -o \"$OUT/first.trace\" \"$ASD_BIN\" resync", as: "first")
            .shell(DeltaCrashTests.mutate(target, "S2"))
            .recordContent(target, as: "expected")
            .capture("\(strace) -o \"$OUT/steady.trace\" \"$ASD_BIN\" resync", as: "steady")
            .asd("unsync", as: "unsync")
            .recordContent(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "first", "steady", "unsync"])
        for label in ["first", "steady"] {
            let trace = try String(contentsOfFile: sandbox.out + "/\(label).trace", encoding: .utf8)
            let (renamed, unordered, syncfs) = Self.check(trace)
            #expect(renamed == DeltaCrashTests.files, "\(fs) \(label): clones renamed into place")
            #expect(unordered.isEmpty, "\(fs) \(label): \(unordered.count) clones renamed before their blocks were mapped, e.g. \(unordered.first ?? "")")
            #expect(syncfs == 1, "\(fs) \(label): one flush per write-back, \(syncfs) seen")
        }
        let expected = try ContentManifest(sandbox: sandbox, label: "expected").withoutFlag
        expectNoProblems(try ContentManifest(sandbox: sandbox, label: "final").differences(from: expected), "\(fs): after unsync")
    }
}
