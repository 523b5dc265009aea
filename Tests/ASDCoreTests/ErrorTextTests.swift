import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

@Suite("Error text and CLI words")
struct ErrorTextTests {
    static let sizeCases: [(UInt64, String)] = [
        (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
        (10_240, "10 KiB"), (22_020_096, "21 MiB"), (1_610_612_736, "1.5 GiB"), (10_239, "10 KiB"),
    ]

    @Test("human sizes", arguments: sizeCases)
    func sizes(bytes: UInt64, text: String) {
        #expect(formatBytes(bytes) == text)
    }

    static let quoteCases: [(String, String)] = [
        ("rsync", "rsync"), ("/srv/a b", "'/srv/a b'"), ("it's", "'it'\\''s'"), ("", "''"),
        ("--delete-after", "--delete-after"), ("$HOME", "'$HOME'"),
    ]

    @Test("shell quoting for shown commands", arguments: quoteCases)
    func quoting(word: String, shown: String) {
        #expect(shellQuoted(word) == shown)
    }

    /// Every message names the thing it is about and says what to do next.
    static let messageCases: [(ASDError, [String])] = [
        (ASDError.configMissing(path: "/etc/asd.conf"), ["/etc/asd.conf", "ASDCONF"]),
        (.configSyntax(file: "/etc/asd.conf", line: 7, text: "X=$(id)", reason: "command substitution is not allowed"),
         ["/etc/asd.conf:7", "X=$(id)", "nothing was changed"]),
        (.targetMissing(path: "/srv/http", file: "/etc/asd.conf"), ["/srv/http", "/etc/asd.conf", "Create it"]),
        (.hardLinks(target: "/srv/http", example: "/srv/http/a", count: 2), ["/srv/http/a", "ENABLE_HARDLINK_SAFETY_CHECK=0"]),
        (.volatileNotTmpfs(path: "/var/tmp", fsType: "ext4"), ["/var/tmp", "ext4", "tmpfs"]),
        (.noSpace(volatile: "/tmp", target: "/srv/http", freeBytes: 1024 * 1024, neededBytes: 5 * 1024 * 1024),
         ["/tmp", "/srv/http", "1.0 MiB", "5.0 MiB", "USE_OVERLAYFS"]),
        (.system(operation: "bind-mount /srv/http onto", path: "/srv/.http-backup_asd", errno: .busy),
         ["bind-mount /srv/http onto /srv/.http-backup_asd", "busy"]),
        (.command(argv: ["rsync", "-aAX", "/a b/"], status: "exit status 23", stderr: "rsync: oops\n"),
         ["rsync -aAX '/a b/'", "exit status 23", "rsync: oops"]),
        (.rolledBack(target: "/srv/http", cause: .interrupted(signal: "SIGTERM", during: "sync of /srv/http")),
         ["SIGTERM", "rolled back", "nothing is mounted"]),
        (.writeBackFailed(targets: ["/srv/http"]), ["/srv/http", "stay mounted", "asd resync"]),
        (.notRoot(command: "sync"), ["asd sync", "root"]),
    ]

    @Test("messages name the path and the next step", arguments: messageCases)
    func messages(error: ASDError, fragments: [String]) {
        for fragment in fragments {
            #expect(error.message.contains(fragment), "\(fragment) missing from: \(error.message)")
        }
        #expect(error.message.hasSuffix(".") || error.message.hasSuffix(")") || error.message.contains("\n"))
    }

    @Test("exit codes")
    func exitCodes() {
        #expect(ASDError.usage("x").exitCode == 64)
        #expect(ASDError.configMissing(path: "/x").exitCode == 1)
        #expect(ASDError.notRoot(command: "sync").exitCode == 1)
    }

    static let verbCases: [(String, Command)] = [
        ("sync", Command.sync), ("resync", .resync), ("unsync", .unsync),
        ("p", .parse), ("P", .parse), ("parse", .parse), ("Parse", .parse), ("preview", .parse),
        ("Preview", .parse), ("debug", .parse), ("c", .clean), ("C", .clean), ("clean", .clean), ("Clean", .clean),
    ]

    @Test("upstream's verbs and aliases", arguments: verbCases)
    func verbs(word: String, command: Command) {
        #expect(Command(verb: word) == command)
    }

    @Test("unknown words are not commands", arguments: ["", "Sync", "SYNC", "start", "stop", "-h", "--help", "cl"])
    func unknown(word: String) {
        #expect(Command(verb: word) == nil)
    }
}

@Suite("Write-back errors from a command")
struct CommandDiskErrorTests {
    @Test(arguments: [
        ("rsync: [receiver] write failed on \"/s/t/f\": No space left on device (28)", Errno.noSpace),
        ("rsync: mkstemp \"/s/t/.f.X\" failed: Read-only file system (30)", Errno.readOnlyFileSystem),
        ("rsync: write failed: Disk quota exceeded (122)", Errno.quotaExceeded),
    ])
    func namesTheFileSystemCondition(stderr: String, errno: Errno) {
        #expect(Engine.diskErrno(inCommandError: stderr) == errno)
    }

    @Test func otherFailuresStayCommandErrors() {
        #expect(Engine.diskErrno(inCommandError: "rsync: connection unexpectedly closed") == nil)
        #expect(Engine.diskErrno(inCommandError: "rsync: [sender] write error: Broken pipe (32)", availableBytes: 10 << 20) == nil)
        #expect(Engine.diskErrno(inCommandError: "rsync: link_stat \"/v/t\" failed: No such file", availableBytes: 0) == nil)
    }

    /// rsync's sender may report only the broken pipe left by a receiver that died of
    /// a full disk: with the disk copy (almost) full, that is taken as the cause.
    @Test func aBrokenPipeOnAFullDiskIsAFullDisk() {
        #expect(Engine.diskErrno(inCommandError: "rsync: [sender] write error: Broken pipe (32)", availableBytes: 0) == .noSpace)
        #expect(Engine.diskErrno(inCommandError: "rsync: connection unexpectedly closed (0 bytes)", availableBytes: 4096) == .noSpace)
    }
}
