import ASDCopy
import ASDSystem
/// Small steps shared by sync, resync, unsync and recovery, each converting
/// `Errno` into `ASDError` with the path and what asd was doing.
extension Engine {
    func statOrThrow(_ path: FilePath, doing operation: String) throws(ASDError) -> FileStatus {
        try ASDError.attempt(operation, path) { () throws(Errno) in try FileOps.status(path) }
    }

    /// Creates `path` with the owner and mode of `model` (upstream: install -dm).
    /// Under VOLATILE see `makeVolatileDirectory` (parents root-only, nothing
    /// followed). Journals only what it made.
    func makeOwnedDirectory(_ path: FilePath, like model: FileStatus, journal: inout UndoJournal, underVolatile: Bool) throws(ASDError) {
        if underVolatile {
            try makeVolatileDirectory(path, like: model, journal: &journal)
            return
        }
        if FileOps.isDirectory(path) { return }
        try makeDirectoryBeside(path, like: model)
        journal.record(.removeDirectory(path))
    }

    func removeTreeOrThrow(_ path: FilePath) throws(ASDError) {
        try ASDError.attempt("remove", path) { () throws(Errno) in
            do throws(Errno) { try FileOps.removeTree(path) } catch { if error != .noEntry { throw error } }
        }
    }

    /// Removes `path`'s empty parents up to (not including) VOLATILE.
    func removeEmptyParents(of path: FilePath) {
        var parent = path.parent
        while parent != settings.volatile && parent.isWithin(settings.volatile) {
            do throws(Errno) { try FileOps.removeDirectory(parent) } catch { return }
            parent = parent.parent
        }
    }

    /// Writes a small file via a temp name, fsync and rename.
    func writeAtomically(_ path: FilePath, contents: [UInt8]) throws(ASDError) {
        try ASDError.attempt("write", path) { () throws(Errno) in
            try FileOps.writeFileAtomically(path, contents: contents, mode: 0o644)
        }
    }

    /// Throws when SIGTERM/SIGINT/SIGHUP arrived, so sync stops between steps.
    func checkInterrupted(_ during: String) throws(ASDError) {
        if let signal = Signals.pending.map(Signals.name) {
            throw .interrupted(signal: signal, during: during)
        }
    }

    /// The error to report for a failed step: when a termination signal arrived,
    /// the signal (the failure, e.g. tar's exit after the forwarded SIGTERM, is
    /// only its consequence); otherwise `error` itself.
    func blamingSignal(_ error: ASDError, during: String) -> ASDError {
        if case .interrupted = error { return error }
        guard let signal = Signals.pending.map(Signals.name) else { return error }
        return .interrupted(signal: signal, during: during)
    }

    /// Bytes `tree` will take in tmpfs: every file rounded up to a page, plus
    /// a page per directory and symlink.
    func tmpfsFootprint(of tree: FilePath) -> UInt64 {
        var total: UInt64 = 0
        let page: UInt64 = 4096
        try? FileTreeWalker(root: tree).walk { entry in
            let status = entry.status
            if status.isRegular {
                total += (UInt64(status.size) + page - 1) / page * page
            } else {
                total += page
            }
        }
        return total
    }

    /// `umount -R`, and when that is refused because something is busy, a lazy
    /// detach (as upstream's `umount -R -l`), saying so.
    func unmountOrDetach(_ path: FilePath) throws(ASDError) {
        do throws(ASDError) {
            try Mount.unmountAll(path, lazy: false)
        } catch {
            log.warning("\(path) is busy; detaching it lazily. Programs that still have files open there keep using the old copy until they close them.")
            try Mount.unmountAll(path, lazy: true)
        }
    }
}
