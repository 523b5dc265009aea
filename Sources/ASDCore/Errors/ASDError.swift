import ASDCopy
import ASDSystem
/// The one user-facing error type. Every case renders as full sentences that
/// name the path, the reason and what the user can do next.
enum ASDError: Error, Equatable, Sendable {
    // MARK: Invocation
    /// Unknown command or bad arguments (exit 64).
    case usage(String)
    /// sync/resync/unsync need root.
    case notRoot(command: String)
    /// A required program is not on PATH.
    case missingTool(name: String, package: String)
    /// A config key needs a program that is missing (`found` nil) or older than `needed`.
    case toolTooOld(name: String, package: String, found: String?, needed: String, key: String)

    // MARK: Configuration
    case configMissing(path: FilePath)
    case configUnreadable(path: FilePath, reason: Errno)
    /// A line of the config that is not a plain assignment.
    case configSyntax(file: FilePath, line: Int, text: String, reason: String)
    /// A value that parses but makes no sense (e.g. BACKUP_LIMIT=abc).
    case configValue(file: FilePath, key: String, value: String, reason: String)
    case noTargets(file: FilePath)
    case targetMissing(path: FilePath, file: FilePath)
    case targetNotDirectory(path: FilePath, file: FilePath)
    case targetNotAbsolute(path: FilePath, file: FilePath)
    case duplicateTarget(path: FilePath, file: FilePath)
    case nestedTargets(outer: FilePath, inner: FilePath, file: FilePath)
    case hardLinks(target: FilePath, example: FilePath, count: Int)
    case volatileMissing(path: FilePath)
    case volatileNotTmpfs(path: FilePath, fsType: String)
    case overlayUnsupported
    /// The target itself is a symlink (to `destination`).
    case targetIsSymlink(path: FilePath, destination: FilePath, file: FilePath)
    /// A directory on the way to the target is a symlink.
    case symlinkInTargetPath(target: FilePath, link: FilePath, destination: FilePath, resolved: FilePath?, file: FilePath)
    /// A file system is mounted inside the target (refused: doc/DESIGN.md §4).
    case mountInsideTarget(target: FilePath, mountPoint: FilePath, fsType: String, file: FilePath)

    // MARK: Running
    /// A system call failed: `operation` says what asd was doing.
    case system(operation: String, path: FilePath, errno: Errno)
    /// A subprocess failed.
    case command(argv: [String], status: String, stderr: String)
    /// Not enough room in VOLATILE for a target.
    case noSpace(volatile: FilePath, target: FilePath, freeBytes: UInt64, neededBytes: UInt64)
    /// A signal stopped the operation.
    case interrupted(signal: String, during: String)
    /// A crash-recovery archive could not be made or verified.
    case archiveFailed(snapshot: FilePath, archive: FilePath, reason: String)
    /// sync failed and was rolled back; `cause` is what went wrong.
    indirect case rolledBack(target: String, cause: ASDError)
    /// Something went wrong and could not be undone automatically.
    indirect case rollbackFailed(target: String, cause: ASDError, leftover: String)
    /// A state on disk asd does not understand; refusing to touch it.
    case unexpectedState(path: FilePath, detail: String)
    /// unsync wrote these targets back but could not finish putting them on disk.
    case putBackFailed(targets: [FilePath])
    /// A bug in asd itself (never the user's input; exit 1, not 64).
    case internalError(String)
    /// The file system holding a target's disk copy is full or read-only.
    case diskCannotTakeWrite(target: FilePath, diskCopy: FilePath, mountPoint: FilePath, path: FilePath, errno: Errno)
    /// A file in the target cannot be hard-linked into the snapshot (EPERM).
    case snapshotLinkRefused(target: FilePath, path: FilePath)
    /// resync could not write some targets back; they stay in tmpfs.
    case writeBackFailed(targets: [FilePath])

    /// The one conversion of a system call's `Errno` into the user-facing
    /// error: runs `body` and, when it throws, reports "Could not
    /// <operation> <path>: <reason>."
    static func attempt<T>(
        _ operation: String, _ path: FilePath, _ body: () throws(Errno) -> T
    ) throws(ASDError) -> T {
        do throws(Errno) {
            return try body()
        } catch {
            throw ASDError.system(operation: operation, path: path, errno: error)
        }
    }
    /// Something under VOLATILE, or where asd writes as root, that asd did not
    /// make and must not use (doc/DESIGN.md §7): `problem` says what is wrong with it.
    case unsafePath(path: FilePath, owner: String, problem: String)
    /// The walk to a target's parent would step from a directory (or symlink)
    /// `fromOwner` owns into `path`, which `owner` owns (SafePath's rule).
    case crossOwnerStep(path: FilePath, owner: String, fromOwner: String)
    /// Something at a name asd uses beside `target` (its disk copy or snapshot,
    /// in the target's parent, which its owner can write) that asd did not make:
    /// a symlink, a non-directory, a replaced directory. Never followed or removed.
    case plantedBesideTarget(path: FilePath, owner: String, problem: String, target: FilePath)

    /// Process exit status for this error.
    var exitCode: Int32 {
        if case .usage = self { return 64 }
        return 1
    }
}

extension ASDError: CustomStringConvertible {
    var description: String { message }

    var message: String {
        switch self {
        case .usage(let text):
            return text
        case .notRoot(let command):
            return "asd \(command) changes mounts and must run as root. Run it with sudo, or use 'systemctl start asd'."
        case .missingTool(let name, let package):
            return "asd needs '\(name)', which is not installed or not on PATH. Install it (e.g. 'apt-get install \(package)') and try again."
        case .toolTooOld(let name, let package, let found, let needed, let key):
            let have = found.map { "this system has \(name) \($0)" } ?? "\(name) is not installed or not on PATH"
            return "\(key) is set, so asd copies with \(name) \(needed) or newer (for nanosecond time comparison), but \(have). Install or upgrade the package '\(package)' (e.g. 'apt-get install \(package)') or set \(key)=no; nothing was changed."
        case .configMissing(let path):
            return "Cannot find the config file \(path). Create it (the package ships a commented example as /etc/asd.conf) or point ASDCONF at your config."
        case .configUnreadable(let path, let reason):
            return "Cannot read the config file \(path): \(reason). Check its permissions."
        case .configSyntax(let file, let line, let text, let reason):
            return "\(file):\(line): \(reason): \(text)\nasd reads its config as plain assignments and never runs it. Fix that line and try again; nothing was changed."
        case .configValue(let file, let key, let value, let reason):
            return "\(file): \(key)=\(value) is not valid: \(reason). Fix it and try again; nothing was changed."
        case .noTargets(let file):
            return "No directories to manage: WHATTOSYNC in \(file) is empty. Add at least one absolute directory path, e.g. WHATTOSYNC=('/var/lib/monitorix')."
        case .targetMissing(let path, let file):
            return "The sync target \(path) (WHATTOSYNC in \(file)) does not exist. Create it or remove it from the list and try again."
        case .targetNotDirectory(let path, let file):
            return "The sync target \(path) (WHATTOSYNC in \(file)) is not a directory. asd manages directories only; fix the entry and try again."
        case .targetNotAbsolute(let path, let file):
            return "The sync target '\(path)' (WHATTOSYNC in \(file)) is not an absolute path. Write it starting with '/'."
        case .duplicateTarget(let path, let file):
            return "The sync target \(path) is listed twice in WHATTOSYNC in \(file). Remove one entry."
        case .nestedTargets(let outer, let inner, let file):
            return "The sync targets \(outer) and \(inner) (WHATTOSYNC in \(file)) are nested; asd cannot manage a directory inside another managed directory. Keep only \(outer)."
        case .hardLinks(let target, let example, let count):
            return "The sync target \(target) contains \(count) hard-linked file(s), e.g. \(example); asd would break those links. Remove the links or set ENABLE_HARDLINK_SAFETY_CHECK=0 to accept that."
        case .volatileMissing(let path):
            return "VOLATILE=\(path) does not exist. Create it as a tmpfs mount or set VOLATILE to one (default /tmp)."
        case .volatileNotTmpfs(let path, let fsType):
            return "VOLATILE=\(path) is on \(fsType), not tmpfs or zram, so keeping copies there would not spare the disk. Set VOLATILE to a tmpfs such as /tmp or /dev/shm, or mount tmpfs there."
        case .overlayUnsupported:
            return "USE_OVERLAYFS is set but this kernel has no overlay filesystem. Load it ('modprobe overlay') or set USE_OVERLAYFS=no."
        case .targetIsSymlink(let path, let destination, let file):
            return "The sync target \(path) (WHATTOSYNC in \(file)) is a symlink to \(destination), not a directory. asd would hide the link, not its directory; list the directory it points to instead."
        case .symlinkInTargetPath(let target, let link, let destination, let resolved, let file):
            let hint = resolved.map { " Write the real path, \($0), in WHATTOSYNC instead." } ?? ""
            return "The path of the sync target \(target) (WHATTOSYNC in \(file)) goes through the symlink \(link) -> \(destination). asd keeps its disk copy and snapshot beside the target and refuses paths through symlinks, which can change under it.\(hint)"
        case .mountInsideTarget(let target, let mountPoint, let fsType, let file):
            return "The sync target \(target) (WHATTOSYNC in \(file)) has a file system mounted inside it: \(mountPoint) (\(fsType)). asd refuses targets with mounts inside, because copying through them would overwrite the directory beneath the mount. Unmount it, mount it elsewhere, or list the directories beside it as targets instead."
        case .system(let operation, let path, let errno):
            return "Could not \(operation) \(path): \(errno)."
        case .command(let argv, let status, let stderr):
            let trimmed = stderr.trimmingTrailingNewlines()
            let shown = argv.map(shellQuoted).joined(separator: " ")
            return "Command failed (\(status)): \(shown)" + (trimmed.isEmpty ? "" : "\n\(trimmed)")
        case .noSpace(let volatile, let target, let freeBytes, let neededBytes):
            return "VOLATILE \(volatile) has \(formatBytes(freeBytes)) free but \(target) needs \(formatBytes(neededBytes)). Make the tmpfs larger (e.g. 'mount -o remount,size=...'), pick another VOLATILE, or enable USE_OVERLAYFS."
        case .interrupted(let signal, let during):
            return "Stopped by \(signal) during \(during)."
        case .archiveFailed(let snapshot, let archive, let reason):
            return "Could not archive the crash-recovery snapshot \(snapshot) to \(archive): \(reason). The snapshot was kept; free some disk space and run asd again."
        case .rolledBack(let target, let cause):
            return "\(cause.message)\nSync of \(target) was rolled back: it is on disk as before and nothing is mounted."
        case .rollbackFailed(let target, let cause, let leftover):
            return "\(cause.message)\nRolling back \(target) failed too: \(leftover). Your data is safe on disk; check 'findmnt' and run 'asd unsync' or reboot."
        case .putBackFailed(let targets):
            return "\(targets.map(\.description).joined(separator: ", ")) was written back to disk, but putting it back in place did not finish (see the warnings above). Its data is on disk; fix the problem above, then the next 'asd sync' cleans up what is left."
        case .internalError(let detail):
            return "Internal error: \(detail). Please report this as a bug in asd."
        case .unexpectedState(let path, let detail):
            return "Refusing to touch \(path): \(detail)."
        case .diskCannotTakeWrite(let target, let diskCopy, let mountPoint, let path, let errno):
            let fix = errno == .readOnlyFileSystem
                ? "It is mounted read-only; remount it read-write (e.g. 'mount -o remount,rw \(mountPoint)')"
                : "Free space there (see 'df -h \(mountPoint)')"
            return "Could not write \(target) back to disk: \(errno) (at \(path)). Its disk copy \(diskCopy) is on the file system mounted at \(mountPoint). \(fix), then run 'asd resync' again."
        case .snapshotLinkRefused(let target, let path):
            return "Could not hard-link \(path) into the snapshot of \(target): Operation not permitted. Files marked immutable (chattr +i) or append-only (chattr +a) cannot be hard-linked, so asd cannot snapshot this target. Find them with 'lsattr -R \(target) 2>/dev/null | grep -E \"^[^ ]*[ia]\"' and clear the flag ('chattr -i' or 'chattr -a'), or move those files out of the target."
        case .writeBackFailed(let targets):
            return "Could not write \(targets.map(\.description).joined(separator: ", ")) back to disk; the tmpfs copies stay mounted and nothing was lost. Fix the problem above and run 'asd resync' again."
        case .crossOwnerStep(let path, let owner, let fromOwner):
            return "Refusing to use \(path) (owner \(owner)): it is reached through a directory or symlink that \(fromOwner) owns, and \(fromOwner) could swap it for a symlink to redirect asd, which runs as root. asd steps from a user's directory only into that user's own files. If the layout is meant to be so, make the directory above it root's ('chown root: \(shellQuoted(path.directory.description))'), or give \(path) to \(fromOwner)."
        case .unsafePath(let path, let owner, let problem):
            return "Refusing to use \(path) (owner \(owner)): it \(problem). asd makes its own directories there, root-only, and never follows what others put in their place. Check what it is, remove it (e.g. 'rm -r -- \(shellQuoted(path.description))') and run asd again."
        case .plantedBesideTarget(let path, let owner, let problem, let target):
            let quoted = shellQuoted(path.description)
            return "Refusing to use \(path) (owner \(owner)): it \(problem) of \(target). asd never follows, changes or deletes what others put there, and \(target) stays on disk as it is. Check what it is, move it out of the way (e.g. 'mv -- \(quoted) \(shellQuoted(path.description + ".moved"))') and run asd again."
        }
    }
}
