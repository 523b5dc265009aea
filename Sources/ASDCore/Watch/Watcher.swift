import ASDSystem
/// `asd watch`'s loop (doc/DESIGN.md §12): sleeps in poll(2) until a change
/// source reports a change, lets the changes collect for RESYNC_DELAY after
/// the first one, then writes the changed targets back through resync's own
/// path (`Engine.writeBackRunning`) under the instance lock. A failed
/// write-back is retried with a doubling delay and said once per change of
/// state; SIGTERM lets a running write-back finish, then the loop ends.
final class Watcher {
    let invocation: Invocation
    let console: Console
    let environment: [String: String]
    let settings: Settings
    let source: ChangeSource
    let targets: [TargetPaths]
    /// RESYNC_DELAY in microseconds.
    let delay: Int64
    /// Per target: when its first change not yet written back was seen (monotonic µs).
    private(set) var dirtySince: [Int: Int64] = [:]
    /// Per failing target: the failure, and the retry's wait and time.
    private var failures: [Int: (status: WatchStatus.Failure, wait: Int64, retryAt: Int64)] = [:]
    private var status: WatchStatus
    /// Set when the daemon file is gone (asd unsynced): the loop ends.
    private(set) var asdStopped = false

    static let longestRetry: Int64 = 3_600_000_000

    init(engine: Engine, console: Console, environment: [String: String], delaySeconds: Int, only: ChangeSource.Kind?) {
        self.invocation = engine.invocation
        self.console = console
        self.environment = environment
        self.settings = engine.settings
        self.targets = engine.targets
        self.delay = Int64(delaySeconds) * 1_000_000
        self.source = ChangeSource.open(
            roots: engine.targets.map { engine.isOverlay($0) ? $0.overlayUpper : $0.tmpfsCopy }, only: only, log: console)
        self.status = WatchStatus(pid: Int(ProcessIdentity.pid), source: source.kind.rawValue,
                                  delaySeconds: delaySeconds, startedAt: Int(Clock.realtimeMicroseconds() / 1_000_000))
    }

    /// Runs until SIGTERM/SIGINT/SIGHUP or until asd is no longer running.
    func run(stopDescriptor: Int32) {
        publishStatus()
        console.notice("Watching \(targets.count) target\(targets.count == 1 ? "" : "s") for changes (\(source.kind.rawValue)); each change is written back within \(delay / 1_000_000) s.")
        // What changed between the sync and now is not known: one write-back finds it.
        let start = Clock.monotonicMicroseconds()
        for index in targets.indices { dirtySince[index] = start }
        while StopRequest.pending == nil && !asdStopped {
            noteChanges([])  // a timed scan: arms the next round
            let now = Clock.monotonicMicroseconds()
            let wait = nextDue().map { Int(($0 - now + 999) / 1000) }
            _ = Readiness.wait([stopDescriptor] + (source.descriptor.map { [$0] } ?? []), milliseconds: wait)
            if StopRequest.pending != nil { break }
            noteChanges(source.read())
            let due = dueTargets(at: Clock.monotonicMicroseconds())
            if !due.isEmpty { writeBack(due, stopDescriptor: stopDescriptor) }
        }
        WatchStatus.remove(daemonFile: invocation.daemonFile)
        let why = StopRequest.pending.map { "on \(Signals.name($0))" } ?? "because asd is no longer running"
        console.notice("Stopped watching \(why).")
    }

    /// `at`: when they were seen (for changes read during a write-back, the
    /// time it began).
    func noteChanges(_ changed: Set<Int>, at now: Int64 = Clock.monotonicMicroseconds()) {
        for index in changed where dirtySince[index] == nil { dirtySince[index] = now }
        // A timed scan: every target is due once per RESYNC_DELAY.
        if source.scans { for index in targets.indices where dirtySince[index] == nil { dirtySince[index] = now } }
    }

    /// When the next write-back (or retry) is due; nil: nothing to do.
    func nextDue() -> Int64? {
        dirtySince.keys.map { due($0) }.min()
    }

    private func due(_ index: Int) -> Int64 {
        max((dirtySince[index] ?? 0) + delay, failures[index]?.retryAt ?? 0)
    }

    func dueTargets(at now: Int64) -> [Int] {
        dirtySince.keys.filter { due($0) <= now }.sorted()
    }

    /// Under the instance lock (waiting for a resync or unsync that holds
    /// it, but not past a stop request), writes `indices` back.
    private func writeBack(_ indices: [Int], stopDescriptor: Int32) {
        let lock: FileLock
        switch acquireLock(stopDescriptor: stopDescriptor) {
        case .stopping: return
        case .failed(let error):
            for index in indices { settle(index, failure: error.message) }
            return
        case .held(let held): lock = held
        }
        defer { lock.release() }
        guard FileOps.exists(invocation.daemonFile) else {
            asdStopped = true
            return
        }
        // Changes queued until now are in this write-back; those after it start a new round.
        noteChanges(source.read())
        let began = Clock.monotonicMicroseconds()
        for index in indices { dirtySince[index] = nil }
        // In a child: see ForkedWork. Its result: one line per failed target,
        // "<index>\t<message>"; nil when it died without finishing.
        let selected = indices.map { targets[$0] }
        // Read while the child runs: the capture's 200,000 link events for 100,000
        // files would otherwise queue in the kernel, each new one checked against
        // the queued ones for merging (doc/DESIGN.md §12).
        let drain = source.descriptor.map { descriptor in
            (descriptor: descriptor, read: { self.noteChanges(self.source.read(), at: began) })
        }
        let result = ForkedWork.run(meanwhile: drain) { [settings, invocation, console] in
            let engine = Engine(settings: settings, invocation: invocation, log: console)
            var lines: [String] = []
            do throws(ASDError) {
                try engine.recoverUngracefulState()
                for (target, error) in engine.writeBackRunning(selected) {
                    let index = indices.first { targets[$0].target == target } ?? -1
                    lines.append("\(index)\t" + error.message.replacingAll("\n", with: " "))
                }
            } catch {
                lines = indices.map { "\($0)\t" + error.message.replacingAll("\n", with: " ") }
            }
            engine.publishMetrics()
            return Array(lines.joined(separator: "\n").utf8)
        } started: { [source] child in
            source.ignore(child: child)
        }
        // A change seen while it ran may have missed its capture: it is due RESYNC_DELAY
        // after the write-back began, not after it ended, or its window would grow by
        // the write-back's length (doc/DESIGN.md §12).
        noteChanges(source.read(), at: began)
        if dirtySince.values.contains(began), let next = nextDue() {
            console.debug("Changed during the write-back: due again in \(max(0, next - Clock.monotonicMicroseconds()) / 1000) ms.")
        }
        // The child's failures arrive as the messages it would have shown.
        var failed: [Int: String] = [:]
        guard let result else {
            let message = "The write-back process ended before it finished (killed or crashed); the targets stay in tmpfs."
            for index in indices { settle(index, failure: message) }
            return
        }
        for line in String(decoding: result, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2, let index = Int(parts[0]), targets.indices.contains(index) else { continue }
            failed[index] = String(parts[1])
        }
        console.debug("Wrote back \(indices.map { targets[$0].target.description }.joined(separator: ", ")); \(failed.count) failed.")
        for index in indices { settle(index, failure: failed[index]) }
    }

    /// Logs a change of state once, schedules the retry of a failure
    /// (`failure`: its message; nil: the write-back succeeded).
    private func settle(_ index: Int, failure message: String?) {
        let target = targets[index].target
        let now = Clock.monotonicMicroseconds()
        guard let message else {
            if failures.removeValue(forKey: index) != nil {
                console.notice("Write-back of \(target) succeeded again; it is on disk.")
                publishStatus()
            }
            return
        }
        let previous = failures[index]
        let wait = previous.map { min($0.wait * 2, Self.longestRetry) } ?? max(delay, 5_000_000)
        let wallNow = Int(Clock.realtimeMicroseconds() / 1_000_000)
        let failure = WatchStatus.Failure(target: target.description, since: previous?.status.since ?? wallNow,
                                          message: message, nextAttempt: wallNow + Int(wait / 1_000_000))
        failures[index] = (failure, wait, now + wait)
        dirtySince[index] = dirtySince[index] ?? now
        if previous?.status.message != message {
            console.error("Write-back of \(target) by the watcher failed; it stays in tmpfs and is tried again in \(wait / 1_000_000) s, then less and less often. \(message)")
        }
        publishStatus()
    }

    private enum Locking {
        case held(FileLock), failed(ASDError), stopping
    }

    private func acquireLock(stopDescriptor: Int32) -> Locking {
        var said = false
        while StopRequest.pending == nil {
            do throws(FileLock.Failure) {
                if let lock = try FileLock.tryAcquire(path: invocation.lockPath) { return .held(lock) }
            } catch {
                return .failed(ASDError(error, lock: invocation.lockPath))
            }
            if !said { console.debug("Waiting for the lock \(invocation.lockPath) (a resync or unsync runs)."); said = true }
            _ = Readiness.wait([stopDescriptor], milliseconds: 1000)
        }
        return .stopping
    }

    private func publishStatus() {
        status.failing = failures.keys.sorted().compactMap { failures[$0]?.status }
        do throws(Errno) {
            try status.write(daemonFile: invocation.daemonFile)
        } catch {
            console.warning("Cannot write \(WatchStatus.path(daemonFile: invocation.daemonFile)): \(error); asd parse will not show the watcher.")
        }
    }
}
