@testable import ASDCore
import Foundation
import Testing
import ASDTestSupport

/// A target no process has open is written back without a capture, while the kernel
/// watches its file system for changes (doc/DESIGN.md, "Consistent write-back"). Nothing
/// changing meanwhile: that write-back was one instant. Here a file is created while strace
/// holds asd inside the write-back (at the first llistxattr(2), which only the copy makes:
/// asd's own when it compares one.txt, whose xattr it then reads (a file without any is
/// settled by listxattrat(2) alone, doc/DESIGN.md §12), or, with the rsync engine,
/// rsync's; it is known to be there from
/// /proc/PID/syscall, not from a sleep): asd must see it, and write back from a capture
/// instead, which holds the new file.
@Suite(.privileged) struct DirectWriteBackTests {
    @Test(arguments: [false, true])
    func aChangeDuringTheWriteBackIsSeen(overlay: Bool) async throws {
        guard let strace = Executable.find("strace") else {
            throw HarnessError("strace is needed to hold asd inside its write-back; install it (apt-get install strace).")
        }
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target], overlay: overlay)
        let disk = sandbox.paths(target).diskCopy
        let result = try await Scenario(sandbox, timeoutSeconds: 240)
            .shell(Fixture.small(at: target))
            .shell("setfattr -n user.hold -v 1 \"\(target)/one.txt\"")
            .asd("sync", as: "sync")
            .shell("printf 'changed\\n' >\"\(target)/one.txt\"")
            .asd("resync", as: "quiet", environment: ["DEBUG": "1"])
            .shell("""
                DEBUG=1 \(strace) -f -qq -o /dev/null -e trace=llistxattr \
                    -e inject=llistxattr:delay_enter=8000000:when=1 "$ASD_BIN" resync >"$OUT/held.log" 2>&1 & tracer=$!
                # Held: asd, or any process of the rsync it runs (sender, generator,
                # receiver: each is held at its first llistxattr), is inside llistxattr.
                descendants() { local child; for child in $(pgrep -P "$1" || true); do echo "$child"; descendants "$child"; done; }
                held=""
                until [ -n "$held" ]; do
                    kill -0 $tracer
                    for p in $(descendants $tracer); do
                        [ "$(cut -d' ' -f1 /proc/$p/syscall 2>/dev/null)" = \(Self.llistxattrNumber) ] && held=$p
                    done
                    sleep 0.01
                done
                printf 'written during the write-back\\n' >"\(target)/during.txt"
                status=0; wait $tracer || status=$?
                echo $status >"$OUT/held.status"
                """)
            .capture("cat \"$OUT/held.log\"; echo \"status $(cat \"$OUT/held.status\")\"", as: "held")
            .asd("parse", "--json", as: "parse")
            .capture("cat \"\(disk)/during.txt\" \"\(disk)/one.txt\"", as: "written")
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "quiet", "held", "parse", "written", "unsync"])
        let quiet = try result.command("quiet").output
        #expect(quiet.contains("without a capture (change watch): nothing changed meanwhile"), "\(quiet)")
        let held = try result.command("held").stdout
        #expect(held.contains("without a capture (change watch): it changed meanwhile; capturing"), "\(held)")
        #expect(held.contains("status 0"), "\(held)")
        #expect(try result.command("written").stdout == "written during the write-back\nchanged\n")
        let report = try ParseReport.decode(json: result.command("parse").stdout)
        #expect(report.targets[0].lastWriteBackConsistent == true, "the capture after the change was not consistent")
    }

    /// llistxattr's syscall number, as /proc/PID/syscall shows it.
    static var llistxattrNumber: Int { syscallNumber(x86_64: 195, arm64: 12) }
}
