import ASDSystem
/// One rsync command line, as a pure value (unit-tested as argv).
///
/// Options and why:
/// - `-aAX`: contents, modes, owners, times, symlinks, devices and specials,
///   ACLs and xattrs. No `-H`: the hard-link safety check keeps hard links out
///   of targets, and the built-in copier copies them as separate files too.
/// - `--numeric-ids`: both sides are this host; no NSS lookups (which can hang
///   on LDAP early at boot or late at shutdown), ids without a name are kept.
/// - `--modify-window=-1`: compare mtimes to the nanosecond (rsync >= 3.1.3),
///   so a rewrite keeping size and mtime-second is still copied (doc/DESIGN.md §6.2).
/// - Never `--inplace`, `--partial`, `--append` or `--delay-updates`: every
///   file rsync writes goes to a temp file renamed over the old one, so the
///   hard-link snapshot (sharing inodes with the disk copy) keeps the old data
///   and a crash leaves the old or the new file, never a mix.
///
/// Write-back only:
/// - `--delete-after`: deletions once all updates are written (and none after
///   an I/O error); upstream's choice.
/// - `--temp-dir=DIR`: temp files in asd's directory beside the target, not as
///   `.name.XXXXXX` inside it, so a power cut leaves no debris in the target.
///   The engine hands a destination and temp dir on one mount (`StagingMount`),
///   so rename(2) works (across mounts rsync would copy, not rename).
/// - `--exclude=/.flagged`: the running marker stays in tmpfs.
/// - `--fsync` where rsync has it (3.2.4 and later): a file's data is flushed
///   before the rename that puts it in place (the final syncfs comes too late
///   for a rename the file system commits first).
///
/// A `list` run reads NUL-separated paths relative to the source from stdin
/// (`--files-from=- --from0`, so names may hold any byte but NUL): this is how
/// overlay write-back stays O(changes). Its kinds:
/// - `.transfer`: copy the listed entries (a listed directory is created and
///   its metadata set, its contents are not walked); a listed entry gone
///   meanwhile is skipped (`--ignore-missing-args`), as a vanished file; a
///   directory that became a file is removed first (`--force`: with a list,
///   deletions are not active, and rsync would refuse), as in full mode.
/// - `.rewrite`: the same with `--ignore-times`: files whose content is
///   unchanged but whose metadata changed, and whose disk inode is shared with
///   the snapshot, are written anew instead of changed in place.
/// Overlay deletions are not an rsync run: `--delete-missing-args` with
/// `--files-from` aborts in Debian 12's rsync and rsync 3.4.x
/// (`RsyncCopier.deleteGone`).
///
/// With `progress`: `--info=progress2` (one line for the whole transfer) and
/// `--no-inc-recursive` (so the total is known up front); only for a terminal.
/// Source and destination follow `--`, each with a trailing slash (copy the
/// contents, not the directory itself).
struct RsyncCommand: Equatable, Sendable {
    enum ListKind: Equatable, Sendable {
        case transfer, rewrite
    }

    enum Mode: Equatable, Sendable {
        /// sync: the disk copy into the empty tmpfs copy.
        case fill
        /// resync: the whole tmpfs copy onto the disk copy, with deletions.
        case writeBack(tempDirectory: FilePath?)
        /// Only the entries listed on stdin.
        case list(ListKind, tempDirectory: FilePath?)
    }

    static let flagName: FilePath = runningMarkerName

    var mode: Mode
    var source: FilePath
    var destination: FilePath
    /// Show one progress line (a person is watching a terminal).
    var progress = false
    /// Program to run; looked up on PATH.
    var executable: FilePath = "rsync"
    /// Names directly below the roots that are neither copied nor deleted,
    /// besides the marker (asd's temp directory inside a target that is a
    /// mount point of its own).
    var excludedTopNames: [FilePath] = []
    /// `--fsync` (rsync >= 3.2.4): each file written is flushed before it is
    /// renamed into place, so a power cut never commits the rename of a file
    /// whose data never reached the disk. Write-back only.
    var fsync = false
    /// `--stderr=all` (rsync >= 3.2.3): every rsync process writes its errors
    /// straight to stderr. Otherwise the receiver sends its error (e.g. "No space
    /// left on device") over the connection to the sender, which may die of the
    /// broken pipe before it prints it, leaving only "Broken pipe". Not with a
    /// progress line, which would then go to stderr as well.
    var directErrors = false
    /// RAM_ONLY and DISK_ONLY as `--exclude` rules: rsync neither sends nor, with
    /// --delete, removes what they match on the receiving side.
    var filter: ExclusionFilter = .none

    init(_ mode: Mode, from source: FilePath, to destination: FilePath, progress: Bool = false,
         executable: FilePath = "rsync", excludedTopNames: [FilePath] = []) {
        self.mode = mode
        self.source = source
        self.destination = destination
        self.progress = progress
        self.executable = executable
        self.excludedTopNames = excludedTopNames.filter { $0 != Self.flagName }
    }

    /// The full argv, executable first.
    var argv: [FilePath] {
        var args: [FilePath] = [executable, "-aAX", "--numeric-ids", "--modify-window=-1"]
        switch mode {
        case .fill:
            break
        case .writeBack(let temp):
            args += ["--delete-after", FilePath("--exclude=/").appendingBytes(Self.flagName)]
            if let temp { args.append(FilePath("--temp-dir=").appendingBytes(temp)) }
        case .list(let kind, let temp):
            args += ["--files-from=-", "--from0", FilePath("--exclude=/").appendingBytes(Self.flagName)]
            switch kind {
            case .transfer: args += ["--ignore-missing-args", "--force"]
            case .rewrite: args += ["--ignore-missing-args", "--force", "--ignore-times"]
            }
            if let temp { args.append(FilePath("--temp-dir=").appendingBytes(temp)) }
        }
        for name in excludedTopNames { args.append(FilePath("--exclude=/").appendingBytes(Self.pattern(name))) }
        for rule in filter.rsyncExcludes { args.append(FilePath("--exclude=").appendingBytes(rule)) }
        if fsync && mode != .fill { args.append("--fsync") }
        if progress { args += ["--info=progress2", "--no-inc-recursive"] } else if directErrors { args.append("--stderr=all") }
        args += ["--", Self.directory(source), Self.directory(destination)]
        return args
    }

    /// `name` as an rsync pattern matching exactly it: when it holds a wildcard
    /// character, rsync matches with wildcards and a backslash escapes, so
    /// `*`, `?`, `[` and `\\` are escaped; otherwise it is compared literally.
    static func pattern(_ name: FilePath) -> FilePath {
        let special: Set<UInt8> = [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "[")]
        guard name.bytes.contains(where: special.contains) else { return name }
        var out: [UInt8] = []
        for byte in name.bytes {
            if special.contains(byte) || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        return FilePath(bytes: out)
    }

    /// `path/` with exactly one trailing slash ("/" stays "/").
    static func directory(_ path: FilePath) -> FilePath {
        var bytes = path.bytes
        while bytes.last == FilePath.slash { bytes.removeLast() }
        bytes.append(FilePath.slash)
        return FilePath(bytes: bytes)
    }
}

extension FilePath {
    /// `self` followed by the bytes of `other`, with nothing in between.
    func appendingBytes(_ other: FilePath) -> FilePath { FilePath(bytes: bytes + other.bytes) }
}
