import ASDSystem
/// RESYNC_DELAY in `asd parse` (doc/DESIGN.md §12): the delay in force, and
/// what the watcher (`asd watch`, asd-watch.service) reports while it runs.
extension ParseReport {
    struct Watch: Codable, Equatable, Sendable {
        /// RESYNC_DELAY in seconds; null: off (the hourly timer only).
        @NullCoded var resyncDelay: Int?
        /// A watcher runs for this instance.
        var running: Bool
        @NullCoded var pid: Int?
        /// The change source in use: fanotify, inotify or scan; null when not running.
        @NullCoded var source: String?
        /// Targets whose last write-back by the watcher failed (retried with backoff).
        var failing: [WatchStatus.Failure]
    }

    static func watch(engine: Engine) -> Watch {
        let status = WatchStatus.read(daemonFile: engine.invocation.daemonFile)
        return Watch(resyncDelay: engine.settings.resyncDelay, running: status != nil, pid: status?.pid,
                     source: status?.source, failing: status?.failing ?? [])
    }
}

extension ParseText {
    static func watchText(_ watch: ParseReport.Watch, console: Console) -> [String] {
        guard let delay = watch.resyncDelay else {
            return [console.styled("Continuous write-back ", .bold) + "is off (RESYNC_DELAY unset); the timer writes back hourly."]
        }
        var lines = [console.styled("Continuous write-back ", .bold) + "within \(delay) s (RESYNC_DELAY): watcher "
            + (watch.running ? console.styled("running", .green) + " (pid \(watch.pid ?? 0), \(watch.source ?? "?"))"
                             : console.styled("not running", .red)) + "."]
        for failure in watch.failing {
            lines.append(console.styled("Write-back of \(failure.target) failing", .red) + " since "
                + LocalTime.format(failure.since, "%Y-%m-%d %H:%M:%S") + ", next attempt "
                + LocalTime.format(failure.nextAttempt, "%H:%M:%S") + ": " + failure.message)
        }
        return lines
    }
}
