import ASDSystem
/// After sync, resync and unsync: this run's write-back outcomes go into the
/// counters kept under /run (`MetricsState`) and the metrics file is rewritten
/// for node_exporter (doc/DESIGN.md §10). Runs under the instance
/// lock. Metrics never fail a command: a problem is a warning.
extension Engine {
    var metricsStatePath: FilePath { MetricsState.path(daemonFile: invocation.daemonFile) }

    /// Where the metrics file goes now, or nil when nowhere (`MetricsDirectory`).
    var metricsFile: FilePath? {
        settings.metricsDirectory.resolved().map { $0.appending(MetricsDirectory.fileName(instance: invocation.instanceName)) }
    }

    /// `synced`: a sync just succeeded, so every running target not written
    /// back in this run has disk and RAM alike as of now.
    func publishMetrics(synced: Bool = false) {
        var state = MetricsState.parse((try? readFile(metricsStatePath)) ?? [])
        let outcomes = self.outcomes.all
        state.apply(outcomes)
        if synced {
            let now = Double(Clock.realtimeMicroseconds()) / 1e6
            for paths in targets where isRunning(paths) && !outcomes.contains(where: { $0.target == paths.target }) {
                state.noteSynced(paths.target, at: now)
            }
        }
        state.targets = state.targets.filter { settings.whatToSync.contains($0.key) }
        do throws(ASDError) {
            try writeAtomically(metricsStatePath, contents: state.bytes)
        } catch {
            log.warning("Could not keep the metrics' counters: \(error.message)")
        }
        guard let file = metricsFile else { return }
        do throws(ASDError) {
            try writeMetricsFile(file, text: metricsSnapshot(state).text)
            log.debug("Wrote the metrics to \(file)")
        } catch {
            log.warning("Could not write the metrics file \(file): \(error.message) Create the directory, or set METRICS_DIR in \(settings.sourceFile) (\"\" turns metrics off).")
        }
    }

    /// The figures of this moment: the counters, VOLATILE's space, RAM used, archives.
    func metricsSnapshot(_ state: MetricsState) -> MetricsSnapshot {
        let volatile = try? FileSystemInfo.of(settings.volatile)
        let host = MetricsSnapshot.Host(
            config: invocation.configPath,
            version: Version.string, engine: settings.copyEngineName, overlay: settings.useOverlay,
            volatile: settings.volatile, volatileFreeBytes: volatile?.availableBytes, volatileSizeBytes: volatile?.totalBytes,
            crashArchives: targets.reduce(0) { $0 + Retention.archives(for: $1).count })
        return MetricsSnapshot(host: host, targets: targets.map { paths in
            let running = isRunning(paths)
            var ram: UInt64? = 0
            if running {
                ram = try? FileOps.diskUsage(isOverlay(paths) ? paths.overlayUpper : paths.tmpfsCopy)
            }
            return MetricsSnapshot.Target(path: paths.target, running: running, ramBytes: ram,
                                          state: state.targets[paths.target] ?? MetricsState.Target())
        })
    }

    /// Atomically, by descriptor: a temp file in the same directory (not
    /// `*.prom`, so node_exporter never reads it), mode 0644, renamed over.
    ///
    /// The directory's parent is reached by `SafePath`; the directory itself
    /// is opened by name, O_NOFOLLOW. Debian's textfile directory is root's
    /// inside /var/lib/prometheus, which prometheus owns: SafePath refuses that
    /// last step (prometheus could put a symlink there), but a symlink is
    /// exactly what O_NOFOLLOW refuses, and any real directory prometheus can
    /// put there is its own, where a file of metrics harms nothing.
    func writeMetricsFile(_ file: FilePath, text: String) throws(ASDError) {
        let directoryPath = file.directory
        let parent: DirectoryHandle
        do throws(SafePath.Failure) {
            parent = try SafePath.openDirectory(directoryPath == "/" ? "/" : directoryPath.directory)
        } catch {
            throw ASDError(error)
        }
        let directory = directoryPath == "/" ? parent : try ASDError.attempt("open", directoryPath) { () throws(Errno) in
            try parent.openDirectory(directoryPath.lastComponent)
        }
        let name = file.lastComponent
        try ASDError.attempt("write", file) { () throws(Errno) in
            try directory.replaceFile(name, tempName: FilePath(".\(name).tmp-\(ProcessIdentity.pid)"),
                                      contents: Array(text.utf8), mode: 0o644)
        }
    }
}
