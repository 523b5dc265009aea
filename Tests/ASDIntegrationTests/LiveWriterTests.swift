import Foundation
import Testing

/// A live writer works back to back while `asd resync` runs again and again. After every
/// resync the disk copy is what a power cut right then would leave, and it must be a state
/// that existed (doc/DESIGN.md, "Consistent write-back"). Writers: SQLite
/// (Tests/writers/bank.py: transfers between accounts, so the sum of the balances never
/// changes; opened by SQLite the copy must pass `integrity_check` and keep the sum), in
/// rollback-journal and WAL mode; an application log (Tests/writers/applog.py: checksummed
/// records appended, then an index rewritten in place that never counts a record the log
/// lacks). Full and overlay mode, on the engine `ASD_TEST_ENGINE` selects.
/// `ASD_CONSISTENCY_RESYNCS` sets the number of resyncs per case (default 100).
@Suite(.privileged) struct LiveWriterTests {
    static let resyncs = Int(Privilege.environment["ASD_CONSISTENCY_RESYNCS"] ?? "") ?? 100

    /// Tests/writers/<name>, found from this file.
    static func writer(_ name: String, filePath: String = #filePath) -> String {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("writers/\(name)").path
    }

    /// Writer script and the arguments of its `run` after the directory or database.
    static let writers = ["sqlite-wal", "sqlite-delete", "applog"]

    static func runCommand(_ writer: String, in target: String) -> String {
        switch writer {
        case "applog": return "python3 \(shellQuote(Self.writer("applog.py"))) run \"\(target)\" \"$OUT/writer\""
        default:
            let journal = writer == "sqlite-wal" ? "wal" : "delete"
            return "python3 \(shellQuote(Self.writer("bank.py"))) run \"\(target)/bank.db\" \(journal) \"$OUT/writer\""
        }
    }

    @Test(arguments: writers, [false, true])
    func everyResyncLeavesAStateThatExisted(writer: String, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let disk = sandbox.paths(target).diskCopy
        let checker = shellQuote(Self.writer(writer == "applog" ? "applog.py" : "bank.py"))
        let result = try await Scenario(sandbox, timeoutSeconds: 900)
            .shell("mkdir -p \"\(target)\"")
            .asd("sync", as: "sync")
            .shell("""
                \(Self.runCommand(writer, in: target)) & writer=$!
                until [ -e "$OUT/writer.ready" ]; do kill -0 $writer; sleep 0.01; done
                for i in $(seq \(Self.resyncs)); do
                    "$ASD_BIN" resync >>"$OUT/resync.log" 2>&1 || echo "resync $i: status $?" >>"$OUT/failed"
                    python3 \(checker) check "\(disk)" | grep -v '^torn [0-9]* of' >>"$OUT/checks"
                done
                kill -TERM $writer; wait $writer
                """)
            .capture("cat \"$OUT/checks\"", as: "check")
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync", "check"])
        let failed = (try? String(contentsOfFile: sandbox.out + "/failed", encoding: .utf8)) ?? ""
        #expect(failed.isEmpty, "resyncs failed:\n\(failed)")
        let check = try result.command("check").stdout
        let torn = check.split(separator: "\n").filter { $0.contains(": torn") }
        let checked = check.split(separator: "\n").filter { $0.hasSuffix(": ok") }.count + torn.count
        #expect(checked == Self.resyncs, "\(checked) disk copies checked, not \(Self.resyncs)")
        let stats = (try? String(contentsOfFile: sandbox.out + "/writer", encoding: .utf8)) ?? "none"
        print("live writer \(writer) overlay=\(overlay) engine=\(TestEngine.current): torn \(torn.count) of \(checked); writer: \(stats.split(separator: "\n").joined(separator: ", "))")
        #expect(torn.isEmpty, "\(torn.count) of \(Self.resyncs) disk copies are states that never existed:\n\(torn.prefix(5).joined(separator: "\n"))")
    }
}
