@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// Data before names (doc/DESIGN.md §6): every temp copy a resync renames into the target was
/// flushed after it was written. Without that flush ext4 can commit the rename before
/// the file's delayed-allocation data, and a power cut leaves the file empty; the
/// power-loss test (Tests/powerloss) found exactly that. This checks the order of the
/// syscalls, so it runs in `make check` without a VM.
extension DurabilityTests {
    /// (temp copies renamed, the rename lines not preceded by a flush since the copy was
    /// created). A temp copy is `.asd-tmp-PID-N` (built-in copier) or any file rsync makes
    /// in asd's temp directory `.NAME-backup_asd-tmp/` (rsync copier); a flush is a successful syncfs, fsync,
    /// fdatasync or sync, also when strace shows its result on a `resumed` line.
    static func renamesBeforeFlush(trace: String) -> (renamed: Int, unflushed: [String]) {
        let temp = try! Regex(#"\.asd-tmp-\d+-\d+|backup_asd-tmp/[^"/]+"#)
        let resumed = try! Regex(#"<\.\.\. ([a-z0-9_]+) resumed>"#)
        var created: [String: Int] = [:]
        var lastFlush = -1
        var renamed = 0
        var unflushed: [String] = []
        for (index, line) in trace.split(separator: "\n").enumerated() {
            let text = String(line)
            if text.contains(" = -1 ") { continue }
            if let match = text.firstMatch(of: resumed), let name = match.output[1].substring {
                if flushing.contains(String(name)) && text.hasSuffix(" = 0") { lastFlush = index }
                continue
            }
            let call = syscallName(in: text)
            if flushing.contains(call) {
                if text.hasSuffix(" = 0") { lastFlush = index }
                continue
            }
            guard let match = text.firstMatch(of: temp) else { continue }
            let name = String(text[match.range])
            if call == "openat" && text.contains("O_CREAT") {
                created[name] = index
            } else if call.hasPrefix("rename"), let made = created[name] {
                renamed += 1
                if lastFlush < made { unflushed.append(text) }
            }
        }
        return (renamed, unflushed)
    }

    @Test(
        .enabled(if: strace != nil || Privilege.required, "needs strace(1)"),
        arguments: [false, true])
    func dataFlushedBeforeRename(overlay: Bool) async throws {
        guard let strace = Self.strace else {
            throw HarnessError("ASD_REQUIRE_PRIVILEGED=1 but strace(1) is not installed: the durability tests need it (apt-get install strace).")
        }
        let (_, trace) = try await Self.traced(
            "resync", overlay: overlay, strace: strace,
            change: "head -c 300K /dev/urandom >\"$DATA/t/a/b/new.bin\" && echo new >\"$DATA/t/a/new.txt\"")
        let (renamed, unflushed) = Self.renamesBeforeFlush(trace: trace)
        #expect(renamed >= 2, "no temp copy renamed into the target seen in the trace:\n\(trace.suffix(2000))")
        #expect(unflushed.count == 0, "\(unflushed.count) of \(renamed) temp copies renamed into place before a flush of their data, e.g. \(unflushed.first ?? "")")
    }

    /// Syncs `$DATA/t` (a rich tree), changes it (the usual changes plus `change`),
    /// then runs `asd command` under strace (the changing and flushing calls);
    /// returns the sandbox and the trace.
    static func traced(_ command: String, overlay: Bool, strace: String, change: String) async throws -> (Sandbox, String) {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let calls = (changing + flushing).joined(separator: ",")
        let result = try await Scenario(sandbox)
            .shell(Fixture.rich(at: target))
            .asd("sync", as: "sync")
            .shell(Fixture.changes(in: target))
            .shell(change)
            .capture("\(strace) -f -y -qq -o \"$OUT/strace\" -e trace=\(calls) \"$ASD_BIN\" \(command)", as: "traced")
            .run()
        result.expectNoFailures()
        let traced = try result.command("traced")
        #expect(traced.status == 0, "\(traced.output)")
        return (sandbox, try String(contentsOfFile: sandbox.out + "/strace", encoding: .utf8))
    }
}

extension DurabilityTests {
    /// Crash recovery (at the next `sync` after a reboot) makes the archive and removes
    /// the snapshot: that removal must be flushed before anything else happens, or a
    /// power cut right after brings the snapshot back and the next start archives it
    /// a second time.
    @Test(.enabled(if: strace != nil || Privilege.required, "needs strace(1)"))
    func recoveryFlushesTheSnapshotRemoval() async throws {
        guard let strace = Self.strace else {
            throw HarnessError("ASD_REQUIRE_PRIVILEGED=1 but strace(1) is not installed: the durability tests need it (apt-get install strace).")
        }
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let paths = sandbox.paths(target)
        let calls = (Self.changing + Self.flushing).joined(separator: ",")
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .reboot()
            .capture("\(strace) -f -y -qq -o \"$OUT/strace\" -e trace=\(calls) \"$ASD_BIN\" sync", as: "traced")
            .expect("compgen -G '\(paths.parent)/\(paths.archivePrefix)*' >/dev/null", "no crash archive was made")
            .run()
        result.expectNoFailures()
        let traced = try result.command("traced")
        #expect(traced.status == 0, "\(traced.output)")
        let lines = try String(contentsOfFile: sandbox.out + "/strace", encoding: .utf8).split(separator: "\n").map(String.init)
        let snapshotName = String(paths.snapshot.split(separator: "/").last ?? "")
        // The snapshot's root (renamed to `.partial` first) goes last ...
        func names(_ line: String) -> Bool { line.contains("\"\(snapshotName)\"") || line.contains("\"\(snapshotName).partial\"") }
        let removal = lines.firstIndex { line in
            let call = Self.syscallName(in: line)
            return (call == "rmdir" || call == "unlinkat" && line.contains("AT_REMOVEDIR")) && names(line) && line.hasSuffix(" = 0")
        }
        #expect(removal != nil, "the snapshot's removal is not in the trace:\n\(lines.prefix(60).joined(separator: "\n"))")
        // ... and a flush must follow before the new sync makes its new snapshot.
        let start = removal ?? lines.count
        let nextSnapshot = lines.indices.first { index in
            index > start && ["mkdirat", "mkdir"].contains(Self.syscallName(in: lines[index])) && names(lines[index])
        } ?? lines.count
        let data = sandbox.data
        let flushed = lines[start..<max(nextSnapshot, start)].contains { line in
            let call = Self.syscallName(in: line)
            let onData = Self.paths(in: line).contains { $0.map { $0 == data || $0.hasPrefix(data + "/") } ?? false }
            return Self.flushing.contains(call) && line.hasSuffix(" = 0") && (call == "sync" || onData)
        }
        #expect(flushed, "no flush between the snapshot's removal and the next sync's snapshot")
    }
}
