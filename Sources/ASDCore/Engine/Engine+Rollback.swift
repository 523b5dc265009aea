import ASDCopy
import ASDSystem
/// What a sync has done to one target so far, so it can be undone in reverse.
struct UndoJournal: Sendable {
    enum Step: Sendable {
        /// Unmount a mount asd made (normal first, then lazy).
        case unmount(FilePath)
        /// Unmount asd's mounts at a target, leaving a mount of the user's there.
        case unmountOurs(TargetPaths)
        /// rmdir a directory asd created; never recursive (it may be a mount point
        /// whose unmount failed, and then its contents are the user's data).
        case removeDirectory(FilePath)
        /// Remove a tree asd created outside the target (tmpfs copy, snapshot).
        case removeTree(FilePath)
        /// Remove the snapshot asd made (root `made`), only while its name still
        /// shows that very directory: what the target's owner put in its place
        /// (a symlink, a directory of theirs) is theirs and stays.
        case removeSnapshot(FilePath, made: FileStatus)
    }

    private(set) var steps: [Step] = []

    mutating func record(_ step: Step) { steps.append(step) }
}

extension Engine {
    /// Undoes a failed sync: the failing target's journal in reverse, then every
    /// target completed earlier in this run is written back and put on disk.
    /// Returns the error to show, saying whether the roll-back was complete.
    func rollBack(failing: TargetPaths?, journal: UndoJournal, completed: [TargetPaths], cause: ASDError) -> ASDError {
        var leftovers: [String] = []
        if let failing {
            log.warning("Sync of \(failing.target) failed; rolling back.")
            leftovers += undo(journal)
        }
        for paths in completed.reversed() {
            log.warning("Rolling back \(paths.target).")
            do throws(ASDError) {
                try writeBack(paths)
                try putBackOnDisk(paths)
            } catch {
                leftovers.append("\(paths.target): \(error.message)")
            }
        }
        let name = failing?.target.description ?? completed.map(\.target.description).joined(separator: ", ")
        if leftovers.isEmpty {
            return .rolledBack(target: name, cause: cause)
        }
        return .rollbackFailed(target: name, cause: cause, leftover: leftovers.joined(separator: "; "))
    }

    /// Replays a journal backwards; returns what could not be undone.
    func undo(_ journal: UndoJournal) -> [String] {
        var problems: [String] = []
        var failedUnmounts: Set<FilePath> = []
        for step in journal.steps.reversed() {
            switch step {
            case .unmount(let path):
                do throws(ASDError) {
                    try unmountOrDetach(path)
                } catch {
                    failedUnmounts.insert(path)
                    problems.append(error.message)
                }
            case .unmountOurs(let paths):
                do throws(ASDError) {
                    try unmountOurs(at: paths)
                } catch {
                    failedUnmounts.insert(paths.target)
                    problems.append(error.message)
                }
            case .removeDirectory(let path):
                if failedUnmounts.contains(path) { continue }
                do throws(Errno) {
                    try FileOps.removeDirectory(path)
                } catch {
                    if error != .noEntry { problems.append("could not remove \(path): \(error)") }
                }
            case .removeSnapshot(let path, let made):
                guard let found = try? FileOps.status(path), found.isDirectory,
                      found.device == made.device, found.inode == made.inode else {
                    if FileOps.exists(path) { log.warning("\(path) is no longer the snapshot asd made; leaving it as it is.") }
                    continue
                }
                do throws(ASDError) {
                    try removeTreeOrThrow(path)
                } catch {
                    problems.append(error.message)
                }
            case .removeTree(let path):
                if failedUnmounts.contains(path) { continue }
                do throws(ASDError) {
                    try removeTreeOrThrow(path)
                } catch {
                    problems.append(error.message)
                }
            }
        }
        return problems
    }
}
