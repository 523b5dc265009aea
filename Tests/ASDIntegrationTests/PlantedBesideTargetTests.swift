import Foundation
import Testing

/// doc/DESIGN.md §7: the target's owner can create anything in the target's parent, including
/// at the names asd uses there (the disk copy `.t-backup_asd`, the snapshot
/// `.t-backup_asd-old`). A symlink or a file planted there is refused by name, with its
/// owner and what to do; it is never followed (a root-only decoy stays as it was, no
/// crash archive is made of it), nothing is mounted, the target stays on disk as it was,
/// and once the planted name is moved away asd works again and loses nothing.
@Suite(.privileged) struct PlantedBesideTargetTests {
    static let owner = 47_041

    enum Plant: String, CaseIterable, CustomTestStringConvertible {
        /// A symlink to the decoy directory at the disk-copy name, before sync.
        case diskCopySymlink
        /// A regular file at the snapshot name, before an overlay sync (which needs one).
        case snapshotFileOverlay
        /// After a crash (reboot) the owner deletes the snapshot and puts a symlink to
        /// the decoy in its place: recovery must not archive (read) the decoy.
        case snapshotSymlinkAfterCrash
        var testDescription: String { rawValue }
    }

    @Test(arguments: Plant.allCases)
    func plantedNameIsRefused(_ plant: Plant) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/home/t"
        try sandbox.writeConfig(targets: [target], overlay: plant == .snapshotFileOverlay)
        let paths = sandbox.paths(target, user: String(Self.owner))
        let asOwner = "setpriv --reuid=\(Self.owner) --regid=\(Self.owner) --clear-groups --"
        let planted = plant == .diskCopySymlink ? paths.diskCopy : paths.snapshot
        var scenario = Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .shell("""
                chown -R \(Self.owner):\(Self.owner) "$DATA/home"; chmod 0755 "$DATA/home"
                mkdir -m 0700 "$SANDBOX/decoy"; printf 'root secret' >"$SANDBOX/decoy/secret"; chmod 0600 "$SANDBOX/decoy/secret"
                """)
            .snapshotTree(target, as: "initial")
            .snapshotTree("$SANDBOX/decoy", as: "decoy-before")
        switch plant {
        case .diskCopySymlink:
            scenario = scenario.shell("\(asOwner) ln -s \"$SANDBOX/decoy\" \"\(planted)\"")
        case .snapshotFileOverlay:
            scenario = scenario.shell("\(asOwner) touch \"\(planted)\"")
        case .snapshotSymlinkAfterCrash:
            scenario = scenario
                .asd("sync", as: "first-sync")
                .reboot()
                .shell("\(asOwner) sh -c 'rm -rf \"$1\" && ln -s \"$2\" \"$1\"' sh \"\(planted)\" \"$SANDBOX/decoy\"")
        }
        let result = try await scenario
            .asd("sync", as: "refused")
            .expectNotMounted(target)
            .expect("! findmnt -rn -o TARGET | grep -F -e \"$VOLATILE/\" -e \"$DATA/\" -e \"$SANDBOX/decoy\"", "mounts left: $(findmnt -rn -o TARGET | grep -F $SANDBOX/)")
            .expect("[[ -L \"\(planted)\" || -f \"\(planted)\" ]]", "the planted name was removed or replaced")
            .capture("ls -A \"$DATA/home\" | grep -c crashrecovery || true", as: "archives")
            .snapshotTree(target, as: "after-refusal")
            .snapshotTree("$SANDBOX/decoy", as: "decoy-after")
            // What the message says to do.
            .shell("mv -- \"\(planted)\" \"\(planted).moved\"")
            .asd("sync", as: "sync")
            .expectMounted(target)
            .asd("unsync", as: "unsync")
            .snapshotTree(target, as: "final")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "unsync"] + (plant == .snapshotSymlinkAfterCrash ? ["first-sync"] : []))
        let refused = try result.command("refused")
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("Refusing to use \(planted) (owner \(Self.owner)): it is a "), "\(refused.output)")
        #expect(refused.output.contains(plant == .snapshotFileOverlay ? "regular file" : "symbolic link (to "), "\(refused.output)")
        #expect(refused.output.contains("mv -- "), "\(refused.output)")
        #expect(try result.command("archives").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        try expectSameTree(result.tree("decoy-before"), result.tree("decoy-after"), .strict, "the decoy")
        try expectSameTree(result.tree("initial"), result.tree("after-refusal"), .lifecycle, "the target after the refusal")
        try expectSameTree(result.tree("initial"), result.tree("final"), .lifecycle, "the target at the end")
    }
}
