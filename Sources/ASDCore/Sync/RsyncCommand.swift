/// The rsync command line for one copy, as a pure value (tested as argv).
///
/// Options and why:
/// - `-a -X` (and `-A` with `acls`): contents, modes, owners, times,
///   symlinks, devices and xattrs, as upstream's `rsync -aX`. No `-H`: the
///   hard-link safety check keeps hard links out of targets.
/// - `--numeric-ids`: both sides are on this host, so names and ids agree
///   anyway; this skips the NSS lookups (which can hang on LDAP/SSSD early
///   at boot or late at shutdown) and keeps ids that have no name.
/// - `--modify-window=-1`: compare mtimes to the nanosecond (rsync >= 3.1.3
///   on the receiver; 3.5.0 here documents it), so a rewrite keeping size
///   and mtime-second is still copied (SPEC 5.5).
/// - Never `--inplace`, `--partial` or `--append`: every updated file is
///   written to a temp file and renamed over the old one, so the hardlink
///   snapshot (which shares inodes with the disk copy) keeps the old data
///   and a crash leaves either the old or the new file, never a mix.
///
/// Write-back only:
/// - `--delete-after`: deletions happen once all updates are written, and
///   rsync skips them after an I/O error. Chosen over `--delete-delay`
///   (same order, one scan less) because delete-delay keeps its list in a
///   temp file of its own; delete-after needs none and is upstream's choice.
/// - `--temp-dir=<tempDir>`: temp files go to one directory of asd's outside
///   the target instead of `.name.XXXXXX` next to each file, so a power cut
///   never leaves debris inside the target. rename(2) only works within one
///   mount (EXDEV otherwise, and rsync then *copies* into place, which is not
///   atomic), so the engine passes a destination and temp dir that share a
///   mount (see `StagingMount`). With no temp dir (a target that is a
///   filesystem of its own) rsync keeps temp files beside each file.
/// - No `--delay-updates`: it would keep per-directory `.~tmp~` holding
///   dirs inside the target, and per-file atomicity is all that is needed.
/// - `--exclude=/.flagged`: the running marker stays in tmpfs only.
///
/// With `progress`: `--info=progress2` (one line for the whole transfer)
/// and `--no-inc-recursive` (so the total is known up front).
/// Source and destination follow `--`, each with a trailing slash (copy
/// the contents, not the directory itself).
public struct RsyncCommand: Equatable, Sendable {
    public enum Mode: Equatable, Sendable {
        /// Initial copy of the disk copy into the (empty) tmpfs copy.
        case fillTmpfs(from: String, to: String)
        /// Resync: tmpfs copy back onto the disk copy, with deletions.
        case writeBack(from: String, to: String, tempDir: String?)
    }

    /// The running marker, never written back.
    public static let flagName = ".flagged"

    public var mode: Mode
    /// Preserve POSIX ACLs too (`-A`).
    public var acls: Bool
    /// Show one progress line (a terminal is watching).
    public var progress: Bool
    /// Program to run; looked up on PATH.
    public var executable: String

    public init(_ mode: Mode, acls: Bool = true, progress: Bool = false, executable: String = "rsync") {
        self.mode = mode
        self.acls = acls
        self.progress = progress
        self.executable = executable
    }

    public var source: String {
        switch mode {
        case .fillTmpfs(let from, _), .writeBack(let from, _, _): return from
        }
    }

    public var destination: String {
        switch mode {
        case .fillTmpfs(_, let to), .writeBack(_, let to, _): return to
        }
    }

    /// The full argv, executable first.
    public var argv: [String] {
        var args = [executable, acls ? "-aAX" : "-aX", "--numeric-ids", "--modify-window=-1"]
        switch mode {
        case .fillTmpfs:
            break
        case .writeBack(_, let to, let tempDir):
            args += ["--delete-after", "--exclude=/" + Self.flagName]
            if let tempDir {
                if let inside = Self.relative(tempDir, to: to) {
                    args.append("--exclude=/" + inside)
                }
                args.append("--temp-dir=" + tempDir)
            }
        }
        if progress {
            args += ["--info=progress2", "--no-inc-recursive"]
        }
        args += ["--", Self.trimmed(source) + "/", Self.trimmed(destination) + "/"]
        return args
    }

    /// `path` relative to `base` when it lies strictly inside it.
    static func relative(_ path: String, to base: String) -> String? {
        let prefix = trimmed(base) + "/"
        let full = trimmed(path)
        guard full.hasPrefix(prefix), full.count > prefix.count else { return nil }
        return String(full.dropFirst(prefix.count))
    }

    /// Drops trailing slashes; "/" becomes "" so that appending "/" gives "/".
    static func trimmed(_ path: String) -> String {
        var result = Substring(path)
        while result.count > 1 && result.hasSuffix("/") { result = result.dropLast() }
        return result == "/" ? "" : String(result)
    }
}
