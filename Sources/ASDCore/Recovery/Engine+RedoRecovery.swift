import ASDCopy
import ASDSystem
/// At every start (sync, resync, unsync), before anything else touches a
/// target: a redo journal left in its temp directory by a killed write-back is
/// replayed when complete (its files then hold the new version whole) or
/// discarded when torn (its files were never touched: they hold the old one).
extension Engine {
    func replayRedoJournals(_ paths: TargetPaths) throws(ASDError) {
        // The target's on-disk directory: the disk copy while it is mounted
        // (asd running, or killed while running), else the target itself.
        let view = MountInfo.isMountPoint(paths.diskCopy) ? paths.diskCopy : paths.target
        // The temp directory beside the target, or (a target that is a mount
        // point of its own) the one at the top of its on-disk directory.
        for tempPath in [paths.tempDirectory, view.appending(paths.tempDirectoryName)] {
            try replayRedoJournals(paths, in: tempPath, onto: view)
        }
    }

    private func replayRedoJournals(_ paths: TargetPaths, in tempPath: FilePath, onto view: FilePath) throws(ASDError) {
        guard let temp = try? DirectoryHandle(path: tempPath),
              let names = try? RedoReplay.journals(in: temp), !names.isEmpty else { return }
        do throws(Errno) {
            let outcome = try RedoReplay.replayAll(in: temp, root: try DirectoryHandle(path: view))
            if outcome.replayed > 0 {
                log.info("Finished an interrupted write-back of \(paths.target): \(outcome.files) file(s) completed from its redo journal.")
            }
            if outcome.skipped > 0 {
                log.warning("\(outcome.skipped) file(s) of the redo journal of \(paths.target) were replaced since; they were left alone.")
            }
            if !outcome.discarded.isEmpty {
                log.info("Discarded an incomplete redo journal of \(paths.target) (a write-back was interrupted before changing any file).")
            }
            if !outcome.foreign.isEmpty {
                log.warning("Discarded a redo journal in \(tempPath) that does not belong to \(view).")
            }
        } catch {
            throw .system(operation: "replay the redo journal in \(tempPath) onto", path: view, errno: error)
        }
    }
}
