@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem
import Foundation
import Testing

/// doc/DESIGN.md §7, one deterministic test per rule (the races are `RaceAttackTests`, the parser
/// `ConfigFuzzTests`). The target belongs to an unprivileged uid without an account
/// (`setpriv` runs its processes), so asd names it by number.
@Suite(.privileged) struct SecurityTests {
    static let owner = 47_021
    static let stranger = 47_022

    /// What another user can plant under VOLATILE before asd starts.
    enum Plant: String, CaseIterable, CustomTestStringConvertible {
        case symlinkToDirectory, strangersDirectory, worldWritableDirectory, regularFile
        case deeperSymlink, overlayWorkSymlink
        var testDescription: String { rawValue }
    }

    /// Item 1: every planted name is refused with its path, its owner and "remove it";
    /// nothing is followed (the decoy stays empty), the target stays on disk.
    @Test(arguments: Plant.allCases)
    func plantedVolatileDirectoryIsRefused(_ plant: Plant) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: plant == .overlayWorkSymlink)
        let user = String(Self.owner)
        let top = sandbox.volatile + "/" + sandbox.instance + "-" + user
        let planted: String
        let command: String
        switch plant {
        case .symlinkToDirectory:
            planted = top
            command = "ln -s \"$SANDBOX/decoy\" \"\(top)\""
        case .strangersDirectory:
            planted = top
            command = "mkdir \"\(top)\" && chown \(Self.stranger) \"\(top)\" && chmod 0700 \"\(top)\""
        case .worldWritableDirectory:
            planted = top
            command = "mkdir \"\(top)\" && chmod 0777 \"\(top)\""
        case .regularFile:
            planted = top
            command = "touch \"\(top)\""
        case .deeperSymlink:
            planted = top + "/tmp"
            command = "mkdir -m 0700 \"\(top)\" && ln -s \"$SANDBOX/decoy\" \"\(planted)\""
        case .overlayWorkSymlink:
            planted = sandbox.volatile + "/." + sandbox.instance + "-" + user
            command = "ln -s \"$SANDBOX/decoy\" \"\(planted)\""
        }
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("chown -R \(Self.owner):\(Self.owner) \"\(sandbox.data)/t\"; chmod 1777 \"$VOLATILE\"; mkdir -m 0755 \"$SANDBOX/decoy\"")
            .shell(command)
            .asd("sync", as: "sync")
            .expectNotMounted(target)
            .expectEmptyDirectory("$SANDBOX/decoy")
            .run()
        result.expectNoFailures()
        let sync = try result.command("sync")
        #expect(sync.status == 1, "\(sync.output)")
        #expect(sync.output.contains("Refusing to use \(planted) (owner "), "\(sync.output)")
        #expect(sync.output.contains("remove it"), "\(sync.output)")
        if plant == .strangersDirectory { #expect(sync.output.contains("(owner \(Self.stranger))")) }
    }

    /// Item 2: asd's directories under VOLATILE are root's, 0700; the tmpfs copy (and the
    /// overlay upper) keep the target's owner and mode; the owner works through the target
    /// as before, and a file that the owner's 0700 home protects is not readable by anyone
    /// else through VOLATILE.
    @Test(arguments: [false, true])
    func volatileDirectoriesAreRootOnly(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/home/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let paths = sandbox.paths(target, user: String(Self.owner))
        let asOwner = "setpriv --reuid=\(Self.owner) --regid=\(Self.owner) --clear-groups --"
        let asStranger = "setpriv --reuid=\(Self.stranger) --regid=\(Self.stranger) --clear-groups --"
        // Every directory from VOLATILE's child down to the copy's parent.
        let relative = String(paths.tmpfsCopy.dropFirst(sandbox.volatile.count + 1))
        var chain: [String] = []
        var walked = sandbox.volatile
        for component in relative.split(separator: "/").dropLast() {
            walked += "/" + component
            chain.append(walked)
        }
        var scenario = Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("printf 'private' >\"$DATA/home/t/private\"; chmod 0644 \"$DATA/home/t/private\"")
            .shell("chown -R \(Self.owner):\(Self.owner) \"$DATA/home\"; chmod 0700 \"$DATA/home\"; chmod 0751 \"$DATA/home/t\"")
            .asd("sync", as: "sync")
        for dir in chain {
            scenario = scenario.expect("[[ \"$(stat -c '%u %a' \"\(dir)\")\" == '0 700' ]]", "\(dir) is $(stat -c '%U %a' \"\(dir)\")")
        }
        let leaves = overlay ? [paths.tmpfsCopy, paths.overlayUpper] : [paths.tmpfsCopy]
        for leaf in leaves {
            scenario = scenario.expect(
                "[[ \"$(stat -c '%u %a' \"\(leaf)\")\" == '\(Self.owner) 751' ]]", "\(leaf) is $(stat -c '%u %a' \"\(leaf)\")")
        }
        let result = try await scenario
            .expect("\(asOwner) cat \"$DATA/home/t/private\" | grep -q private", "the owner cannot read through the target")
            .expect("\(asOwner) touch \"$DATA/home/t/new\"", "the owner cannot write through the target")
            .expect("! \(asStranger) cat \"\(paths.tmpfsCopy)/private\" 2>/dev/null", "another user reads the copy through VOLATILE")
            .expect("! \(asStranger) ls \"\(chain.first ?? "")\" >/dev/null 2>&1", "another user lists asd's directory")
            .asd("unsync", as: "unsync")
            .expectExists("$DATA/home/t/new")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"])
    }

    /// Item 3: the crash archive is root's, 0600; names planted at the archive names are
    /// neither followed nor deleted by `clean`; tar keeps a symlink to a root-only file
    /// as a link; the README's restore command brings the tree back with owners and modes.
    @Test func crashArchiveIsRootOnlyAndRestores() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/home/t"
        try sandbox.writeConfig(targets: [target], extra: "BACKUP_LIMIT=20")
        let paths = sandbox.paths(target, user: String(Self.owner))
        let prefix = paths.parent + "/" + paths.archivePrefix
        let plantNames = (0..<4).map { "$(date -d @$((now + \($0))) +%Y%m%d_%H%M%S).tar.zstd" }
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("""
                mkdir -m 0700 "$SANDBOX/decoy"; printf 'root secret' >"$SANDBOX/decoy/secret"; chmod 0600 "$SANDBOX/decoy/secret"
                ln -s "$SANDBOX/decoy/secret" "$DATA/home/t/link"
                printf 'mine' >"$DATA/home/t/mine"; chmod 0640 "$DATA/home/t/mine"
                chown -R \(Self.owner):\(Self.owner) "$DATA/home"; chmod 0755 "$DATA/home"
                """)
            .snapshotTree(target, as: "synced")
            .asd("sync", as: "sync")
            .reboot()
            .shell("now=$(date +%s); for n in \(plantNames.joined(separator: " ")); do ln -s \"$SANDBOX/decoy/secret\" \"\(prefix)$n\"; done")
            .asd("sync", as: "recover")
            .capture("shopt -s nullglob; for a in \"\(prefix)\"*; do [[ -L $a ]] || stat -c '%u %a %F' \"$a\"; done", as: "archives")
            .shell("""
                shopt -s nullglob
                archive=$(for a in "\(prefix)"*; do [[ -L $a ]] || echo "$a"; done)
                mkdir "$SANDBOX/restore"
                zstd -dc "$archive" | tar -xp --xattrs --xattrs-include='*' --acls --numeric-owner -C "$SANDBOX/restore"
                ! zstd -dc "$archive" | grep -a 'root secret' >/dev/null
                """)
            .snapshotTree("$SANDBOX/restore/\(String(paths.snapshot.split(separator: "/").last!))", as: "restored")
            .asd("unsync", as: "unsync")
            .asd("clean", as: "clean")
            .capture("shopt -s nullglob; for a in \"\(prefix)\"*; do stat -c '%F' \"$a\"; done", as: "after-clean")
            .expect("[[ \"$(cat \"$SANDBOX/decoy/secret\")\" == 'root secret' ]]", "the decoy changed")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "recover", "unsync", "clean"])
        let archives = try result.command("archives").stdout.split(separator: "\n")
        #expect(archives == ["0 600 regular file"], "\(archives)")
        // Only the planted symlinks are left: clean deletes archives, never what others put there.
        let left = try result.command("after-clean").stdout.split(separator: "\n")
        #expect(left.count == 4 && left.allSatisfy { $0 == "symbolic link" }, "\(left)")
        try expectSameTree(result.tree("synced"), result.tree("restored"), .strict, "restored archive vs sync-time tree")
    }

    /// After a crash the disk copy is an empty directory of the target's owner, who can
    /// replace it by a symlink to any mount point (`/` in a real attack): recovery must not
    /// unmount what the link points at.
    @Test func plantedDiskCopySymlinkNeverLeadsToAnUnmount() async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/home/t"
        try sandbox.writeConfig(targets: [target])
        let paths = sandbox.paths(target, user: String(Self.owner))
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("chown -R \(Self.owner):\(Self.owner) \"$DATA/home\"")
            .asd("sync", as: "sync")
            .reboot()
            .shell("""
                mkdir "$SANDBOX/victim" && mount -t tmpfs asd-itest-victim "$SANDBOX/victim" && echo keep >"$SANDBOX/victim/file"
                setpriv --reuid=\(Self.owner) --regid=\(Self.owner) --clear-groups -- \\
                    sh -c 'rmdir "$1" && ln -s "$2" "$1"' sh "\(paths.diskCopy)" "$SANDBOX/victim"
                """)
            .asd("sync", as: "recover")
            .expectMounted("$SANDBOX/victim", fstype: "tmpfs")
            .expect("[[ \"$(cat \"$SANDBOX/victim/file\")\" == keep ]]", "the victim mount lost its file")
            .shell("umount \"$SANDBOX/victim\"")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync"])
    }
}
