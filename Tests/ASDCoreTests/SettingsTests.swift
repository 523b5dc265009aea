import Foundation
import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// A config text and the settings (or error) it must give.
struct SettingsConfigCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let expected: Result<Settings, ASDError>
    var testDescription: String { name }
}

private let file: FilePath = "/etc/asd.conf"
private let targets = "WHATTOSYNC=('/srv/http')\n"

private func settings(
    _ whatToSync: [FilePath] = ["/srv/http"], volatile: FilePath = "/tmp", useOverlay: Bool = false,
    useBackups: Bool = true, backupLimit: Int = 5, hardlinkSafetyCheck: Bool = true, useRsync: Bool = false,
    rsyncOnEveryTree: Bool = false
) -> Result<Settings, ASDError> {
    .success(Settings(whatToSync: whatToSync, volatile: volatile, useOverlay: useOverlay, useBackups: useBackups,
                      backupLimit: backupLimit, hardlinkSafetyCheck: hardlinkSafetyCheck, useRsync: useRsync,
                      rsyncOnEveryTree: rsyncOnEveryTree, sourceFile: file))
}

private func failure(_ error: ASDError) -> Result<Settings, ASDError> { .failure(error) }

@Suite("Settings")
struct SettingsTests {
    static let cases: [SettingsConfigCase] = [
        // Defaults; unknown variables are ignored.
        SettingsConfigCase(name: "defaults", text: targets + "OTHER=1", expected: settings()),
        // WHATTOSYNC
        SettingsConfigCase(name: "unset targets", text: "", expected: failure(.noTargets(file: file))),
        SettingsConfigCase(name: "empty array", text: "WHATTOSYNC=()", expected: failure(.noTargets(file: file))),
        SettingsConfigCase(name: "empty string", text: "WHATTOSYNC=", expected: failure(.noTargets(file: file))),
        SettingsConfigCase(name: "a string counts as one target", text: "WHATTOSYNC=/srv/http", expected: settings()),
        SettingsConfigCase(name: "trailing slashes dropped", text: "WHATTOSYNC=('/srv/http///' /var/lib/x/)",
                     expected: settings(["/srv/http", "/var/lib/x"])),
        SettingsConfigCase(name: "order kept", text: "WHATTOSYNC=(/b /a)\nWHATTOSYNC+=(/c)", expected: settings(["/b", "/a", "/c"])),
        SettingsConfigCase(name: "root refused", text: "WHATTOSYNC=('/')",
                     expected: failure(.configValue(file: file, key: "WHATTOSYNC", value: "/", reason: "an empty path or / cannot be a sync target"))),
        SettingsConfigCase(name: "empty entry refused", text: "WHATTOSYNC=('/a' '')",
                     expected: failure(.configValue(file: file, key: "WHATTOSYNC", value: "''", reason: "an empty path or / cannot be a sync target"))),
        SettingsConfigCase(name: "relative refused", text: "WHATTOSYNC=('srv/http')",
                     expected: failure(.targetNotAbsolute(path: "srv/http", file: file))),
        SettingsConfigCase(name: "dot-dot refused", text: "WHATTOSYNC=('/srv/../etc')",
                     expected: failure(.configValue(file: file, key: "WHATTOSYNC", value: "/srv/../etc", reason: "write the path without '.', '..' or '//' components"))),
        SettingsConfigCase(name: "double slash refused", text: "WHATTOSYNC=('/srv//http')",
                     expected: failure(.configValue(file: file, key: "WHATTOSYNC", value: "/srv//http", reason: "write the path without '.', '..' or '//' components"))),
        SettingsConfigCase(name: "duplicate refused", text: "WHATTOSYNC=('/srv/http' '/srv/http/')",
                     expected: failure(.duplicateTarget(path: "/srv/http", file: file))),
        SettingsConfigCase(name: "nested refused", text: "WHATTOSYNC=('/srv' '/srv/http')",
                     expected: failure(.nestedTargets(outer: "/srv", inner: "/srv/http", file: file))),
        SettingsConfigCase(name: "nested refused in either order", text: "WHATTOSYNC=('/srv/http' '/srv')",
                     expected: failure(.nestedTargets(outer: "/srv", inner: "/srv/http", file: file))),
        SettingsConfigCase(name: "shared prefix is not nesting", text: "WHATTOSYNC=('/srv/http' '/srv/http2')",
                     expected: settings(["/srv/http", "/srv/http2"])),
        // VOLATILE
        SettingsConfigCase(name: "volatile set", text: targets + "VOLATILE=/dev/shm/", expected: settings(volatile: "/dev/shm")),
        SettingsConfigCase(name: "volatile empty", text: targets + "VOLATILE=", expected: settings()),
        SettingsConfigCase(name: "volatile slash only", text: targets + "VOLATILE=//", expected: settings()),
        SettingsConfigCase(name: "volatile relative", text: targets + "VOLATILE=tmp",
                     expected: failure(.configValue(file: file, key: "VOLATILE", value: "tmp", reason: "it must be an absolute path"))),
        // USE_RSYNC: the same words, default off
        SettingsConfigCase(name: "rsync yes", text: targets + "USE_RSYNC=\"yes\"", expected: settings(useRsync: true)),
        SettingsConfigCase(name: "rsync ENABLED", text: targets + "USE_RSYNC=ENABLED", expected: settings(useRsync: true)),
        SettingsConfigCase(name: "rsync use", text: targets + "USE_RSYNC=use", expected: settings(useRsync: true)),
        SettingsConfigCase(name: "rsync 1", text: targets + "USE_RSYNC=1", expected: settings(useRsync: true)),
        SettingsConfigCase(name: "rsync always", text: targets + "USE_RSYNC=Always",
                     expected: settings(useRsync: true, rsyncOnEveryTree: true)),
        SettingsConfigCase(name: "rsync no", text: targets + "USE_RSYNC=no", expected: settings()),
        SettingsConfigCase(name: "rsync empty", text: targets + "USE_RSYNC=", expected: settings()),
        SettingsConfigCase(name: "rsync other word", text: targets + "USE_RSYNC=rsync", expected: settings()),
        // USE_OVERLAYFS and USE_BACKUPS
        SettingsConfigCase(name: "overlay yes", text: targets + "USE_OVERLAYFS=Yes", expected: settings(useOverlay: true)),
        SettingsConfigCase(name: "overlay no", text: targets + "USE_OVERLAYFS=no", expected: settings()),
        SettingsConfigCase(name: "overlay empty", text: targets + "USE_OVERLAYFS=", expected: settings()),
        SettingsConfigCase(name: "backups off", text: targets + "USE_BACKUPS=off", expected: settings(useBackups: false)),
        SettingsConfigCase(name: "backups unknown word is off", text: targets + "USE_BACKUPS=maybe", expected: settings(useBackups: false)),
        SettingsConfigCase(name: "backups empty is on", text: targets + "USE_BACKUPS=''", expected: settings()),
        // BACKUP_LIMIT
        SettingsConfigCase(name: "backup limit", text: targets + "BACKUP_LIMIT=0", expected: settings(backupLimit: 0)),
        SettingsConfigCase(name: "backup limit quoted", text: targets + "BACKUP_LIMIT=\"12\"", expected: settings(backupLimit: 12)),
        SettingsConfigCase(name: "backup limit empty", text: targets + "BACKUP_LIMIT=", expected: settings()),
        SettingsConfigCase(name: "backup limit word", text: targets + "BACKUP_LIMIT=abc",
                     expected: failure(.configValue(file: file, key: "BACKUP_LIMIT", value: "abc", reason: "it must be a whole number of archives, 0 or more"))),
        SettingsConfigCase(name: "backup limit negative", text: targets + "BACKUP_LIMIT=-1",
                     expected: failure(.configValue(file: file, key: "BACKUP_LIMIT", value: "-1", reason: "it must be a whole number of archives, 0 or more"))),
        SettingsConfigCase(name: "backup limit with space", text: targets + "BACKUP_LIMIT=' 5'",
                     expected: failure(.configValue(file: file, key: "BACKUP_LIMIT", value: "' 5'", reason: "it must be a whole number of archives, 0 or more"))),
        // ENABLE_HARDLINK_SAFETY_CHECK
        SettingsConfigCase(name: "hardlink check off", text: targets + "ENABLE_HARDLINK_SAFETY_CHECK=0", expected: settings(hardlinkSafetyCheck: false)),
        SettingsConfigCase(name: "hardlink check 00 off", text: targets + "ENABLE_HARDLINK_SAFETY_CHECK=00", expected: settings(hardlinkSafetyCheck: false)),
        SettingsConfigCase(name: "hardlink check on", text: targets + "ENABLE_HARDLINK_SAFETY_CHECK=1", expected: settings()),
        SettingsConfigCase(name: "hardlink check other integer", text: targets + "ENABLE_HARDLINK_SAFETY_CHECK=-2", expected: settings()),
        SettingsConfigCase(name: "hardlink check empty", text: targets + "ENABLE_HARDLINK_SAFETY_CHECK=", expected: settings()),
        SettingsConfigCase(name: "hardlink check word", text: targets + "ENABLE_HARDLINK_SAFETY_CHECK=no",
                     expected: failure(.configValue(file: file, key: "ENABLE_HARDLINK_SAFETY_CHECK", value: "no", reason: "it must be 0 (off) or 1 (on)"))),
        // Arrays where strings are expected give their first element, as `$NAME` does.
        SettingsConfigCase(name: "array volatile", text: targets + "VOLATILE=(/run/shm /x)", expected: settings(volatile: "/run/shm")),
    ]

    @Test(arguments: cases)
    func settingsFromConfig(_ testCase: SettingsConfigCase) throws {
        let values = try ConfigFile.parse(testCase.text, file: file, environment: [:])
        let result = Result { () throws(ASDError) in try Settings.from(values, file: file) }
        #expect(result == testCase.expected)
    }

    @Test(arguments: [
        ("y", true), ("YES", true), ("True", true), ("t", true), ("On", true), ("1", true),
        ("enabled", true), ("ENABLE", true), ("use", true),
        ("n", false), ("no", false), ("0", false), ("false", false), ("yes please", false), ("", false),
    ])
    func affirmativeWords(word: String, expected: Bool) {
        #expect(Settings.isAffirmative(FilePath(word)) == expected)
    }

    @Test func fromValuesBuiltInCode() throws {
        let values = ConfigValues(["WHATTOSYNC": .array(["/a/", "/b"]), "BACKUP_LIMIT": .scalar("2")])
        #expect(values.order == ["WHATTOSYNC", "BACKUP_LIMIT"])
        #expect(try Settings.from(values, file: file) == Settings(whatToSync: ["/a", "/b"], backupLimit: 2, sourceFile: file))
    }

    @Test func emptyIsOnlyAffirmativeWhenAsked() {
        #expect(Settings.isAffirmative("", whenEmpty: true))
        #expect(!Settings.isAffirmative("nope", whenEmpty: true))
    }

    @Test func loadReadsAFile() throws {
        let dir = try ConfigTestDirectory()
        defer { dir.remove() }
        let path = dir.path + "/asd.conf"
        try "WHATTOSYNC=(\"$BASE/http\")\nUSE_OVERLAYFS=yes\n".write(toFile: path, atomically: false, encoding: .utf8)
        let loaded = try Settings.load(path: path, environment: ["BASE": "/srv"])
        let bytes = Array("WHATTOSYNC=(\"$BASE/http\")\nUSE_OVERLAYFS=yes\n".utf8)
        #expect(loaded == Settings(whatToSync: ["/srv/http"], useOverlay: true, sourceFile: FilePath(path), sourceBytes: bytes))
    }

    @Test func loadMissingFile() throws {
        let dir = try ConfigTestDirectory()
        defer { dir.remove() }
        let path = dir.path + "/absent.conf"
        #expect(throws: ASDError.configMissing(path: FilePath(path))) { try Settings.load(path: path, environment: [:]) }
    }

    @Test func loadDirectoryIsUnreadable() throws {
        let dir = try ConfigTestDirectory()
        defer { dir.remove() }
        #expect(throws: ASDError.configUnreadable(path: FilePath(dir.path), reason: Errno(rawValue: EISDIR))) {
            try Settings.load(path: dir.path, environment: [:])
        }
    }
}

/// A fresh directory under the system temp dir, removed by `remove()`.
struct ConfigTestDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("asd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        path = url.path
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
