import ASDSystem
/// A temp copy built by `TreeMirror` in `.update` mode, waiting to be renamed
/// over its destination: `tempName` in `temp` becomes `name` in `directory`
/// (both descriptors, so a directory swapped for a symlink meanwhile is not
/// followed).
struct PendingRename: Sendable {
    let temp: DirectoryHandle
    let tempName: FilePath
    /// The destination directory (`MirrorDirectory.dst`).
    let directory: DirectoryHandle
    let name: FilePath
    /// The destination is a directory the new entry replaces (type change):
    /// it is removed right before the rename, not before the data is flushed.
    let replacesDirectory: Bool
    /// The destination directory's path, for messages.
    let shown: FilePath
    /// The block checksums of a regular file's copy, recorded once it is renamed.
    var recording: DeltaWriteBack.CopyRecording? = nil
}

extension TreeMirror {
    /// Pending renames that make the walk commit a batch before it goes on:
    /// each holds its destination directory's descriptor.
    static let renameBatch = 256

    /// Data before names: a rename can reach the disk before the renamed file's
    /// data (ext4 commits the rename with its journal, delayed allocation writes
    /// the data up to 30 s later; an fsync of any other file commits the journal),
    /// and after a power cut the file is then empty. So the temp copies are
    /// flushed with one syncfs before the first rename, not one fsync each.
    /// Found by the power-loss test (Tests/powerloss): a new file of an
    /// interrupted resync came back with 0 bytes.
    func commitRenames(_ state: MirrorState) throws(CopyError) {
        let pending = state.pendingRenames.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        guard let first = pending.first else { return }
        do throws(Errno) {
            try first.temp.syncFilesystem()
        } catch {
            state.pendingRenames.withLock { $0.append(contentsOf: pending) }  // removed by `discardUncommitted`
            throw .system(operation: "flush (syncfs) the copies before renaming them into", path: destination,
                          errno: error)
        }
        for (index, item) in pending.enumerated() {
            do throws(Errno) {
                if item.replacesDirectory { try item.directory.removeTree(item.name) }
                try item.temp.rename(item.tempName, to: item.directory, as: item.name)
                if let recording = item.recording { state.delta?.noteRenamed(item.name, in: item.directory, recording) }
            } catch {
                state.pendingRenames.withLock { $0.append(contentsOf: pending[index...]) }
                throw .system(operation: "rename \(item.tempName) to", path: item.shown.appending(item.name),
                              errno: error)
            }
        }
    }

    /// Commits the pending renames once there are `renameBatch` of them.
    func commitRenamesIfFull(_ state: MirrorState) throws(CopyError) {
        if state.pendingRenames.withLock({ $0.count >= Self.renameBatch }) { try commitRenames(state) }
    }

    /// Removes the temp copies that were not renamed (after an error or a signal;
    /// unstaged, they lie beside their files inside the target).
    func discardUncommitted(_ state: MirrorState) {
        let left = state.pendingRenames.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        for item in left { try? item.temp.remove(item.tempName) }
        state.delta?.discardPending()
    }
}
