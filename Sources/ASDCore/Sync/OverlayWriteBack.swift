/// Overlay-mode write-back in O(changed entries): only directories present in
/// the upper layer can differ from the sync-time state, so only those are
/// visited. The merged view (the mounted overlay) is read as the truth; the
/// lower layer is never written (it is the read-only snapshot); the disk copy
/// is updated by new files renamed into place, never in place.
struct OverlayWriteBack {
    let upper: String
    let merged: String
    let destination: String
    let tempDirectory: String?

    func run() throws(ASDError) {
        var copier = EntryCopier(tempDirectory: tempDirectory)
        try syncDirectory("", copier: &copier)
    }

    private func syncDirectory(_ relative: String, copier: inout EntryCopier) throws(ASDError) {
        let mergedDir = merged + relative
        let destDir = destination + relative
        guard let mergedStatus = try? FileOps.status(mergedDir), mergedStatus.isDirectory else { return }
        try copier.ensureDirectory(destDir, like: mergedStatus)

        var mergedNames = Set(try list(mergedDir))
        if relative.isEmpty { mergedNames.remove(TargetPaths.flagName) }
        for name in try list(destDir) where !mergedNames.contains(name) {
            try copier.remove(destDir + "/" + name)
        }
        let upperNames = (try? FileOps.listDirectory(upper + relative)) ?? []
        for name in upperNames where mergedNames.contains(name) {
            let child = relative + "/" + name
            // Vanished between listing and now: like rsync's exit 24, not an error.
            guard let status = try? FileOps.status(merged + child) else { continue }
            try EntryCopier.toleratingVanishing(merged + child) { () throws(ASDError) in
                if status.isDirectory {
                    try syncDirectory(child, copier: &copier)
                } else {
                    try copier.copyIfChanged(from: merged + child, status: status, to: destination + child)
                }
            }
        }
        try copier.applyDirectoryMetadata(from: mergedDir, status: mergedStatus, to: destDir)
    }

    private func list(_ dir: String) throws(ASDError) -> [String] {
        do throws(Errno) {
            return try FileOps.listDirectory(dir)
        } catch {
            throw .system(operation: "list the directory", path: dir, errno: error)
        }
    }
}
