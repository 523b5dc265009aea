/// Where a path's files come from: the file system (st_dev of its mount,
/// "major:minor") and the directory inside that file system. Two paths with the
/// same origin show the same directory, e.g. a bind mount and its source.
public struct MountOrigin: Equatable, Sendable {
    public var device: String
    public var root: FilePath

    public init(device: String, root: FilePath) {
        self.device = device
        self.root = root
    }
}

extension MountInfo {
    /// The origin of the directory at `path` (resolved with realpath(3)): the
    /// topmost mount that holds it, with its root joined to the rest of the path.
    /// Nil when `path` does not resolve.
    public static func origin(of path: FilePath, in entries: [MountEntry]) -> MountOrigin? {
        guard let real = resolvedPath(path), let entry = mount(containing: real, in: entries) else { return nil }
        let rest = entry.mountPoint == "/" ? real : FilePath(real.bytes.dropFirst(entry.mountPoint.bytes.count))
        return MountOrigin(device: entry.device, root: joinRoot(entry.root, rest))
    }

    /// The origin of what the mount `entry` shows at its mount point.
    public static func origin(of entry: MountEntry) -> MountOrigin {
        MountOrigin(device: entry.device, root: entry.root)
    }

    /// "/" + "/a" is "/a"; "/r" + "" is "/r"; "/r" + "/a" is "/r/a"; "/r" + "a" is "/r/a".
    public static func joinRoot(_ root: FilePath, _ rest: FilePath) -> FilePath {
        if rest.isEmpty || rest == "/" { return root }
        return root.appending(rest)
    }

    /// Every mount whose mount point is exactly `path` (resolved), bottom of
    /// the stack first.
    public static func mounts(at path: FilePath, in entries: [MountEntry]) -> [MountEntry] {
        let real = resolvedPath(path) ?? path
        return entries.filter { $0.mountPoint == real }
    }

    /// `entry` and every mount below it in the mount tree (by parent id: mounts
    /// on directories inside it and mounts stacked on top of it), children
    /// before their parents, so unmounting in this order never meets EBUSY
    /// from a submount.
    static func subtree(of entry: MountEntry, in entries: [MountEntry]) -> [MountEntry] {
        var children: [Int: [MountEntry]] = [:]
        for candidate in entries where candidate.mountID != candidate.parentID {
            children[candidate.parentID, default: []].append(candidate)
        }
        var ordered: [MountEntry] = []
        var seen: Set<Int> = []
        func visit(_ mount: MountEntry) {
            guard seen.insert(mount.mountID).inserted else { return }
            for child in (children[mount.mountID] ?? []).reversed() { visit(child) }
            ordered.append(mount)
        }
        visit(entry)
        return ordered
    }
}

extension Mount {
    /// Unmounts `entry` and everything mounted on it or inside it (see
    /// `MountInfo.subtree`), leaving mounts *under* it at the same mount
    /// point alone (umount2(2) always takes the topmost mount at a path, and
    /// the subtree's own stack is taken from the top down). With `lazy`,
    /// MNT_DETACH on the subtree's mounts at `entry`'s mount point, top first;
    /// each takes the mounts inside it along.
    public static func unmountSubtree(_ entry: MountEntry, in entries: [MountEntry], lazy: Bool) throws(Errno) {
        for mount in MountInfo.subtree(of: entry, in: entries) where !lazy || mount.mountPoint == entry.mountPoint {
            do {
                try unmount(mount.mountPoint, lazy: lazy)
            } catch {
                if error == .invalid || error == .noEntry { continue }
                throw error
            }
        }
    }
}
