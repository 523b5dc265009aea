import ASDCopy
import ASDSystem
/// Where one target stands, decided from the mount table first and the files
/// second (doc/DESIGN.md §5: asd never discards data that lives only in RAM).
/// The marker `.flagged` alone does not decide it: a cleanup script, a user
/// or the application may delete it while the target is live in tmpfs.
enum TargetState: Equatable, Sendable {
    /// asd has nothing of it: no disk copy, snapshot or partial snapshot.
    case notSynced
    /// Served from our tmpfs copy, marker present: the healthy running state.
    case running
    /// Served from our tmpfs copy, but the marker is gone: still running.
    case runningMarkerLost
    /// Leftovers of a run that did not end with unsync, and the target is no
    /// longer served from our tmpfs copy (reboot, crash that took the mounts):
    /// crash recovery applies.
    case ungraceful
}

extension Engine {
    /// /proc/self/mountinfo, or an error: without it asd cannot tell a live
    /// target from leftovers, so it must not guess.
    func mountTable() throws(ASDError) -> [MountEntry] {
        do throws(Errno) {
            return try MountInfo.current()
        } catch {
            throw .system(operation: "read the mount table", path: "/proc/self/mountinfo", errno: error)
        }
    }

    func state(of paths: TargetPaths, in table: [MountEntry]) -> TargetState {
        if let bottom = ourMounts(at: paths, in: table).first {
            return FileOps.exists(marker(of: paths, servedBy: bottom, in: table)) ? .running : .runningMarkerLost
        }
        let leftovers = FileOps.isDirectory(paths.diskCopy) || FileOps.isDirectory(paths.snapshot)
            || FileOps.exists(paths.snapshot + ".partial")
        return leftovers ? .ungraceful : .notSynced
    }

    func state(of paths: TargetPaths) throws(ASDError) -> TargetState {
        state(of: paths, in: try mountTable())
    }

    /// The mounts at the target that serve our tmpfs copy, bottom first: the
    /// bind of the tmpfs copy (full mode) or of the overlay mounted there. A
    /// mount of the user's at the target (the target is a mount point of its
    /// own) is never among them.
    func ourMounts(at paths: TargetPaths, in table: [MountEntry]) -> [MountEntry] {
        let copy = MountInfo.origin(of: paths.tmpfsCopy, in: table)
        // The tmpfs copy's path inside VOLATILE, for a copy whose directory is
        // gone from view (VOLATILE unmounted or replaced): `/<instance>-<user>/abs/target`.
        let relative = FilePath(paths.tmpfsCopy.bytes.dropFirst(settings.volatile.bytes.count))
        return MountInfo.mounts(at: paths.target, in: table).filter { entry in
            if let copy, MountInfo.origin(of: entry) == copy { return true }
            if entry.fsType == "overlay", let lower = entry.superOption("lowerdir").map(MountInfo.firstLayer) {
                let dir = MountInfo.unescapeOverlayPath(lower)
                return dir == paths.overlayLower || dir == paths.snapshot || dir == paths.diskCopy
            }
            return entry.root == relative || entry.root.hasSuffix(relative) && relative.bytes.count > 1
        }
    }

    /// True when the target is served from our tmpfs copy: it is running, and
    /// its data may exist only in RAM. A lost marker is re-created, with a
    /// warning; the caller writes the target back as for any running target.
    func keepIfRunning(_ paths: TargetPaths) throws(ASDError) -> Bool {
        let table = try mountTable()
        switch state(of: paths, in: table) {
        case .running:
            return true
        case .runningMarkerLost:
            let flag = ourMounts(at: paths, in: table).first.map { marker(of: paths, servedBy: $0, in: table) } ?? paths.flag
            log.warning("The marker \(flag) of \(paths.target) is gone, but \(paths.target) is still served from its tmpfs copy \(paths.tmpfsCopy). asd keeps it running, re-creates the marker and writes it back; nothing was discarded.")
            try writeAtomically(flag, contents: [])
            return true
        case .notSynced, .ungraceful:
            return false
        }
    }

    /// Unmounts what asd mounted at the target (with anything mounted on or
    /// inside it since), normally first and lazily when busy; a mount of the
    /// user's at the target stays.
    func unmountOurs(at paths: TargetPaths) throws(ASDError) {
        // Topmost first: each umount2(2) takes the topmost mount at the path.
        while true {
            let table = try mountTable()
            guard let ours = ourMounts(at: paths, in: table).last else { return }
            do throws(Errno) {
                try Mount.unmountSubtree(ours, in: table, lazy: false)
            } catch {
                log.warning("\(paths.target) is busy; detaching it lazily. Programs that still have files open there keep using the old copy until they close them.")
                try ASDError.attempt("detach the mount at", paths.target) { () throws(Errno) in
                    try Mount.unmountSubtree(ours, in: try MountInfo.current(), lazy: true)
                }
            }
            if ourMounts(at: paths, in: try mountTable()).last?.mountID == ours.mountID {
                throw .unexpectedState(path: paths.target, detail: "asd's mount there could not be removed")
            }
        }
    }
}
