@testable import ASDCore
import Foundation
import Testing

/// When no capture of one instant can be had, the write-back still happens as before
/// consistent write-back existed, with a warning naming the target, and `asd parse`
/// reports it as not consistent (doc/DESIGN.md, "Consistent write-back"). Here VOLATILE
/// has no inode left (remounted with `nr_inodes` just above those in use, the rest used
/// up), so not even the capture's directory can be made; a process holds a file of the
/// target open, which was just changed, so asd does not write it back without a capture.
@Suite(.privileged) struct CaptureFallbackTests {
    @Test(arguments: [false, true])
    func noRoomForACaptureStillWritesBack(overlay: Bool) async throws {
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let disk = sandbox.paths(target).diskCopy
        let result = try await Scenario(sandbox)
            .shell(Fixture.small(at: target))
            .asd("sync", as: "sync")
            .asd("resync", as: "roomy")
            .asd("parse", "--json", as: "consistent")
            .shell("""
                echo changed >"\(target)/new"
                sleep 100000 3<"\(target)/new" & echo $! >"$OUT/holder"
                used=$(df --output=iused "$VOLATILE" | tail -1)
                until mount -o remount,nr_inodes=$used "$VOLATILE" 2>/dev/null; do used=$((used + 1)); done
                n=0; while touch "$VOLATILE/.fill-$n" 2>/dev/null; do n=$((n + 1)); done
                """)
            .asd("resync", as: "full")
            .asd("parse", "--json", as: "inconsistent")
            .capture("cat \"\(disk)/new\"", as: "written")
            .shell("kill $(cat \"$OUT/holder\"); mount -o remount,nr_inodes=100000 \"$VOLATILE\"")
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "roomy", "consistent", "full", "inconsistent", "unsync", "written"])
        func consistency(_ label: String) throws -> Bool? {
            try ParseReport.decode(json: result.command(label).stdout).targets[0].lastWriteBackConsistent
        }
        #expect(try consistency("consistent") == true)
        #expect(try consistency("inconsistent") == false)
        let warning = try result.command("full").output
        #expect(warning.contains("Cannot capture \(sandbox.expand(target)) at one instant"), "\(warning)")
        #expect(try result.command("written").stdout == "changed\n", "the write-back did not happen")
    }
}
