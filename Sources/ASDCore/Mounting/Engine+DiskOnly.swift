import ASDCopy
import ASDSystem
/// DISK_ONLY (doc/DESIGN.md §2): a directory of a target that stays on disk. The
/// copiers leave it out (`ExclusionFilter`); at sync its disk copy is bound at the
/// same place inside the RAM view, by descriptor (`bindPrivateNoatimeByDescriptor`),
/// so what is written there goes straight to disk. The bind lies below the target's
/// own mount, so every `umount -R` of the target (unsync, rollback, recovery) takes it
/// first, before the target itself.
extension Engine {
    func diskOnlyEntries(_ paths: TargetPaths) -> [Exclusions.DiskOnly] {
        settings.exclusions.diskOnly.filter { $0.target == paths.target }
    }

    /// Each DISK_ONLY directory must be a directory on disk, reached without
    /// following a symlink; checked before the fill.
    func checkDiskOnly(_ paths: TargetPaths) throws(ASDError) -> [(Exclusions.DiskOnly, FileStatus)] {
        var found: [(Exclusions.DiskOnly, FileStatus)] = []
        for entry in diskOnlyEntries(paths) {
            let status = try ASDError.attempt("open the DISK_ONLY directory", entry.path) { () throws(Errno) -> FileStatus in
                try DirectoryHandle(path: paths.diskCopy).openDirectory(relative: entry.relative).status()
            }
            found.append((entry, status))
        }
        return found
    }

    /// After the fill: the mount points, empty directories with the disk
    /// directory's owner and mode (in overlay mode made in the upper layer: the
    /// snapshot, the lower one, leaves DISK_ONLY directories out).
    func makeDiskOnlyMountPoints(_ paths: TargetPaths, _ entries: [(Exclusions.DiskOnly, FileStatus)]) throws(ASDError) {
        for (entry, status) in entries {
            let at = paths.tmpfsCopy.appending(entry.relative)
            try ASDError.attempt("create the DISK_ONLY mount point", at) { () throws(Errno) in
                let components = entry.relative.components
                var parent = try DirectoryHandle(path: paths.tmpfsCopy)
                for component in components.dropLast() { parent = try parent.openDirectory(component) }
                guard let name = components.last else { return }
                if try parent.statusIfExists(name) == nil { try parent.makeDirectory(name) }
                try parent.openDirectory(name).setOwnerAndMode(uid: status.uid, gid: status.gid, permissions: status.permissions)
            }
        }
    }

    /// After the target is bound: each disk directory bound over its place in
    /// the RAM view.
    func bindDiskOnly(_ paths: TargetPaths, _ entries: [(Exclusions.DiskOnly, FileStatus)]) throws(ASDError) {
        for (entry, _) in entries {
            log.debug("Binding \(paths.diskCopy.appending(entry.relative)) at \(entry.path) (DISK_ONLY)")
            try Mount.bindPrivateNoatimeByDescriptor(source: paths.diskCopy.appending(entry.relative), target: entry.path)
        }
    }

    /// A running target whose DISK_ONLY binds are not all in place (asd was killed
    /// between the target's bind and theirs): without them a write there would go
    /// to RAM and never be written back. Each missing bind is made now. What was
    /// written in its place meanwhile is only in RAM: it is first renamed aside,
    /// beside the place (`<name>.asd-unbound-YYYYmmdd_HHMMSS`, never replacing
    /// anything), where it is part of the target like any other directory and
    /// goes to disk with the next write-back; asd says where, for the
    /// administrator to merge. Called by sync and resync.
    func restoreDiskOnlyBinds(_ paths: TargetPaths) throws(ASDError) {
        let table = try mountTable()
        let missing = diskOnlyEntries(paths).filter { !MountInfo.isMountPoint($0.path, in: table) }
        guard !missing.isEmpty else { return }
        for (entry, status) in try checkDiskOnly(paths) where missing.contains(entry) {
            let view: DirectoryHandle
            do throws(SafePath.Failure) { view = try DirectoryHandle.safelyOpening(entry.path) } catch { throw ASDError(error) }
            let shown = try ASDError.attempt("list", entry.path) { () throws(Errno) in try view.entries() }
            var message = "The DISK_ONLY directory \(entry.path) was not bound to disk (an earlier asd stopped half-way); binding it now."
            if !shown.isEmpty {
                let asideName = try setAside(entry)
                let aside = entry.path.parent.appending(asideName)
                message += " The \(shown.count) entries written there meanwhile were only in RAM: they are now in \(aside),"
                let relative = entry.relative.components.dropLast().reduce(FilePath(), { $0.appending($1) }).appending(asideName)
                message += settings.exclusions.filter(for: paths.target).excludesTree(relative, isDirectory: true)
                    ? " which RAM_ONLY keeps off the disk: move them to the disk copy \(paths.diskCopy.appending(entry.relative)) by hand."
                    : " which is written back to disk with the rest of the target; merge them into \(entry.path) by hand."
            }
            log.warning(message)
            try makeDiskOnlyMountPoints(paths, [(entry, status)])
            try Mount.bindPrivateNoatimeByDescriptor(source: paths.diskCopy.appending(entry.relative), target: entry.path)
        }
    }

    /// Renames the unbound DISK_ONLY place in the RAM view to a free name beside
    /// it; returns that name.
    private func setAside(_ entry: Exclusions.DiskOnly) throws(ASDError) -> FilePath {
        let name = entry.path.lastComponent
        let parent: DirectoryHandle
        do throws(SafePath.Failure) { parent = try DirectoryHandle.safelyOpening(entry.path.parent) } catch { throw ASDError(error) }
        var time = LocalTime.now()
        while true {
            let aside = FilePath("\(name).asd-unbound-\(CrashArchive.stamp(for: time))")
            do throws(Errno) {
                try parent.renameExclusively(name, to: parent, as: aside)
                return aside
            } catch where error == .exists {
                time += 1
            } catch {
                throw ASDError.system(operation: "rename aside", path: entry.path, errno: error)
            }
        }
    }
}
