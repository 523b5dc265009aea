/// Which crash-recovery archives of a target exist, and deleting old ones
/// (BACKUP_LIMIT at sync, everything at `asd clean`).
///
/// Like upstream (`find parent -maxdepth 1 -name ".base-backup_asd-crashrecovery-*" | sort -r`)
/// this matches every entry of the parent whose name starts with the
/// archive prefix: current `...-YYYYmmdd_HHMMSS.tar.zstd` files and the plain
/// `...-crashrecovery-DATE` directories older asd versions made. Names sort by
/// their stamp, so byte order, reversed, is newest first.
///
/// Temp files `<archive>.partial-<pid>` are left by a crash while archiving
/// (see `CrashArchive`). They are not archives: `archives` does not list
/// them and they never count against the limit, but `enforceLimit` and
/// `cleanAll` delete them, since only one asd works on a config at a time and
/// no finished archive depends on them.
public enum Retention {
    /// Marker inside the name of an unfinished archive.
    static let partialMarker = "." + CrashArchive.partialTag + "-"

    /// Crash archives of the target, newest first.
    public static func archives(for paths: TargetPaths) -> [String] {
        entries(for: paths).filter { !isPartial($0) }.sorted(by: newestFirst).map { paths.parent + "/" + $0 }
    }

    /// Leftover temp files of interrupted archive runs.
    public static func partials(for paths: TargetPaths) -> [String] {
        entries(for: paths).filter(isPartial).sorted().map { paths.parent + "/" + $0 }
    }

    /// Keeps the `limit` newest archives and deletes the rest, plus any
    /// leftover temp files. Returns the deleted paths. `limit` 0 deletes
    /// all (as upstream's BACKUP_LIMIT=0).
    @discardableResult
    public static func enforceLimit(_ limit: Int, paths: TargetPaths) throws(ASDError) -> [String] {
        let excess = Array(archives(for: paths).dropFirst(max(limit, 0)))
        return try remove(excess + partials(for: paths))
    }

    /// `asd clean`: deletes every archive and temp file of the target.
    /// Returns the deleted paths.
    @discardableResult
    public static func cleanAll(paths: TargetPaths) throws(ASDError) -> [String] {
        try remove(archives(for: paths) + partials(for: paths))
    }

    /// Deletes each path; stops at the first failure. The parent usually
    /// belongs to the target's owner (issue 10): it is opened once (`SafePath`)
    /// and a regular file is removed with unlinkat(2) relative to it, so nothing
    /// is followed; an old-style archive directory is removed without crossing
    /// mounts; anything else of that name (a symlink someone planted) is left alone.
    private static func remove(_ victims: [String]) throws(ASDError) -> [String] {
        var removed: [String] = []
        for path in victims {
            let directory = try RecoveryOps.openParent(of: path)
            let name = RecoveryOps.baseName(of: path)
            try RecoveryOps.attempt("delete the crash-recovery archive", path) { () throws(Errno) in
                let status = try directory.status(name)
                if status.isRegular {
                    try directory.remove(name)
                } else if status.isDirectory {
                    try FileOps.removeTree(path)
                }
            }
            removed.append(path)
        }
        return removed
    }

    /// Names in the parent directory that start with the archive prefix and
    /// are regular files (or old-style directories); none when the parent
    /// cannot be read.
    private static func entries(for paths: TargetPaths) -> [String] {
        let prefix = paths.archivePrefix
        guard let directory = try? RecoveryOps.openParent(of: paths.target) else { return [] }
        let names = (try? directory.entries()) ?? []
        return names.filter { name in
            guard name.hasPrefix(prefix), let status = try? directory.status(name) else { return false }
            return status.isRegular || status.isDirectory
        }
    }

    private static func isPartial(_ name: String) -> Bool {
        name.contains(partialMarker)
    }

    /// Byte-wise descending, like `LC_ALL=C sort -r`.
    private static func newestFirst(_ lhs: String, _ rhs: String) -> Bool {
        rhs.utf8.lexicographicallyPrecedes(lhs.utf8)
    }
}
