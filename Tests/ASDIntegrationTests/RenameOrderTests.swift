import ASDCore
import Foundation
import Testing

/// Data before names (SPEC §5.3): every temp copy a resync renames into the target was
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
