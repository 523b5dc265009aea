import Testing

/// Names and targets whose bytes are not UTF-8 (`caf\xe9`, Latin-1 as on old
/// disks and Samba shares) round-trip byte for byte through sync, a write while
/// running, resync and unsync, in full and overlay mode (doc/DESIGN.md §8). Bash's
/// `$'\xNN'` quoting makes the names; the manifests compare names as bytes.
@Suite(.privileged) struct NonUTF8Tests {
    /// A tree in `dir` (a bash word) with non-UTF-8 file, directory and link
    /// names, a link target that is not UTF-8, and two names that differ only
    /// in such a byte.
    static func latin1Tree(at dir: String) -> String {
        """
        mkdir -p \(dir) && cd \(dir) && printf e9 >caf$'\\xe9' && printf e8 >caf$'\\xe8' \
        && mkdir -p d$'\\xe9'j$'\\xe0'/sub && printf deep >d$'\\xe9'j$'\\xe0'/sub/n$'\\xf6'.txt \
        && ln -s caf$'\\xe9' link$'\\xff' && ln -s $'\\xfe'dangling dangle && mkfifo f$'\\xe9' \
        && touch -d '2020-01-02 03:04:05.123456789' caf$'\\xe9' && cd /
        """
    }

    /// Changes made while asd runs: new names, a removal, a rename.
    static func latin1Changes(in dir: String) -> String {
        """
        cd \(dir) && printf new >new$'\\xff' && mkdir -p nd$'\\xfe'/x && printf x >nd$'\\xfe'/x/$'\\xe9' \
        && rm caf$'\\xe8' && mv d$'\\xe9'j$'\\xe0' d$'\\xe0'j$'\\xe9' && cd /
        """
    }

    @Test(arguments: [false, true])
    func namesRoundTrip(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target)
        let result = try await Scenario(sandbox)
            .shell(Self.latin1Tree(at: "\"\(target)\""))
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .expectMounted(target)
            .snapshotTree(target, as: "synced")
            .shell(Self.latin1Changes(in: "\"\(target)\""))
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync")
            .snapshotTree(paths.diskCopy, as: "disk-resync")
            .shell("printf later >\"\(target)\"/later$'\\xe9'")
            .snapshotTree(target, as: "before-unsync")
            .asd("unsync", as: "unsync")
            .expectNotMounted(target)
            .expectEmptyDirectory("$VOLATILE")
            .expect("[[ -z \"$(find \"$DATA\" -maxdepth 1 -name '.t-backup_asd*')\" ]]", "leftovers: $(ls -A \"$DATA\")")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync"])
        let initial = try result.tree("initial")
        #expect(initial["caf\\xe9"] != nil && initial["caf\\xe8"] != nil && initial["link\\xff"]?.linkTarget == "caf\\xe9")
        try expectSameTree(initial, result.tree("synced"), .lifecycle, "tmpfs view after sync")
        try expectSameTree(result.tree("changed"), result.tree("disk-resync"), .lifecycle, "disk copy after resync")
        try expectSameTree(result.tree("before-unsync"), result.tree("final"), .lifecycle, "target after unsync")
        #expect(try result.tree("final")["later\\xe9"] != nil)
        for label in ["sync", "resync", "unsync"] {
            #expect(!(try result.command(label).output).contains("\u{FFFD}"), "\(label) printed U+FFFD")
        }
    }

    /// A target whose own path in asd.conf is not UTF-8 (`$DATA/t\xe9`).
    @Test(arguments: [false, true])
    func targetPathRoundTrips(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: [], overlay: overlay)
        // One script runs every step: $T and $D hold the bytes from here on.
        let target = "$T", diskCopy = "$D"
        let result = try await Scenario(sandbox)
            .shell("export T=\"$DATA/t\"$'\\xe9' D=\"$DATA/.t\"$'\\xe9'-backup_asd")
            .shell(Self.latin1Tree(at: "\"$T\""))
            .shell("sed -i \"s|^WHATTOSYNC=.*|WHATTOSYNC=(\\\"$DATA/t\\xe9\\\")|\" \"$ASDCONF\" && grep -q $'t\\xe9' \"$ASDCONF\"")
            .snapshotTree(target, as: "initial")
            .asd("sync", as: "sync")
            .expect("mountpoint -q \"$T\" && mountpoint -q \"$D\"", "target and disk copy not mounted")
            // The config in force is exactly the bytes asd parsed, \xe9 included.
            .expect("cmp -s \"$ASDCONF\" \"$DAEMON_FILE.conf\"", "the config snapshot differs from the config")
            .snapshotTree(target, as: "synced")
            .shell(Self.latin1Changes(in: "\"$T\""))
            .snapshotTree(target, as: "changed")
            .asd("resync", as: "resync")
            .snapshotTree(diskCopy, as: "disk-resync")
            .asd("parse", as: "parse")
            .asd("unsync", as: "unsync")
            .expect("! mountpoint -q \"$T\" && [[ ! -e \"$D\" ]]", "target still mounted or disk copy left")
            .expectEmptyDirectory("$VOLATILE")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "parse", "unsync"])
        try expectSameTree(result.tree("initial"), result.tree("synced"), .lifecycle, "tmpfs view after sync")
        try expectSameTree(result.tree("changed"), result.tree("disk-resync"), .lifecycle, "disk copy after resync")
        try expectSameTree(result.tree("changed"), result.tree("final"), .lifecycle, "target after unsync")
        let parse = try result.command("parse").output
        #expect(parse.contains("t\\xe9") && !parse.contains("\u{FFFD}"), "parse shows the path escaped: \(parse)")
    }

    /// Crash recovery below a parent whose name is not UTF-8: the archive is made
    /// beside the target with the bytes of its name, holds the names as bytes, is
    /// listed by readdir for retention and deleted by `asd clean`.
    @Test func crashArchiveBelowANonUTF8Parent() async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: [])
        let archives = "\"$P\"/.t$'\\xe9'-backup_asd-crashrecovery-*.tar.zstd"
        let result = try await Scenario(sandbox)
            .shell("export P=\"$DATA/p\"$'\\xe9' && export T=\"$P/t\"$'\\xe9'")
            .shell(Self.latin1Tree(at: "\"$T\""))
            .shell("sed -i \"s|^WHATTOSYNC=.*|WHATTOSYNC=(\\\"$DATA/p\\xe9/t\\xe9\\\")|\" \"$ASDCONF\"")
            .asd("sync", as: "sync")
            .reboot()
            .asd("sync", as: "recover")
            .expect("ls \(archives) >/dev/null", "no crash archive: $(ls -A \"$P\")")
            .expect("zstd -dcq \(archives) | tar -t --quoting-style=literal | grep caf$'\\xe9'$ >/dev/null", "the archive lacks caf\\xe9")
            .asd("unsync", as: "unsync")
            .asd("clean", as: "clean")
            .expect("! ls \(archives) >/dev/null 2>&1", "clean left the archive: $(ls -A \"$P\")")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "recover", "unsync", "clean"])
        #expect(try result.command("recover").output.contains("Ungraceful state"))
        let clean = try result.command("clean").output
        #expect(clean.contains("p\\xe9/.t\\xe9-backup_asd-crashrecovery-") && !clean.contains("\u{FFFD}"), "\(clean)")
    }
}
