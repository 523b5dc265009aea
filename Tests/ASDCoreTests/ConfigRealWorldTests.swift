import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// Configs as people save them (doc/DESIGN.md §2): CRLF and a UTF-8 BOM are read
/// as bash on Linux would want them; unknown keys and odd booleans are warnings
/// naming the line.
@Suite("Config as saved")
struct ConfigRealWorldTests {
    @Test(arguments: [
        ("\u{FEFF}X=1\n", "X=1\n"),
        ("X=1\r\nY=2\r\n", "X=1\nY=2\n"),
        ("\u{FEFF}X=(\r\n a\r\n)\r\n", "X=(\n a\n)\n"),
        ("X='a\rb'\n", "X='a\rb'\n"),
        ("X=1\r", "X=1\r"),
        ("", ""),
    ])
    func normalized(text: String, expected: String) {
        #expect(ConfigText.normalized(Array(text.utf8)) == Array(expected.utf8))
    }

    @Test func crlfAndBomParseLikeTheUnixFile() throws {
        let unix = "WHATTOSYNC=(\n  '/srv/http'  # web\n)\nUSE_OVERLAYFS=yes\n"
        let dos = "\u{FEFF}" + unix.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try ConfigFile.parse(dos, file: "f", environment: [:]) == ConfigFile.parse(unix, file: "f", environment: [:]))
    }

    @Test func aLoneCarriageReturnIsStillNamed() {
        #expect(throws: ASDError.self) { try ConfigFile.parse("X=(a)\rY=1\n", file: "f", environment: [:]) }
    }

    @Test func warningsNameFileAndLine() throws {
        let text = "BASE=/srv\nWHATTOSYNC=(\"$BASE/http\")\n# comment\nUSE_OVERLAY=yes\nUSE_BACKUPS=maybe\nUSE_OVERLAYFS=No\nMYVAR=1\n"
        let values = try ConfigFile.parse(text, file: "/etc/asd.conf", environment: [:])
        let warnings = Settings.warnings(for: values, file: "/etc/asd.conf")
        #expect(warnings.count == 3, "\(warnings)")
        #expect(warnings[0].hasPrefix("/etc/asd.conf:4: USE_OVERLAY ") && warnings[0].contains("did you mean USE_OVERLAYFS?"))
        #expect(warnings[1].hasPrefix("/etc/asd.conf:5: USE_BACKUPS=maybe"))
        #expect(warnings[2].hasPrefix("/etc/asd.conf:7: MYVAR ") && !warnings[2].contains("did you mean"))
    }

    @Test func knownKeysAndWordsGiveNoWarning() throws {
        let text = "WHATTOSYNC=(/a)\nVOLATILE=/tmp\nUSE_OVERLAYFS=Enabled\nUSE_BACKUPS=off\nBACKUP_LIMIT=3\nENABLE_HARDLINK_SAFETY_CHECK=0\n"
        let values = try ConfigFile.parse(text, file: "f", environment: [:])
        #expect(Settings.warnings(for: values, file: "f").isEmpty)
    }

    @Test func alwaysIsAWordOfUseRsyncOnly() throws {
        let values = try ConfigFile.parse("WHATTOSYNC=(/a)\nUSE_RSYNC=always\nUSE_BACKUPS=always\n", file: "f", environment: [:])
        let warnings = Settings.warnings(for: values, file: "f")
        #expect(warnings.count == 1 && warnings[0].hasPrefix("f:3: USE_BACKUPS=always"), "\(warnings)")
    }
}
