import ASDCopy
import ASDSystem
/// `asd parse` as text: upstream's layout, plus the system's state.
enum ParseText {
    static func print(_ report: ParseReport, invocation: Invocation, console: Console) {
        console.info(Header.text(console: console))
        for line in serviceLines(report, invocation: invocation, console: console) { console.info(" " + line) }
        console.info(" " + console.styled("Overlayfs technology is currently ", .bold)
            + (report.overlay ? console.styled("active", .green) : console.styled("inactive", .red)) + ".")
        console.info(" " + console.styled("Copy engine in force: ", .bold)
            + console.styled(report.engine == "rsync" ? "rsync (USE_RSYNC)" : report.engine, .green) + ".")
        console.info(" " + console.styled("Volatile ", .bold) + volatileText(report.volatile) + ".")
        console.info(" " + console.styled("Metrics ", .bold) + (report.metricsFile.map { "are written to " + console.styled($0, .blue) }
            ?? "are not written (METRICS_DIR unset or empty, and no \(MetricsDirectory.nodeExporterDefault))") + ".")
        for line in watchText(report.watch, console: console) { console.info(" " + line) }
        if let zram = report.zram { console.info(" " + console.styled("Compressed RAM ", .bold) + zramText(zram) + ".") }
        console.info("")
        console.info(console.styled("Asd will manage the following per ", .bold) + console.styled(report.config, .blue)
            + console.styled(" settings:", .bold))
        console.info("")
        for target in report.targets where target.state != ParseReport.Target.missing {
            let row = { (label: String, value: String) in
                console.info(" " + console.styled(label.padding(to: 19), .bold) + " " + value)
            }
            row("owner/group id:", "\(target.user)/\(target.gid.map(String.init) ?? "?")")
            row("target to manage:", console.styled(target.path, .green))
            row("sync target:", console.styled(target.diskCopy, .blue))
            row("tmpfs target:", console.styled(target.tmpfsCopy, .red))
            row("dir size:", formatBytes(target.sizeBytes ?? 0))
            if report.overlay {
                row("overlayfs size:", formatBytes(target.ramBytes ?? 0))
            }
            if target.state == ParseReport.Target.running {
                row("ram used:", target.ramBytes.map(formatBytes) ?? "unknown")
                row("last write-back:", target.lastWriteBack.map { LocalTime.format($0, "%Y-%m-%d %H:%M:%S") }
                    .map { $0 + consistency(target.lastWriteBackConsistent) } ?? "none since sync")
            } else if target.state == ParseReport.Target.ungraceful {
                row("state:", console.styled("not stopped cleanly; the next asd command recovers it", .red))
            }
            for entry in target.keptOut {
                let what = entry.kind == "ramOnly" ? "RAM only:" : "disk only:"
                row(what, "\(entry.pattern): \(entry.matches) \(entry.matches == 1 ? "entry" : "entries"), "
                    + formatBytes(entry.sizeBytes) + (entry.kind == "ramOnly" ? " kept out of disk writes" : " kept out of RAM"))
            }
            if target.recoveryArchives.isEmpty {
                row("recovery dirs:", "none")
            } else {
                row("recovery dirs:", console.styled("\(target.recoveryArchives.count)", .red) + " <- delete with the c option")
                for archive in target.recoveryArchives {
                    row(" dir path/size:", console.styled(archive.path, .blue) + " (\(formatBytes(archive.sizeBytes ?? 0)))")
                }
            }
            console.info("")
        }
    }

    /// Under systemd the units' states and the timer's next run; otherwise the
    /// daemon file and the cron job, as upstream.
    static func serviceLines(_ report: ParseReport, invocation: Invocation, console: Console) -> [String] {
        if let systemd = report.systemd {
            let next = systemd.timer.nextRun.map { "; next write-back " + LocalTime.format($0, "%Y-%m-%d %H:%M:%S") } ?? ""
            return [
                console.styled("Systemd service is currently ", .bold) + state(systemd.service, console) + ".",
                console.styled("Systemd resync timer is currently ", .bold) + state(systemd.timer, console) + next + ".",
            ]
        }
        let cronPresent = report.cron?.present ?? false
        return [
            console.styled("Daemon pid file is ", .bold)
                + (report.running ? console.styled("present", .green) : console.styled("not present", .red)) + ".",
            console.styled("Resync cronjob is ", .bold)
                + (cronPresent ? console.styled("present", .green) : console.styled("not present", .red)) + ".",
        ]
    }

    private static func state(_ unit: ParseReport.UnitState, _ console: Console) -> String {
        console.styled(unit.activeState, unit.activeState == "active" ? .green : .red) + " (\(unit.unitFileState))"
    }

    /// How `asd parse` shows whether the last write-back was consistent (asd(1)).
    private static func consistency(_ consistent: Bool?) -> String {
        switch consistent {
        case true?: return " (consistent)"
        case false?: return " (not consistent: files kept changing, see the log)"
        case nil: return ""
        }
    }

    private static func volatileText(_ volatile: ParseReport.Volatile) -> String {
        guard let type = volatile.fsType, let free = volatile.freeBytes, let total = volatile.totalBytes else {
            return volatile.path + ": does not exist"
        }
        return "\(volatile.path) (\(type)): \(formatBytes(free)) free of \(formatBytes(total))"
    }
}
