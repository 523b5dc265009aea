import Foundation
import Testing
import ASDTestSupport

/// Whatever happens to asd while it holds a target's writers stopped for a capture
/// (doc/DESIGN.md, "Consistent write-back"), they run on: asd is SIGKILLed while strace
/// holds it at each ptrace(2) call of the first stop (before PTRACE_SEIZE, before
/// PTRACE_INTERRUPT, before PTRACE_DETACH, when the writer is stopped and the capture
/// built). asd is known to be there from /proc/PID/syscall (ptrace's number), not from a
/// sleep. Then the writer must leave its stop, and the next resync must clean up and be
/// consistent again.
@Suite(.privileged) struct FreezerKillTests {
    @Test(arguments: [1, 2, 3])
    func aKilledAsdLeavesNoProcessStopped(call: Int) async throws {
        guard let strace = Executable.find("strace") else {
            throw HarnessError("strace is needed to hold asd at a ptrace call; install it (apt-get install strace).")
        }
        let sandbox = try Sandbox()
        let target = "$DATA/t"
        try sandbox.writeConfig(targets: [target])
        let bank = shellQuote(LiveWriterTests.writer("bank.py"))
        let ptraceNumber = Self.ptraceSyscallNumber
        let result = try await Scenario(sandbox, timeoutSeconds: 240)
            .shell("mkdir -p \"\(target)\"")
            .asd("sync", as: "sync")
            .shell("""
                python3 \(bank) run "\(target)/bank.db" wal "$OUT/writer" & echo $! >"$OUT/writer.pid"
                until [ -e "$OUT/writer.ready" ]; do sleep 0.01; done
                \(strace) -qq -o /dev/null -e trace=ptrace -e inject=ptrace:delay_enter=600000000:when=\(call) \
                    "$ASD_BIN" resync >"$OUT/held.log" 2>&1 & tracer=$!
                # asd is held once it is inside ptrace(2) (strace delays its entry).
                asd_pid=""
                until [ -n "$asd_pid" ] && [ "$(cut -d' ' -f1 /proc/$asd_pid/syscall 2>/dev/null)" = \(ptraceNumber) ]; do
                    asd_pid=$(pgrep -P $tracer -x asd || true)
                    kill -0 $tracer
                    sleep 0.01
                done
                writer=$(cat "$OUT/writer.pid")
                state_before=$(awk '{print $3}' /proc/$writer/stat)
                echo "$state_before" >"$OUT/state-before"
                kill -KILL $asd_pid
                # strace sits out its delay whatever happens to asd: end it too.
                kill -KILL $tracer; wait $tracer || true
                # The kernel releases the tracee when its tracer dies; wait for that (bounded).
                for i in $(seq 500); do
                    state=$(awk '{print $3}' /proc/$writer/stat)
                    [ "$state" != t ] && [ "$state" != T ] && break
                    sleep 0.01
                done
                echo "$state" >"$OUT/state-after"
                """)
            .asd("resync", as: "resync")
            .shell("""
                ls -A "$VOLATILE" | grep '^\\.capture-' >"$OUT/leftover" || true
                writer=$(cat "$OUT/writer.pid")
                kill -TERM $writer; wait $writer || true
                """)
            .asd("unsync", as: "unsync")
            .run()
        result.expectNoFailures()
        try result.expectExitedZero(["sync", "resync", "unsync"])
        func read(_ name: String) -> String {
            ((try? String(contentsOfFile: sandbox.out + "/" + name, encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if call == 3 {
            #expect(read("state-before") == "t", "the writer was not stopped while asd was held before PTRACE_DETACH")
        }
        #expect(!["t", "T", ""].contains(read("state-after")), "the writer stayed stopped after asd was killed: \(read("state-after"))")
        #expect(read("leftover").isEmpty, "the next resync left a capture behind: \(read("leftover"))")
        #expect(read("writer").contains("commits"), "the writer did not finish: \(read("writer"))")
    }

    /// ptrace's syscall number, as /proc/PID/syscall shows it.
    static var ptraceSyscallNumber: Int { syscallNumber(x86_64: 101, arm64: 117) }
}
