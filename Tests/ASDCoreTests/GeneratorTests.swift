import Foundation
import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import ASDTestSupport

@Suite("asd-generator")
struct GeneratorTests {
    @Test("the drop-in orders asd.service after every target and VOLATILE")
    func dropInText() {
        let text = GeneratorCommand.dropIn(paths: ["/srv/http", "/home/alice/.cache", "/tmp"], sources: ["/etc/asd.conf"])
        #expect(text == """
            # Written by asd-generator from /etc/asd.conf; do not edit.
            # asd's final write-back must run before these file systems are unmounted.
            [Unit]
            RequiresMountsFor=/srv/http
            RequiresMountsFor=/home/alice/.cache
            RequiresMountsFor=/tmp

            """)
    }

    @Test("paths are spelled as unit files read them", arguments: [
        ("/srv/my data", "\"/srv/my data\""),
        ("/srv/100%", "/srv/100%%"),
        ("/srv/a\"b", "\"/srv/a\\\"b\""),
        ("/srv/back\\slash", "\"/srv/back\\\\slash\""),
        ("/srv/café", "/srv/café"),
        ("/srv/", "/srv"),
    ])
    func unitFileWords(path: String, word: String) {
        #expect(GeneratorCommand.unitFileWord(forNearest: FilePath(path)) == word)
    }

    @Test("a path a unit file cannot spell gives its nearest spellable ancestor")
    func unspellablePaths() {
        let notUTF8 = FilePath(bytes: Array("/srv/caf".utf8) + [0xE9] + Array("/x".utf8))
        #expect(GeneratorCommand.unitFileWord(forNearest: notUTF8) == "/srv")
        #expect(GeneratorCommand.unitFileWord(forNearest: FilePath("/srv/a\nb")) == "/srv")
        #expect(GeneratorCommand.unitFileWord(forNearest: FilePath("/a\u{7F}")) == "/")
        let text = GeneratorCommand.dropIn(paths: ["/srv/x\ny", "/srv"], sources: ["/etc/asd.conf"])
        #expect(text.components(separatedBy: "\n").filter { $0.hasPrefix("RequiresMountsFor=") } == ["RequiresMountsFor=/srv"])
    }

    @Test("generator mode is chosen by argv[0]'s last component", arguments: [
        ("asd-generator", true), ("/usr/lib/systemd/system-generators/asd-generator", true),
        ("/usr/bin/asd", false), ("asd", false), ("/x/asd-generator2", false),
    ])
    func invokedAs(argv0: String, expected: Bool) {
        #expect(GeneratorCommand.isInvoked(as: argv0) == expected)
    }

    @Test("writes the drop-in from the config; exit status 0")
    func writesDropIn() throws {
        let dir = try TemporaryDirectory()
        try dir.write("asd.conf", "WHATTOSYNC=('/srv/http' \"/var/lib/$NAME\")\nVOLATILE=/dev/shm/\n")
        let status = GeneratorCommand.run(arguments: [dir.path + "/out", dir.path + "/early", dir.path + "/late"],
                                          environment: dir.environment(["NAME": "monitorix"]))
        #expect(status == 0)
        let written = try String(contentsOfFile: dir.path + "/out/asd.service.d/asd-mounts.conf", encoding: .utf8)
        #expect(written == GeneratorCommand.dropIn(paths: ["/srv/http", "/var/lib/monitorix", "/dev/shm"],
                                                    sources: [FilePath(dir.path + "/asd.conf")]))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/early"))
    }

    @Test("RESYNC_DELAY set: the drop-in also pulls in asd-watch.service; unset or 0: it does not", arguments: [
        ("RESYNC_DELAY=30", true), ("RESYNC_DELAY=0", false), ("", false),
    ])
    func pullsInTheWatcher(line: String, wanted: Bool) throws {
        let dir = try TemporaryDirectory()
        try dir.write("asd.conf", "WHATTOSYNC=('/srv/http')\n\(line)\n")
        _ = GeneratorCommand.run(arguments: [dir.path + "/out"], environment: dir.environment([:]))
        let written = try String(contentsOfFile: dir.path + "/out/asd.service.d/asd-mounts.conf", encoding: .utf8)
        #expect(written.contains("\nWants=asd-watch.service\n") == wanted, "\(written)")
        #expect(written.contains("RequiresMountsFor=/srv/http"))
    }

    @Test("a broken, empty or missing config writes nothing and exits 0", arguments: [
        "WHATTOSYNC=($(touch /tmp/asd-generator-ran))\n", "WHATTOSYNC=()\n", "WHATTOSYNC=('relative')\n", nil,
    ])
    func writesNothing(config: String?) throws {
        let dir = try TemporaryDirectory()
        if let config { try dir.write("asd.conf", config) }
        let status = GeneratorCommand.run(arguments: [dir.path + "/out"], environment: dir.environment())
        #expect(status == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out/asd.service.d"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/asd-generator-ran"))
    }

    @Test("while asd runs, the snapshot in force is ordered too, even when the live file is broken")
    func snapshotInForce() throws {
        let dir = try TemporaryDirectory()
        try dir.write("asd.conf", "WHATTOSYNC=('/srv/new' `id`)\n")
        try dir.write("daemon.conf", "WHATTOSYNC=('/srv/old')\nVOLATILE=/run/asd-volatile\n")
        let plan = GeneratorCommand.mountPaths(invocation: Invocation(environment: dir.environment()),
                                               environment: dir.environment(), log: GeneratorLog(toKernel: false))
        #expect(plan.paths == ["/srv/old", "/run/asd-volatile"])
        #expect(plan.sources == [FilePath(dir.path + "/daemon.conf")])
        try dir.write("asd.conf", "WHATTOSYNC=('/srv/new' '/srv/old')\n")
        let both = GeneratorCommand.mountPaths(invocation: Invocation(environment: dir.environment()),
                                               environment: dir.environment(), log: GeneratorLog(toKernel: false))
        #expect(both.paths == ["/srv/old", "/run/asd-volatile", "/srv/new", "/tmp"])
    }

    @Test("only the kernel's kmsg device counts as the kernel log (a container links it to /dev/null)")
    func kernelLogDevice() throws {
        #expect(!KernelLog.write("asd test", device: "/dev/null"))
        let dir = try TemporaryDirectory()
        try dir.write("kmsg", "")
        #expect(!KernelLog.write("asd test", device: dir.path + "/kmsg"))
        #expect(!KernelLog.write("asd test", device: dir.path + "/missing"))
    }

    @Test("without an output directory it writes nothing and exits 0")
    func noOutputDirectory() {
        #expect(GeneratorCommand.run(arguments: [], environment: [:]) == 0)
        #expect(GeneratorCommand.run(arguments: ["relative"], environment: [:]) == 0)
    }
}

/// A temp dir with ASDCONF and DAEMON_FILE inside it.
extension TemporaryDirectory {
    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        extra.merging(["ASDCONF": path + "/asd.conf", "DAEMON_FILE": path + "/daemon"]) { $1 }
    }
}
