import ASDCopy
import ASDSystem
/// Turns the hardlink snapshot left by a crash into
/// `parent/.base-backup_asd-crashrecovery-YYYYmmdd_HHMMSS.tar.zstd` (doc/DESIGN.md §3, §4).
///
/// Upstream pipes `tar cf -` through zstd into the final name, so a crash
/// or a full disk leaves a truncated archive that looks finished, and tar
/// there drops xattrs and ACLs. Here tar compresses through `zstd -q -T0`
/// itself (`-I`) and keeps xattrs, ACLs and numeric owners; the result is
/// checked with `zstd -t`, fsynced, renamed into place and the directory fsynced.
/// Only when `create` returns may the caller delete the snapshot.
///
/// The parent usually belongs to the target's owner, who may put anything
/// there at any moment (doc/DESIGN.md §7). So asd never hands tar or zstd a path in
/// it: the parent is opened once (`SafePath`), asd itself creates the temp
/// file there with openat(2) O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 (never
/// readable by others, not even while it is written), and tar runs in the
/// snapshot's parent by descriptor (fchdir) writing to that file's descriptor.
/// tar archives the snapshot without -h: symlinks in it are stored as links,
/// never followed, and files are opened O_NOFOLLOW.
enum CrashArchive {
    /// Marker of the temp name: `<archive>.partial-<pid>` (see `Retention`).
    static let partialTag = "partial"

    /// "YYYYmmdd_HHMMSS" in local time, as upstream's `date +%Y%m%d_%H%M%S`.
    static func stamp(for time: Int = LocalTime.now()) -> String {
        LocalTime.format(time, "%Y%m%d_%H%M%S")
    }

    /// The tar command line: archive `snapshotName` (relative to tar's working
    /// directory, the snapshot's parent) to stdout, compressed by zstd.
    static func tarArguments(snapshotName: FilePath) -> [FilePath] {
        [
            "tar", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner",
            "-I", "zstd -q -T0", "-cf", "-", "--", snapshotName,
        ]
    }

    /// Archives `snapshot` to `archivePath` durably. Throws
    /// `ASDError.archiveFailed` (nothing left behind but the snapshot) when
    /// tar or the check fails, the name is taken, or flushing fails.
    static func create(snapshot: FilePath, archivePath: FilePath, log: Log) throws(ASDError) {
        let name = archivePath.lastComponent
        let tempName = FileOps.temporarySibling(of: name, tag: partialTag)
        func failure(_ reason: String) -> ASDError {
            ASDError.archiveFailed(snapshot: snapshot, archive: archivePath, reason: reason)
        }
        let directory: DirectoryHandle
        let sourceDirectory: DirectoryHandle
        do throws(ASDError) {
            directory = try RecoveryOps.openParent(of: archivePath)
            sourceDirectory = snapshot.directory == archivePath.directory
                ? directory : try RecoveryOps.openParent(of: snapshot)
        } catch {
            throw failure(error.message)
        }
        let taken: Bool
        do throws(Errno) {
            _ = try directory.status(name)
            taken = true
        } catch {
            if error != .noEntry { throw failure("cannot check the name: \(error)") }
            taken = false
        }
        if taken { throw failure("a file of that name already exists") }
        try? directory.remove(tempName)  // a leftover of an earlier run of this pid (unlinkat: never followed)

        let fd: Int32
        do throws(Errno) {
            fd = try directory.createExclusive(tempName, mode: 0o600)
        } catch {
            throw failure("could not create \(tempName) there: \(error)")
        }
        defer { FileOps.closeDescriptor(fd) }
        func fail(_ reason: String) -> ASDError {
            try? directory.remove(tempName)
            return failure(reason)
        }

        log.debug("Archiving \(snapshot) to \(archivePath)")
        let archived: ProcessResult
        do {
            archived = try Subprocess.run(
                tarArguments(snapshotName: snapshot.lastComponent), in: sourceDirectory, writingTo: fd)
        } catch {
            throw fail("tar could not be started: \(error.message)")
        }
        if let changed = changedWhileRead(archived) {
            log.warning("While \(snapshot) was archived, tar saw files change (\(changed)); the archive holds them as tar read them. The snapshot shares its files with the disk copy, so something wrote to \(snapshot.directory) during the recovery.")
        } else if !archived.status.isSuccess {
            throw fail(describe(archived))
        }

        // zstd reads the archive through our descriptor (a fresh open of it, at offset 0).
        let verified: ProcessResult
        do {
            verified = try Subprocess.run(["zstd", "-t", "-q"], standardInput: .file("/proc/self/fd/\(fd)"))
        } catch {
            throw fail("zstd could not be started: \(error.message)")
        }
        guard verified.status.isSuccess else {
            throw fail("the archive did not pass 'zstd -t': " + describe(verified))
        }

        do throws(Errno) {
            try FileOps.fsyncDescriptor(fd)
            try directory.rename(tempName, to: directory, as: name)
        } catch {
            throw fail("could not store it: \(error)")
        }
        do throws(Errno) {
            try directory.sync()
        } catch {
            // The archive is complete under its final name; only the rename
            // may not be durable yet. Keep it, but let the caller keep the snapshot.
            throw failure("could not flush its directory: \(error)")
        }
        log.debug("Archived \(snapshot) (\(formatBytes(UInt64(max(0, (try? FileOps.descriptorStatus(fd).size) ?? 0)))))")
    }

    /// The archive name for now, or for the next second whose name is free: two
    /// recoveries within one second (a crash right after a recovery) must not
    /// fail on "a file of that name already exists".
    static func freeName(for paths: TargetPaths, now: Int = LocalTime.now()) -> FilePath {
        var time = now
        var archive = paths.archive(stamp: stamp(for: time))
        while FileOps.exists(archive) {
            time += 1
            archive = paths.archive(stamp: stamp(for: time))
        }
        return archive
    }

    /// GNU tar's exit status 1 ("some files differ") with nothing but files that
    /// changed or vanished while they were read: the archive is whole, those files
    /// as tar read them. Returns tar's lines about them, or nil for anything else.
    static func changedWhileRead(_ result: ProcessResult) -> String? {
        guard result.status == .exited(1) else { return nil }
        let lines = result.standardError.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let benign = ["file changed as we read it", "File removed before we read it", "file changed as we read it (or moved)"]
        guard !lines.isEmpty, lines.allSatisfy({ line in benign.contains { line.hasSuffix($0) } }) else { return nil }
        return lines.map { $0.hasPrefix("tar: ") ? String($0.dropFirst(5)) : $0 }.joined(separator: "; ")
    }

    /// "tar: exit status 2: <its stderr>".
    private static func describe(_ result: ProcessResult) -> String {
        let stderr = result.standardError.trimmingTrailingNewlines()
        return "\(result.argv.first ?? "command") \(result.status)" + (stderr.isEmpty ? "" : ": " + stderr)
    }
}
