/// A temp copy built by `TreeMirror` in `.update` mode, waiting to be renamed
/// over its destination.
struct PendingRename: Sendable {
    let temp: String
    let destination: String
    /// The destination is a directory the new entry replaces (type change).
    let replacesDirectory: Bool
}

extension TreeMirror {
    /// Data before names: a rename can reach the disk before the renamed file's
    /// data (ext4 commits the rename with its journal, delayed allocation writes
    /// the data up to 30 s later; an fsync of any other file commits the journal),
    /// and after a power cut the file is then empty. So the temp copies are
    /// flushed with one syncfs before the first rename, not one fsync each.
    /// Found by the power-loss test (Tests/powerloss): a new file of an
    /// interrupted resync came back with 0 bytes.
    func commitRenames(_ state: MirrorState) throws(ASDError) {
        let pending = state.pendingRenames.withLock { $0 }
        if pending.isEmpty { return }
        do throws(Errno) {
            try FileSystemInfo.syncFilesystem(containing: destination)
        } catch {
            throw .system(operation: "flush (syncfs) the copies before renaming them into", path: destination,
                          errno: error)
        }
        for item in pending {
            do throws(Errno) {
                if item.replacesDirectory { try FileOps.removeTree(item.destination) }
                try FileOps.rename(item.temp, to: item.destination)
            } catch {
                throw .system(operation: "rename \(item.temp) to", path: item.destination, errno: error)
            }
        }
        state.pendingRenames.withLock { $0.removeAll() }
    }

    /// Removes the temp copies that were not renamed (after an error or a signal;
    /// unstaged, they lie beside their files inside the target).
    func discardUncommitted(_ state: MirrorState) {
        let left = state.pendingRenames.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        for item in left { try? FileOps.unlink(item.temp) }
    }
}
