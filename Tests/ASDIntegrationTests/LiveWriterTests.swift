import Foundation
import Testing

/// A live SQLite writer (Tests/writers/bank.py: transfers between accounts, so the sum of
/// the balances never changes) commits back to back while `asd resync` runs again and
/// again. After every resync the disk copy is what a power cut right then would leave:
/// opened by SQLite it must pass `integrity_check` and keep the sum, that is, be a state
/// that existed (doc/DESIGN.md, "Consistent write-back"). Rollback journal and WAL, full
/// and overlay mode, on the engine `ASD_TEST_ENGINE` selects.
/// `ASD_CONSISTENCY_RESYNCS` sets the number of resyncs per case (default 100).
@Suite(.privileged) struct LiveWriterTests {
    static let resyncs = Int(Privilege.environment["ASD_CONSISTENCY_RESYNCS"] ?? "") ?? 100

    /// Tests/writers/<name>, found from this file.
    static func writer(_ name: String, filePath: String = #filePath) -> String {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("writers/\(name)").path
    }

    @Test(arguments: ["wal", "delete"], [false, true])
    func everyResyncLeavesAStateThatExisted(journal: String, overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let disk = sandbox.paths(target).diskCopy
        let bank = shellQuote(Self.writer("bank.py"))
        let result = try await Scenario(sandbox, timeoutSeconds: 600)
            .shell("mkdir -p \"\(target)\" \"$SANDBOX/copies\"")
            .asd("sync", as: "sync")
            .shell("""
                python3 \(bank) run "\(target)/bank.db" \(journal) "$OUT/writer" & writer=$!
                until [ -e "$OUT/writer.ready" ]; do kill -0 $writer; sleep 0.01; done
                for i in $(seq \(Self.resyncs)); do
                    "$ASD_BIN" resync >>"$OUT/resync.log" 2>&1 || echo "resync $i: status $?" >>"$OUT/failed"
                    mkdir "$SANDBOX/copies/$i"
                    cp -a "\(disk)"/bank.db* "$SANDBOX/copies/$i/" 2>/dev/null || true
                done
                kill -TERM $writer; wait $writer
                """)
            .capture("python3 \(bank) check \"$SANDBOX\"/copies/*", as: "check")
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync", "check"])
        let failed = (try? String(contentsOfFile: sandbox.out + "/failed", encoding: .utf8)) ?? ""
        #expect(failed.isEmpty, "resyncs failed:\n\(failed)")
        let check = try result.command("check").stdout
        let torn = check.split(separator: "\n").filter { $0.contains(": torn") }
        let stats = (try? String(contentsOfFile: sandbox.out + "/writer", encoding: .utf8)) ?? "none"
        print("live writer \(journal) overlay=\(overlay) engine=\(TestEngine.current): \(check.split(separator: "\n").last ?? ""); writer: \(stats.split(separator: "\n").joined(separator: ", "))")
        #expect(torn.isEmpty, "\(torn.count) of \(Self.resyncs) disk copies are states that never existed:\n\(torn.prefix(5).joined(separator: "\n"))")
        let checkedAll = check.contains("torn \(torn.count) of \(Self.resyncs)\n")
        #expect(checkedAll, "the check did not see \(Self.resyncs) disk copies")
    }
}
