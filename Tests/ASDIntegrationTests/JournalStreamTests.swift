@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// Priority prefixes when stdout/stderr is the journal stream `$JOURNAL_STREAM` names
/// (sd-daemon(3)): the real binary, its output in one file that plays the journal.
@Suite(.privileged) struct JournalStreamTests {
    /// `run NAME ENV...`: resync with stdout and stderr in `$OUT/NAME`, which
    /// `$JOURNAL_STREAM` names (its device:inode) unless ENV overrides it.
    static let runner = """
        run() { local f="$OUT/$1"; shift; : >"$f"
          env JOURNAL_STREAM="$(stat -c %d:%i "$f")" "$@" "$ASD_BIN" resync >>"$f" 2>&1 || true; cat "$f"; }
        """

    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

    @Test func everyLineCarriesItsPriority() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/fs/t"
        try sandbox.writeConfig(targets: [target])
        let result = try await Scenario(sandbox)
            .shell("mkdir -p \"$DATA/fs\" && mount -t tmpfs -o size=2m small \"$DATA/fs\"")
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .shell("printf 'x' >>\"\(target)/one.txt\" && mount -o remount,ro \"$DATA/fs\"")
            .capture(Self.runner + "\nrun failed", as: "failed")
            .shell("mount -o remount,rw \"$DATA/fs\"")
            .capture(Self.runner + "\nrun normal", as: "normal")
            .capture(Self.runner + "\nrun debug DEBUG=1", as: "debug")
            .capture(Self.runner + "\nrun plain env -u JOURNAL_STREAM", as: "plain")
            .capture(Self.runner + "\nrun other JOURNAL_STREAM=\"$(stat -c %d:%i \"$ASDCONF\")\"", as: "other")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync"])

        let failed = try result.command("failed").stdout
        #expect(!failed.isEmpty)
        for line in Self.lines(failed) {
            #expect(line.wholeMatch(of: /<[3-7]>.*/) != nil, "line without a priority: \(line)\n\(failed)")
        }
        #expect(Self.lines(failed).contains { $0.hasPrefix("<4>Warning: Write-back of ") }, "\(failed)")
        #expect(Self.lines(failed).contains { $0.hasPrefix("<3>Error: ") }, "\(failed)")

        let normal = try result.command("normal").stdout
        #expect(Self.lines(normal) == ["<5>Resync successful"], "\(normal)")

        let debug = try result.command("debug").stdout
        #expect(Self.lines(debug).last == "<5>Resync successful", "\(debug)")
        #expect(Self.lines(debug).dropLast().allSatisfy { $0.hasPrefix("<7>") }, "\(debug)")
        #expect(Self.lines(debug).count > 1, "\(debug)")

        // Not the journal: nothing changes.
        for label in ["plain", "other"] {
            let text = try result.command(label).stdout
            #expect(Self.lines(text) == ["Resync successful"], "\(label): \(text)")
        }
    }
}
