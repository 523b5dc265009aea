import Testing

/// SIGTERM while asd waits for the instance lock (another asd holds it) ends
/// the wait the way `FileLock` intends: asd's handlers are installed before
/// the wait, so it says why it stopped and exits 1, instead of dying of the
/// signal (status 143) with nothing said.
@Suite(.privileged) struct LockWaitTests {
    @Test func termWhileWaitingForTheLockIsReported() async throws {
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"])
        let lock = "/run/\(sandbox.instance)-lock"
        let result = try await Scenario(sandbox)
            .shell("mkdir -p \"$DATA/t\"")
            .capture("""
                exec 9>"\(lock)" && flock 9 || exit 1
                "$ASD_BIN" sync >"$OUT/wait.log" 2>&1 & pid=$!
                for i in $(seq 200); do grep -q 'Waiting for lock' "$OUT/wait.log" && break; sleep 0.05; done
                kill -TERM $pid; wait $pid; status=$?; exec 9>&-
                cat "$OUT/wait.log"; echo "status=$status"
                """, as: "wait")
            .expectAbsent("$DAEMON_FILE")
            .run()
        result.expectNoFailures()
        let output = try result.command("wait").stdout
        #expect(output.contains("Waiting for lock"), "\(output)")
        #expect(output.contains("Stopped by SIGTERM during the wait for the lock"), "\(output)")
        #expect(output.contains("status=1"), "\(output)")
    }
}
