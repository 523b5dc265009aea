import ASDCopy
import ASDSystem
/// Where the block records of a target live (doc/DESIGN.md §6.6):
/// `$VOLATILE/.<instance>:block-records/<16 hex digits of SHA-256 of the
/// target path>/records`, root-only. In RAM on purpose: a record must never
/// outlive the page cache that held the data it describes (a power cut loses
/// both), and keeping it costs the disk no writes. ':' cannot appear in a user
/// name, so the name never meets upstream's `<instance>-USER` directories.
extension Engine {
    /// The store of `paths`' records for a write-back by the built-in copier;
    /// nil with the rsync copier, or when its directory cannot be made safely
    /// (then every changed file is compared with its disk copy, as without records).
    func blockRecordStore(for paths: TargetPaths) -> BlockRecordStore? {
        guard copier is BuiltinCopier else { return nil }
        let (parent, leaf) = blockRecordDirectory(for: paths)
        do throws(VolatileDirectoryError) {
            _ = try VolatileDirectory.make(in: settings.volatile, parents: [parent], leaf: leaf, mode: 0o700, uid: 0, gid: 0)
        } catch {
            log.debug("No block records for \(paths.target): \(ASDError(error).message)")
            return nil
        }
        return BlockRecordStore(path: settings.volatile.appending(parent).appending(leaf).appending("records"))
    }

    /// Saves the records after the write-back's flush; a failure only costs reads later.
    func commitBlockRecords(_ store: BlockRecordStore?, of paths: TargetPaths) {
        do throws(Errno) {
            try store?.commit()
        } catch {
            log.debug("Could not save the block records of \(paths.target) (\(error)); the next write-back reads its disk copy.")
        }
    }

    /// Removes the records of `paths` (unsync: the next sync starts without them).
    func removeBlockRecords(of paths: TargetPaths) {
        let (parent, leaf) = blockRecordDirectory(for: paths)
        let directory = settings.volatile.appending(parent)
        guard let status = try? FileOps.status(directory), status.isDirectory, status.uid == 0 else { return }
        try? FileOps.removeTree(directory.appending(leaf))
        try? FileOps.removeDirectory(directory)  // only when it is empty
    }

    private func blockRecordDirectory(for paths: TargetPaths) -> (FilePath, FilePath) {
        (FilePath(".\(invocation.instanceName):block-records"),
         FilePath(String(SHA256.hexDigest(paths.target.bytes).prefix(16))))
    }
}
