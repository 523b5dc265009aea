@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// Conventional CLI and configs as people save them (doc/DESIGN.md §2).
@Suite(.privileged) struct ConventionTests {
    @Test func helpAndVersion() async throws {
        let sandbox = try Sandbox()
        let result = try await Scenario(sandbox)
            .asd("--help", as: "help-long")
            .asd("-h", as: "help-short")
            .asd("help", as: "help-word")
            .asd("--version", as: "version-long")
            .asd("-V", as: "version-short")
            .asd("version", as: "version-word")
            .asd("--bogus", as: "unknown")
            .run()
        result.expectNoFailures()
        for label in ["help-long", "help-short", "help-word"] {
            let run = try result.command(label)
            #expect(run.status == 0, "\(label): \(run.output)")
            #expect(run.stdout.contains("asd [command]") && run.stdout.contains("unsync"), "\(label) stdout:\n\(run.stdout)")
            #expect(run.stderr.isEmpty, "\(label) stderr:\n\(run.stderr)")
        }
        for label in ["version-long", "version-short", "version-word"] {
            let run = try result.command(label)
            #expect(run.status == 0, "\(label): \(run.output)")
            #expect(run.stdout.contains(Version.string), "\(label) stdout:\n\(run.stdout)")
            #expect(run.stderr.isEmpty, "\(label) stderr:\n\(run.stderr)")
        }
        let unknown = try result.command("unknown")
        #expect(unknown.status == 64)
        #expect(unknown.stdout.isEmpty && unknown.stderr.contains("Unknown command") && unknown.stderr.contains("asd [command]"),
                "\(unknown.output)")
    }

    /// The same config saved with CRLF line ends and a UTF-8 byte-order mark: parse and
    /// a full lifecycle work as with the plain file.
    @Test(arguments: [false, true])
    func crlfAndByteOrderMark(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        let text = """
            # saved on Windows
            WHATTOSYNC=(
              '\(sandbox.expand(target))'   # the target
            )
            VOLATILE="\(sandbox.volatile)"
            USE_OVERLAYFS="\(overlay ? "yes" : "no")"

            """
        try sandbox.writeConfig("\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n"))
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("parse", as: "parse")
            .asd("sync", as: "sync")
            .expectMounted(target, fstype: overlay ? "overlay" : "tmpfs")
            .shell("printf 'changed\\n' >>\"\(target)/one.txt\"")
            .asd("unsync", as: "unsync")
            .capture("cat \"\(target)/one.txt\"", as: "one")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["parse", "sync", "unsync"])
        #expect(try result.command("parse").stdout.contains(sandbox.expand(target)))
        #expect(try result.command("one").stdout == "one\nchanged\n")
    }

    /// An unknown key (a typo of USE_OVERLAYFS) and a boolean outside the accepted words
    /// are warnings naming the file and line, not errors; a helper variable that a later
    /// line reads is not warned about.
    @Test func unknownKeyAndOddBooleanWarn() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig("""
            BASE="\(sandbox.data)"
            WHATTOSYNC=("$BASE/t")
            VOLATILE="\(sandbox.volatile)"
            USE_OVERLAY=yes
            USE_BACKUPS=maybe

            """)
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("parse", as: "parse")
            .asd("sync", as: "sync")
            .expectMounted(target)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["parse", "sync", "unsync"])
        for label in ["parse", "sync"] {
            let run = try result.command(label)
            #expect(run.stderr.contains("\(sandbox.config):4") && run.stderr.contains("USE_OVERLAY "), "\(label):\n\(run.stderr)")
            #expect(run.stderr.contains("USE_OVERLAYFS"), "\(label) does not suggest the key:\n\(run.stderr)")
            #expect(run.stderr.contains("\(sandbox.config):5") && run.stderr.contains("maybe"), "\(label):\n\(run.stderr)")
            #expect(!run.stderr.contains("BASE"), "\(label) warns about a helper variable:\n\(run.stderr)")
        }
    }
}
