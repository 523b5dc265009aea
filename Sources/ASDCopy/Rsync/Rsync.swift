import ASDSystem
/// Runs `RsyncCommand`s through the subprocess runner (posix_spawn; SIGTERM
/// and SIGINT received by asd are passed on to rsync) and reads their exit status.
enum Rsync {
    /// The oldest rsync with `--modify-window=-1` (nanosecond comparison).
    static let minimumVersion = [3, 1, 3]

    /// rsync's "some files vanished before they could be transferred".
    static let vanishedExitCode: Int32 = 24
    /// "Some files/attrs were not transferred".
    static let partialExitCode: Int32 = 23

    /// "3.2.7" from the first line of `rsync --version`
    /// ("rsync  version 3.2.7  protocol version 31"), as numbers.
    static func version(fromVersionOutput text: String) -> [Int]? {
        let firstLine = text.prefix { $0 != "\n" }
        let words = firstLine.split(separator: " ")
        guard words.count >= 3, words[0] == "rsync", words[1] == "version" else { return nil }
        let digits = words[2].prefix { $0.isNumber || $0 == "." }
        let parts = digits.split(separator: ".").compactMap { Int($0) }
        return parts.isEmpty ? nil : parts
    }

    /// The first rsync with `--fsync` (each file flushed before its rename).
    static let fsyncVersion = [3, 2, 4]
    /// The first rsync with `--stderr=all`.
    static let stderrVersion = [3, 2, 3]

    /// The version of `executable`, from `rsync --version`: nil when it is
    /// missing or does not run, `[]` when it says no version.
    static func installedVersion(executable: String = "rsync") -> [Int]? {
        guard Subprocess.which(executable) != nil,
              let result = try? Subprocess.execute([FilePath(executable), "--version"], captureOutput: true),
              result.status.isSuccess else { return nil }
        return version(fromVersionOutput: result.outputText) ?? []
    }

    /// True when `version` is at least `minimum`.
    static func isAtLeast(_ version: [Int], _ minimum: [Int]) -> Bool {
        let padded = version + Array(repeating: 0, count: max(0, minimum.count - version.count))
        return !padded.lexicographicallyPrecedes(minimum)
    }

    static func isNewEnough(_ version: [Int]) -> Bool { isAtLeast(version, minimumVersion) }

    /// Throws `toolTooOld` unless `version` (nil: rsync is missing or does not
    /// run; `[]`: it says no version) is at least 3.1.3.
    static func requireUsable(_ version: [Int]?) throws(CopyError) {
        let needed = minimumVersion.map(String.init).joined(separator: ".")
        func refuse(_ found: String?) -> CopyError { .toolTooOld(name: "rsync", found: found, needed: needed) }
        guard let version else { throw refuse(nil) }
        if version.isEmpty { throw refuse("of unknown version") }
        if !isNewEnough(version) { throw refuse(version.map(String.init).joined(separator: ".")) }
    }

    /// rsync -A/-X exits 23, not 24, when a source file vanishes between its
    /// stat and the read of its ACL or xattrs (`rsync: [sender] get_acl:
    /// sys_acl_get_file(x, ...): No such file or directory (2)`). True when
    /// every line of `stderr` is of that kind, a "file has vanished" note or
    /// rsync's closing summary: nothing failed but sources that are gone. A
    /// missing source root ("[sender] change_dir ... failed") or any error on
    /// the receiving side never qualifies.
    static func onlyVanishedSources(stderr: String) -> Bool {
        let lines = stderr.split(separator: "\n").filter { !$0.isEmpty }
        return lines.contains(where: vanishedWhileRead) && lines.allSatisfy { line in
            line.hasPrefix("file has vanished: ")
                || vanishedWhileRead(line)
                || line.hasPrefix("rsync error: some files/attrs were not transferred")
                || line.hasPrefix("rsync warning: some files vanished")
        }
    }

    private static func vanishedWhileRead(_ line: Substring) -> Bool {
        let readers = ["rsync: [sender] get_acl: ", "rsync: [sender] rsync_xal_get: ", "rsync: [sender] get_xattr"]
        return readers.contains { line.hasPrefix($0) } && line.hasSuffix(": No such file or directory (2)")
    }

    /// How many source entries vanished, by rsync's stderr.
    static func vanishedCount(stderr: String) -> Int {
        stderr.split(separator: "\n").filter { $0.hasPrefix("file has vanished: ") || vanishedWhileRead($0) }.count
    }

    /// Reads a finished run: exit 0 is success; 24, and 23 when only vanished
    /// sources caused it, are success with vanished entries; anything else (or
    /// a signal) is `CopyError.command` with the command line, the status and
    /// rsync's stderr. Returns the number of vanished entries.
    static func outcome(of result: ProcessResult) throws(CopyError) -> Int {
        switch result.status {
        case .exited(0):
            return 0
        case .exited(vanishedExitCode):
            return max(1, vanishedCount(stderr: result.standardError))
        case .exited(partialExitCode) where onlyVanishedSources(stderr: result.standardError):
            return max(1, vanishedCount(stderr: result.standardError))
        default:
            throw CopyError.command(argv: result.argv.map(\.description), status: result.status.description, stderr: result.standardError)
        }
    }

    /// Runs `command`, with `list` as its stdin for a list mode. With
    /// `log.showsProgress` rsync's progress line goes to our stdout; otherwise
    /// its stdout is discarded (nothing reaches the journal).
    static func run(_ command: RsyncCommand, list: [FilePath]? = nil, log: any Log) throws(CopyError) -> Int {
        var effective = command
        effective.progress = log.showsProgress
        let argv = effective.argv
        log.debug("Running: " + argv.map { shellQuoted($0.description) }.joined(separator: " ")
            + (list.map { " <<< \($0.count) names" } ?? ""))
        var input = StandardInput.nullDevice
        var file: AnonymousFile?
        if let list {
            var bytes: [UInt8] = []
            for name in list { bytes += name.bytes + [0] }
            do throws(Errno) {
                file = try AnonymousFile(name: "asd-rsync-files-from", bytes: bytes)
            } catch {
                throw .system(operation: "create the list of names for rsync for", path: command.source, errno: error)
            }
            input = .fileDescriptor(file!.fd)
        }
        let result: ProcessResult
        do throws(SubprocessFailure) {
            result = try Subprocess.execute(argv, standardInput: input, outputPassthrough: effective.progress)
        } catch {
            throw CopyError(error)
        }
        withExtendedLifetime(file) {}
        return try outcome(of: result)
    }
}
