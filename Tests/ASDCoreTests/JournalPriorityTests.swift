import Foundation
import Glibc
import Testing
import ASDTestSupport
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// Priority prefixes on lines written to a journal stream (sd-daemon(3)).
@Suite("journal priorities")
struct JournalPriorityTests {
    @Test("every line gets the prefix; a final newline starts no new line", arguments: [
        ("Resync successful\n", "<5>Resync successful\n"),
        ("one\ntwo\n", "<5>one\n<5>two\n"),
        ("one\n\nthree\n", "<5>one\n<5>\n<5>three\n"),
        ("no newline", "<5>no newline"),
        ("", ""),
    ])
    func prefixingLines(text: String, expected: String) {
        #expect(LogLevel.notice.prefixingLines(text) == expected)
    }

    @Test("the levels are syslog's")
    func levels() {
        #expect(LogLevel.allCases.map(\.prefix) == ["<3>", "<4>", "<5>", "<6>", "<7>"])
    }

    @Test("JOURNAL_STREAM is two decimal numbers joined by a colon", arguments: [
        ("8:12345", true), ("0:0", true), ("18446744073709551615:1", true),
        ("", false), ("8", false), ("8:", false), (":8", false), ("8:1:2", false),
        ("0x8:1", false), ("+8:1", false), ("8:1 ", false), ("-1:2", false), ("8:١", false),
    ])
    func parsesJournalStream(text: String, valid: Bool) {
        #expect((StandardStream.journalStreamID(text) != nil) == valid)
    }

    /// Each level on the stream it belongs to, with and without the journal.
    @Test("Console: prefixes only on the streams that are the journal's")
    func consoleRendering() {
        let both = Console(colour: false, debugEnabled: true, showsProgress: false,
                           journal: JournalStreams(output: true, error: true))
        #expect(both.rendered("Error: x\n  y\n", .error, toError: true) == "<3>Error: x\n<3>  y\n")
        #expect(both.rendered("Warning: x\n", .warning, toError: true) == "<4>Warning: x\n")
        #expect(both.rendered("Sync successful\n", .notice, toError: false) == "<5>Sync successful\n")
        #expect(both.rendered("x\n", .info, toError: false) == "<6>x\n")
        #expect(both.rendered("x\n", .debug, toError: false) == "<7>x\n")
        let errorOnly = Console(colour: false, debugEnabled: false, showsProgress: false,
                                journal: JournalStreams(output: false, error: true))
        #expect(errorOnly.rendered("x\n", .info, toError: false) == "x\n")
        #expect(errorOnly.rendered("x\n", .error, toError: true) == "<3>x\n")
        let terminal = Console(colour: true, debugEnabled: false, showsProgress: true)
        for level in LogLevel.allCases {
            #expect(terminal.rendered("x\ny\n", level, toError: true) == "x\ny\n")
            #expect(terminal.rendered("x\ny\n", level, toError: false) == "x\ny\n")
        }
    }

    /// The match is by fstat(2): the descriptor's own device and inode, nothing else.
    @Test("a descriptor matches only its own device:inode")
    func descriptorMatch() throws {
        let dir = try TemporaryDirectory()
        let fd = open(dir.path + "/stream", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let st = try FileOps.descriptorStatus(fd)
        #expect(StandardStream.descriptor(fd, isJournalStream: "\(st.device):\(st.inode)"))
        #expect(!StandardStream.descriptor(fd, isJournalStream: "\(st.device):\(st.inode + 1)"))
        #expect(!StandardStream.descriptor(fd, isJournalStream: "\(st.device + 1):\(st.inode)"))
        #expect(!StandardStream.descriptor(fd, isJournalStream: nil))
        #expect(!StandardStream.descriptor(-1, isJournalStream: "\(st.device):\(st.inode)"))
        #expect(JournalStreams.forCurrentProcess(environment: [:]) == .none)
    }

    @Test("the generator's messages carry the error priority on a journal stream")
    func generatorLevels() {
        let log = GeneratorLog(toKernel: false, journal: JournalStreams(output: false, error: true))
        #expect(log.rendered("x") == "<3>asd-generator: x\n")
        #expect(GeneratorLog(toKernel: false).rendered("x", level: .warning) == "asd-generator: x\n")
        #expect(GeneratorLog(toKernel: false, journal: JournalStreams(error: true)).rendered("x", level: .warning)
                == "<4>asd-generator: x\n")
    }
}
