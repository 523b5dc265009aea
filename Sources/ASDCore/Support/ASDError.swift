/// The one user-facing error type. Every case renders as full sentences that
/// name the path, the reason and what the user can do next.
public enum ASDError: Error, Equatable, Sendable {
    // MARK: Invocation
    /// Unknown command or bad arguments (exit 64).
    case usage(String)
    /// sync/resync/unsync need root.
    case notRoot(command: String)
    /// A required program is not on PATH.
    case missingTool(name: String, package: String)

    // MARK: Configuration
    case configMissing(path: String)
    case configUnreadable(path: String, reason: Errno)
    /// A line of the config that is not a plain assignment.
    case configSyntax(file: String, line: Int, text: String, reason: String)
    /// A value that parses but makes no sense (e.g. BACKUP_LIMIT=abc).
    case configValue(file: String, key: String, value: String, reason: String)
    case noTargets(file: String)
    case targetMissing(path: String, file: String)
    case targetNotDirectory(path: String, file: String)
    case targetNotAbsolute(path: String, file: String)
    case duplicateTarget(path: String, file: String)
    case nestedTargets(outer: String, inner: String, file: String)
    case hardLinks(target: String, example: String, count: Int)
    case volatileMissing(path: String)
    case volatileNotTmpfs(path: String, fsType: String)
    case overlayUnsupported

    // MARK: Running
    /// A system call failed: `operation` says what asd was doing.
    case system(operation: String, path: String, errno: Errno)
    /// A subprocess failed.
    case command(argv: [String], status: String, stderr: String)
    /// Not enough room in VOLATILE for a target.
    case noSpace(volatile: String, target: String, freeBytes: UInt64, neededBytes: UInt64)
    /// A signal stopped the operation.
    case interrupted(signal: String, during: String)
    /// A crash-recovery archive could not be made or verified.
    case archiveFailed(snapshot: String, archive: String, reason: String)
    /// sync failed and was rolled back; `cause` is what went wrong.
    indirect case rolledBack(target: String, cause: ASDError)
    /// Something went wrong and could not be undone automatically.
    indirect case rollbackFailed(target: String, cause: ASDError, leftover: String)
    /// A state on disk asd does not understand; refusing to touch it.
    case unexpectedState(path: String, detail: String)
    /// resync could not write some targets back; they stay in tmpfs.
    case writeBackFailed(targets: [String])
    /// Something under VOLATILE, or where asd writes as root, that asd did not
    /// make and must not use (issue 10): `problem` says what is wrong with it.
    case unsafePath(path: String, owner: String, problem: String)

    /// Process exit status for this error.
    public var exitCode: Int32 {
        if case .usage = self { return 64 }
        return 1
    }
}

extension ASDError: CustomStringConvertible {
    public var description: String { message }

    public var message: String {
        switch self {
        case .usage(let text):
            return text
        case .notRoot(let command):
            return "asd \(command) changes mounts and must run as root. Run it with sudo, or use 'systemctl start asd'."
        case .missingTool(let name, let package):
            return "asd needs '\(name)', which is not installed or not on PATH. Install it (e.g. 'apt-get install \(package)') and try again."
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
        case .unexpectedState(let path, let detail):
            return "Refusing to touch \(path): \(detail)."
        case .writeBackFailed(let targets):
            return "Could not write \(targets.joined(separator: ", ")) back to disk; the tmpfs copies stay mounted and nothing was lost. Fix the problem above and run 'asd resync' again."
        case .unsafePath(let path, let owner, let problem):
            return "Refusing to use \(path) (owner \(owner)): it \(problem). asd makes its own directories there, root-only, and never follows what others put in their place. Check what it is, remove it (e.g. 'rm -r -- \(shellQuoted(path))') and run asd again."
        }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var result = Substring(self)
        while let last = result.last, last == "\n" || last == "\r" { result = result.dropLast() }
        return String(result)
    }
}

/// Quotes a word for display the way a shell would accept it.
public func shellQuoted(_ word: String) -> String {
    let safe = word.unicodeScalars.allSatisfy { scalar in
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", "=", ":", ",", "+", "@", "%": return true
        default: return false
        }
    }
    if safe && !word.isEmpty { return word }
    return "'" + word.replacingOccurrencesOfSingleQuote() + "'"
}

extension String {
    fileprivate func replacingOccurrencesOfSingleQuote() -> String {
        var out = ""
        for ch in self { out += ch == "'" ? "'\\''" : String(ch) }
        return out
    }
}

/// Human size in binary units, one decimal below 10: "0 B", "512 B", "1.5 KiB", "21 MiB".
public func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(bytes)
    var index = 0
    while value >= 1024 && index < units.count - 1 {
        value /= 1024
        index += 1
    }
    if index == 0 { return "\(bytes) B" }
    if value < 10 {
        let tenths = (value * 10).rounded()
        if tenths >= 100 { return "10 \(units[index])" }
        return "\(Int(tenths) / 10).\(Int(tenths) % 10) \(units[index])"
    }
    return "\(Int(value.rounded())) \(units[index])"
}
