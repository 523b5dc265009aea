import Foundation
import Testing

/// The harness itself, on real namespaces and trees; needs no asd engine.
@Suite(.privileged) struct HarnessTests {
    @Test func mountsStayInsideTheNamespace() async throws {
        let sandbox = try Sandbox()
        let marker = "asd-itest-marker-" + URL(fileURLWithPath: sandbox.root).lastPathComponent
        let result = try await Scenario(sandbox, volatileSize: "3m")
            .expectMounted("$VOLATILE", fstype: "tmpfs")
            .expectMounted("/run", fstype: "tmpfs")
            .expectMounted("$SANDBOX/run", fstype: "tmpfs")
            .expect("[[ $(findmnt -n -o PROPAGATION /) == private ]]", "/ is not private in the namespace")
            .capture("df -B1 --output=size \"$VOLATILE\" | tail -n 1", as: "size")
            .shell("touch /run/\(marker) \"$VOLATILE/inside\"")
            .run()
        result.expectNoFailures()
        #expect(try result.command("size").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3145728")
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mountinfo.contains(sandbox.root), "a sandbox mount leaked into the host namespace")
        #expect(!FileManager.default.fileExists(atPath: "/run/" + marker), "the host's /run was written")
        #expect(!FileManager.default.fileExists(atPath: sandbox.volatile + "/inside"))
    }

    @Test func commandsAreRecorded() async throws {
        let sandbox = try Sandbox()
        let fake = sandbox.root + "/fake-asd"
        try "#!/bin/bash\necho \"out $* ${ASDCONF##*/} ${EXTRA:-}\"\necho err >&2\nexit 3\n"
            .write(toFile: fake, atomically: false, encoding: .utf8)
        chmod(fake, 0o755)
        let result = try await Scenario(sandbox)
            .asd("sync", "x y", as: "fake", binary: "$SANDBOX/fake-asd", environment: ["EXTRA": "it's"])
            .shell("(ASD_BIN=\"$SANDBOX/fake-asd\"; asd resync || echo \"$?\" >\"$SANDBOX/auto-status\")")
            .asd(as: "real")
            .capture("echo captured; exit 5", as: "cap")
            .expect("[[ $(cat \"$SANDBOX/auto-status\") == 3 ]]", "asd did not return the status")
            .run()
        result.expectNoFailures()
        let fakeRun = try result.command("fake")
        #expect(fakeRun.status == 3 && fakeRun.stdout == "out sync x y asd.conf it's\n" && fakeRun.stderr == "err\n")
        #expect(try result.command("asd-1").stdout == "out resync asd.conf \n")
        #expect(try result.command("cap").status == 5 && result.command("cap").stdout == "captured\n")
        let real = try result.command("real")
        #expect(real.status == 0 && real.output.lowercased().contains("sync"), "usage text of the real binary")
        #expect(CommandRecord.stripANSI("\u{1B}[01;32mok\u{1B}[00m") == "ok")
    }

    @Test func failedExpectationsAreReportedAtTheirStep() async throws {
        let sandbox = try Sandbox()
        let result = try await Scenario(sandbox)
            .shell("mkdir \"$DATA/dir\" && touch \"$DATA/dir/file\"")
            .expectMounted("$DATA/dir")
            .expectNotMounted("$VOLATILE")
            .expectExists("$DATA/dir/file")
            .expectAbsent("$DATA/dir/file")
            .expectEmptyDirectory("$DATA/dir")
            .expectSameFilesystem("$DATA/dir", as: "$VOLATILE")
            .run()
        #expect(result.scriptStatus == 0 && result.stoppedAtStep == nil)
        #expect(result.failures.map(\.step) == [1, 2, 4, 5, 6])
        #expect(result.failures.map(\.message) == [
            "\(sandbox.data)/dir is not a mount point", "\(sandbox.volatile) is still a mount point",
            "\(sandbox.data)/dir/file exists", "\(sandbox.data)/dir is not an empty directory",
            "\(sandbox.data)/dir is not on the filesystem of \(sandbox.volatile)",
        ])
        #expect(result.failures.allSatisfy { $0.location?.fileID.hasSuffix("HarnessTests.swift") == true })
        #expect(!result.succeeded)
    }

    /// A message's `$(command "$VAR")` runs as bash would run it in double quotes,
    /// with its own quotes; quotes outside it stay literal.
    @Test func messagesExpandCommandsWithTheirQuotes() async throws {
        let sandbox = try Sandbox()
        let result = try await Scenario(sandbox)
            .shell("mkdir \"$DATA/a b\" && touch \"$DATA/a b/x\" \"$DATA/a b/y\"")
            .expect("false", "\"q\" $(ls \"$DATA/a b\" | wc -l) files")
            .run()
        #expect(result.failures.map(\.message) == ["\"q\" 2 files"])
    }

    @Test func aFailingShellStepStopsTheScript() async throws {
        let sandbox = try Sandbox()
        let result = try await Scenario(sandbox)
            .shell("touch \"$SANDBOX/before\"")
            .shell("false")
            .shell("touch \"$SANDBOX/after\"")
            .run()
        #expect(result.scriptStatus != 0 && result.stoppedAtStep == 1 && !result.succeeded)
        #expect(result.scriptSummary.contains("step 1 at") && result.scriptStderr.contains("false"))
        #expect(FileManager.default.fileExists(atPath: sandbox.root + "/before"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/after"))
    }

    @Test func volatileSizeLimitsTheTmpfs() async throws {
        let sandbox = try Sandbox()
        let result = try await Scenario(sandbox, volatileSize: "1m")
            .capture("head -c 2M /dev/zero >\"$VOLATILE/big\"", as: "fill")
            .run()
        result.expectNoFailures()
        let fill = try result.command("fill")
        #expect(fill.status != 0 && fill.stderr.contains("No space left"))
    }

    @Test func powerLossKillsEverythingAndReboots() async throws {
        let sandbox = try Sandbox()
        // No clock: a kill that did not happen shows as `notreached` written,
        // a command not marked killed, or a surviving sleep.
        let result = try await Scenario(sandbox)
            .shell("mkdir \"$DATA/inner\" && echo kept >\"$DATA/disk-file\"")
            .powerLoss(
                run: """
                    mount -t tmpfs inner "$DATA/inner"; echo lost >"$VOLATILE/before"; touch "$DATA/ready"
                    sleep 31.4159 & sleep 31.4158; touch "$DATA/notreached"
                    """,
                when: .whenExists("$DATA/ready"), as: "cut")
            .expectNotMounted("$DATA/inner")
            .expectAbsent("$VOLATILE/before")
            .expectAbsent("$DATA/notreached")
            .expectExists("$DATA/disk-file")
            .expectEmptyDirectory("$SANDBOX/run")
            .capture("pgrep -c -f 'sleep 31.415' || true", as: "survivors")
            .powerLoss(run: "sleep 32.25", when: .whenProcess("sleep 32.25"), as: "byProcess")
            // A trigger that never holds: the command's end is seen however slow the machine.
            .powerLoss(run: "asd_as inner-true true", when: .whenExists("$DATA/never-made"), as: "finished", mustKill: false)
            .powerLoss(run: "true", when: .whenExists("$DATA/never-made"), as: "strict")
            .run()
        #expect(result.failures.map(\.message) == ["power loss: the command ended before the trigger ([[ -e \"$DATA/never-made\" ]]) held"])
        #expect(result.failures.first?.step == 10)
        #expect(result.scriptStatus == 0 && result.stoppedAtStep == nil, "\(result.scriptSummary)")
        #expect(try result.command("cut").killed && result.command("cut").status == nil)
        #expect(try result.command("survivors").stdout == "0\n")
        #expect(try result.command("byProcess").killed)
        #expect(try !result.command("finished").killed)
    }
}
