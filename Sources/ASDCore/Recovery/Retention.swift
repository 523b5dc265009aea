import ASDCopy
import ASDSystem
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
enum Retention {
    /// Marker inside the name of an unfinished archive.
    static let partialMarker = "." + CrashArchive.partialTag + "-"

    /// Crash archives of the target, newest first.
    static func archives(for paths: TargetPaths) -> [FilePath] {
        entries(for: paths).filter { !isPartial($0) }.sorted(by: >).map { "\(paths.parent)/\($0)" }
    }

    /// Leftover temp files of interrupted archive runs.
    static func partials(for paths: TargetPaths) -> [FilePath] {
        entries(for: paths).filter(isPartial).sorted().map { "\(paths.parent)/\($0)" }
    }

    /// Keeps the `limit` newest archives and deletes the rest, plus any
    /// leftover temp files. Returns the deleted paths. `limit` 0 deletes
    /// all (as upstream's BACKUP_LIMIT=0).
    @discardableResult
    static func enforceLimit(_ limit: Int, paths: TargetPaths) throws(ASDError) -> [FilePath] {
        let excess = Array(archives(for: paths).dropFirst(max(limit, 0)))
        return try remove(excess + partials(for: paths))
    }

    /// `asd clean`: deletes every archive and temp file of the target.
    /// Returns the deleted paths.
    @discardableResult
    static func cleanAll(paths: TargetPaths) throws(ASDError) -> [FilePath] {
        try remove(archives(for: paths) + partials(for: paths))
    }

    /// Deletes each path; stops at the first failure. The parent usually
    /// belongs to the target's owner (doc/DESIGN.md §7): it is opened once (`SafePath`)
    /// and a regular file is removed with unlinkat(2) relative to it, so nothing
    /// is followed; an old-style archive directory is removed without crossing
    /// mounts; anything else of that name (a symlink someone planted) is left alone.
    private static func remove(_ victims: [FilePath]) throws(ASDError) -> [FilePath] {
        var removed: [FilePath] = []
        for path in victims {
            let directory = try RecoveryOps.openParent(of: path)
            let name = path.lastComponent
            try ASDError.attempt("delete the crash-recovery archive", path) { () throws(Errno) in
                let status = try directory.status(name)
                if status.isRegular {
                    try directory.remove(name)
                } else if status.isDirectory {
                    try directory.removeTree(name)
                }
            }
            removed.append(path)
        }
        return removed
    }

    /// Names (bytes, as readdir gives them) in the parent directory that start
    /// with the archive prefix and are regular files (or old-style directories);
    /// none when the parent cannot be read. Sorting them byte-wise descending is
    /// `LC_ALL=C sort -r`.
    private static func entries(for paths: TargetPaths) -> [FilePath] {
        let prefix = paths.archivePrefix
        guard let directory = try? RecoveryOps.openParent(of: paths.target) else { return [] }
        let names = (try? directory.entries()) ?? []
        return names.filter { name in
            guard name.bytes.starts(with: prefix.bytes), let status = try? directory.status(name) else { return false }
            return status.isRegular || status.isDirectory
        }
    }

    private static func isPartial(_ name: FilePath) -> Bool {
        name.contains(partialMarker)
    }
}
