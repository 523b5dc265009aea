import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

@Suite("Naming")
struct NamingTests {
    // MARK: SHA-256 (FIPS 180-4 test vectors)

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        // 55 and 56 bytes straddle the one-block padding limit.
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
    ])
    func sha256Vectors(message: String, digest: String) {
        #expect(SHA256.hexDigest(Array(message.utf8)) == digest)
    }

    @Test func sha256MillionA() {
        #expect(SHA256.hexDigest(repeatElement(UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256IncrementalMatchesOneShot() {
        let bytes = Array("The quick brown fox jumps over the lazy dog, twice over and again".utf8)
        var hasher = SHA256()
        hasher.update(bytes[0..<7])
        hasher.update(bytes[7...])
        let hex = hasher.finalize().map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        #expect(hex == SHA256.hexDigest(bytes))
    }

    // MARK: Invocation

    /// Expected values from `printf '<path>\n' | sha256sum | cut -b -16`.
    @Test(arguments: [
        ("/etc/asd-test.conf", "asd-7c6bda1609e28195"),
        ("/home/u/my asd.conf", "asd-104eceb031252c9c"),
    ])
    func instanceNameMatchesSha256sum(path: String, name: String) {
        #expect(Invocation.instanceName(forResolvedConfig: FilePath(path)) == name)
    }

    @Test func defaultConfig() {
        let invocation = Invocation(environment: [:], resolve: { _ in Issue.record("must not resolve"); return nil })
        #expect(invocation.configPath == "/etc/asd.conf")
        #expect(invocation.instanceName == "asd")
        #expect(invocation.daemonFile == "/run/asd")
        #expect(invocation.lockPath == "/run/asd-lock")
        #expect(invocation.configSnapshotPath == "/run/asd.conf")
        #expect(!invocation.debug)
    }

    @Test func emptyVariablesMeanDefaults() {
        let invocation = Invocation(environment: ["ASDCONF": "", "DAEMON_FILE": "", "DEBUG": "0"])
        #expect(invocation.configPath == "/etc/asd.conf")
        #expect(invocation.daemonFile == "/run/asd")
        #expect(!invocation.debug)
    }

    @Test func nonDefaultConfigNamesTheInstanceByItsRealPath() {
        let invocation = Invocation(environment: ["ASDCONF": "test.conf", "DEBUG": "1"]) { path in
            path == "test.conf" ? "/etc/asd-test.conf" : nil
        }
        #expect(invocation.configPath == "test.conf")
        #expect(invocation.instanceName == "asd-7c6bda1609e28195")
        #expect(invocation.daemonFile == "/run/asd-7c6bda1609e28195")
        #expect(invocation.lockPath == "/run/asd-7c6bda1609e28195-lock")
        #expect(invocation.configSnapshotPath == "/run/asd-7c6bda1609e28195.conf")
        #expect(invocation.debug)
    }

    @Test func explicitDaemonFileIsKept() {
        let invocation = Invocation(environment: ["ASDCONF": "/etc/asd-test.conf", "DAEMON_FILE": "/run/custom"]) { $0 }
        #expect(invocation.instanceName == "asd-7c6bda1609e28195")
        #expect(invocation.daemonFile == "/run/custom")
        #expect(invocation.lockPath == "/run/asd-7c6bda1609e28195-lock")
        #expect(invocation.configSnapshotPath == "/run/custom.conf")
    }

    @Test func explicitDaemonFileWithDefaultConfig() {
        let invocation = Invocation(environment: ["DAEMON_FILE": "/run/other"])
        #expect(invocation.instanceName == "asd")
        #expect(invocation.daemonFile == "/run/other")
        #expect(invocation.lockPath == "/run/asd-lock")
    }

    // MARK: TargetPaths

    struct PathsCase: Sendable, CustomTestStringConvertible {
        let target: String
        let instance: String
        let diskCopy: String
        let tmpfsCopy: String
        let overlayWork: String
        let parent: String
        var testDescription: String { "\(target) as \(instance)" }
    }

    @Test(arguments: [
        PathsCase(target: "/srv/http", instance: "asd", diskCopy: "/srv/.http-backup_asd",
                  tmpfsCopy: "/tmp/asd-u/srv/http", overlayWork: "/tmp/.asd-u/srv/http", parent: "/srv"),
        PathsCase(target: "/home/u/.cache", instance: "asd", diskCopy: "/home/u/.cache-backup_asd",
                  tmpfsCopy: "/tmp/asd-u/home/u/.cache", overlayWork: "/tmp/.asd-u/home/u/.cache", parent: "/home/u"),
        PathsCase(target: "/foo", instance: "asd", diskCopy: "/.foo-backup_asd",
                  tmpfsCopy: "/tmp/asd-u/foo", overlayWork: "/tmp/.asd-u/foo", parent: ""),
        PathsCase(target: "/srv/http", instance: "asd-7c6bda1609e28195", diskCopy: "/srv/.http-backup_asd",
                  tmpfsCopy: "/tmp/asd-7c6bda1609e28195-u/srv/http", overlayWork: "/tmp/.asd-7c6bda1609e28195-u/srv/http",
                  parent: "/srv"),
    ])
    func targetPaths(_ expected: PathsCase) {
        let paths = TargetPaths(target: FilePath(expected.target), user: "u", volatile: "/tmp", instance: expected.instance)
        #expect(paths.target.text == expected.target)
        #expect(paths.user == "u")
        #expect(paths.diskCopy.text == expected.diskCopy)
        #expect(paths.snapshot.text == expected.diskCopy + "-old")
        #expect(paths.tmpfsCopy.text == expected.tmpfsCopy)
        #expect(paths.overlayUpper.text == expected.tmpfsCopy + "-rw")
        #expect(paths.overlayWork.text == expected.overlayWork)
        // asd's own: `.lower-` before the work dir's top name (which starts with ".asd").
        let workTop = expected.overlayWork.dropFirst("/tmp/.".count)
        #expect(paths.overlayLower.text == "/tmp/.lower-" + workTop)
        #expect(paths.flag.text == expected.tmpfsCopy + "/.flagged")
        #expect(paths.parent.text == expected.parent)
    }

    @Test func archiveNames() {
        let paths = TargetPaths(target: "/srv/http", user: "http", volatile: "/dev/shm", instance: "asd")
        #expect(paths.archivePrefix == ".http-backup_asd-crashrecovery-")
        #expect(paths.archive(stamp: "20240131_235959") == "/srv/.http-backup_asd-crashrecovery-20240131_235959.tar.zstd")
        let dotted = TargetPaths(target: "/home/u/.cache", user: "u", volatile: "/tmp", instance: "asd")
        #expect(dotted.archivePrefix == ".cache-backup_asd-crashrecovery-")
        #expect(dotted.archive(stamp: "20240101_000000") == "/home/u/.cache-backup_asd-crashrecovery-20240101_000000.tar.zstd")
        let top = TargetPaths(target: "/foo", user: "root", volatile: "/tmp", instance: "asd")
        #expect(top.archive(stamp: "20240101_000000") == "/.foo-backup_asd-crashrecovery-20240101_000000.tar.zstd")
    }
}
