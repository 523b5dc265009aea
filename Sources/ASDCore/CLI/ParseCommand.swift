/// `asd parse` (preview): a read-only report of what asd manages and where,
/// in upstream's layout. Spawns at most one process (systemctl), not one per target.
/// Walks each target once (`FileOps.summarize`), in parallel on big trees.
enum ParseCommand {
    static func run(invocation: Invocation, console: Console, environment: [String: String]) throws(ASDError) {
        let configPath = ConfigLoader.pathInForce(invocation)
        let settings: Settings
        do throws(ASDError) {
            settings = try Settings.load(path: configPath, environment: environment)
        } catch {
            // A fresh install has an empty list: a preview says what to do, not "error".
            guard case .noTargets = error else { throw error }
            console.info(Header.text(console: console))
            console.info(" No directories are configured yet: list them in WHATTOSYNC in \(configPath),")
            console.info(" then start asd with 'systemctl enable --now asd' (or 'asd sync').")
            return
        }
        let engine = Engine(settings: settings, invocation: invocation, log: console)
        // One walk per target serves both the hard-link check and "dir size".
        var summaries: [String: TreeSummary?] = [:]
        func summary(_ path: String) -> TreeSummary? {
            if let known = summaries[path] { return known }
            let walked = try? FileOps.summarize(path)
            summaries[path] = walked
            return walked
        }
        try engine.checkTargets(hardLinkedFiles: { summary($0)?.hardLinkedFiles })

        console.info(Header.text(console: console))
        for line in serviceLines(invocation: invocation, console: console) { console.info(" " + line) }
        console.info(" " + (settings.useOverlay
            ? console.styled("Overlayfs technology is currently ", .bold) + console.styled("active", .green) + "."
            : console.styled("Overlayfs technology is currently ", .bold) + console.styled("inactive", .red) + "."))
        console.info(" " + console.styled("Copy engine in force: ", .bold)
            + console.styled(settings.useRsync ? "rsync (USE_RSYNC)" : "built-in", .green) + ".")
        console.info("")
        console.info(console.styled("Asd will manage the following per ", .bold) + console.styled(configPath, .blue)
            + console.styled(" settings:", .bold))
        console.info("")
        for target in settings.whatToSync {
            let paths = engine.paths(for: target)
            guard let status = try? FileOps.status(target), status.isDirectory else { continue }
            let row = { (label: String, value: String) in
                console.info(" " + console.styled(label.padding(to: 19), .bold) + " " + value)
            }
            row("owner/group id:", "\(paths.user)/\(status.gid)")
            row("target to manage:", console.styled(target, .green))
            row("sync target:", console.styled(paths.diskCopy, .blue))
            row("tmpfs target:", console.styled(paths.tmpfsCopy, .red))
            row("dir size:", formatBytes(summary(target)?.diskUsage ?? 0))
            if settings.useOverlay {
                row("overlayfs size:", formatBytes((try? FileOps.diskUsage(paths.overlayUpper)) ?? 0))
            }
            let archives = Retention.archives(for: paths)
            if archives.isEmpty {
                row("recovery dirs:", "none")
            } else {
                row("recovery dirs:", console.styled("\(archives.count)", .red) + " <- delete with the c option")
                for archive in archives {
                    row(" dir path/size:", console.styled(archive, .blue) + " (\(formatBytes((try? FileOps.diskUsage(archive)) ?? 0)))")
                }
            }
            console.info("")
        }
    }

    /// systemd unit states when systemd runs and asd's unit is installed,
    /// otherwise the daemon file and the cron job, as upstream.
    static func serviceLines(invocation: Invocation, console: Console) -> [String] {
        let unitInstalled = ["/usr/lib/systemd/system/asd.service", "/lib/systemd/system/asd.service",
                             "/etc/systemd/system/asd.service"].contains(where: FileOps.exists)
        if FileOps.isDirectory("/run/systemd/system") && unitInstalled,
           let result = try? Subprocess.run(["systemctl", "show", "-p", "ActiveState", "--value",
                                             "asd.service", "asd-resync.timer"], captureOutput: true) {
            let states = String(decoding: result.standardOutput, as: UTF8.self)
                .split(separator: "\n").map(String.init)
            let service = states.first ?? "unknown"
            let timer = states.count > 1 ? states[1] : "unknown"
            return [
                console.styled("Systemd service is currently ", .bold) + colourState(service, console) + ".",
                console.styled("Systemd resync service is currently ", .bold) + colourState(timer, console) + ".",
            ]
        }
        let daemon = FileOps.exists(invocation.daemonFile)
        let cron = FileOps.exists("/etc/cron.hourly/asd-update")
        return [
            console.styled("Daemon pid file is ", .bold)
                + (daemon ? console.styled("present", .green) : console.styled("not present", .red)) + ".",
            console.styled("Resync cronjob is ", .bold)
                + (cron ? console.styled("present", .green) : console.styled("not present", .red)) + ".",
        ]
    }

    private static func colourState(_ state: String, _ console: Console) -> String {
        console.styled(state, state == "active" ? .green : .red)
    }
}

/// First line of parse/clean output: version and distribution.
enum Header {
    static func text(console: Console) -> String {
        let distro = OSRelease.prettyName()
        let title = "Anything-sync-daemon (Swift) v\(Version.string)" + (distro.map { " on \($0)" } ?? "")
        return console.styled(title, .bold) + "\n"
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
