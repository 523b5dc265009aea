/// Turns the hardlink snapshot left by a crash into
/// `parent/.base-backup_asd-crashrecovery-YYYYmmdd_HHMMSS.tar.zstd` (SPEC §3-§4).
///
/// Upstream pipes `tar cf -` through zstd into the final name, so a crash
/// or a full disk leaves a truncated archive that looks finished, and tar
/// there drops xattrs and ACLs. Here tar compresses through `zstd -q -T0`
/// itself (`-I`), keeps xattrs, ACLs and numeric owners, writes a temp name
/// in the same directory, the result is checked with `zstd -t`, fsynced,
/// renamed into place and the directory fsynced. Only when `create` returns
/// may the caller delete the snapshot.
public enum CrashArchive {
    /// Marker of the temp name: `<archive>.partial-<pid>` (see `Retention`).
    public static let partialTag = "partial"

    /// "YYYYmmdd_HHMMSS" in local time, as upstream's `date +%Y%m%d_%H%M%S`.
    public static func stamp(for time: Int = LocalTime.now()) -> String {
        LocalTime.format(time, "%Y%m%d_%H%M%S")
    }

    /// The tar command line: archive `snapshot` (as its base name, relative
    /// to its parent) into `output`, compressed by zstd.
    public static func tarArguments(snapshot: FilePath, output: FilePath) -> [FilePath] {
        [
            "tar", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner",
            "-I", "zstd -q -T0",
            "-C", snapshot.directory,
            "-cf", output,
            "--", snapshot.lastComponent,
        ]
    }

    /// Archives `snapshot` to `archivePath` durably. Throws
    /// `ASDError.archiveFailed` (nothing left behind but the snapshot) when
    /// tar or the check fails, the name is taken, or flushing fails.
    public static func create(snapshot: FilePath, archivePath: FilePath, log: Log) throws(ASDError) {
        let temp = FileOps.temporarySibling(of: archivePath, tag: partialTag)
        func fail(_ reason: String) -> ASDError {
            try? FileOps.unlink(temp)
            return ASDError.archiveFailed(snapshot: snapshot, archive: archivePath, reason: reason)
        }
        let existing: FileStatus?
        do throws(Errno) {
            existing = try FileOps.statusIfExists(archivePath)
        } catch {
            throw ASDError.archiveFailed(snapshot: snapshot, archive: archivePath, reason: "cannot check the name: \(error)")
        }
        if existing != nil {
            throw ASDError.archiveFailed(
                snapshot: snapshot, archive: archivePath, reason: "a file of that name already exists")
        }
        try? FileOps.unlink(temp)  // a leftover of an earlier run of this pid

        log.debug("Archiving \(snapshot) to \(archivePath)")
        let tar = tarArguments(snapshot: snapshot, output: temp)
        let archived: ProcessResult
        do {
            archived = try Subprocess.run(tar)
        } catch {
            throw fail("tar could not be started: \(error.message)")
        }
        guard archived.status.isSuccess else {
            throw fail(describe(archived))
        }

        let verified: ProcessResult
        do {
            verified = try Subprocess.run(["zstd", "-t", "-q", temp])
        } catch {
            throw fail("zstd could not be started: \(error.message)")
        }
        guard verified.status.isSuccess else {
            throw fail("the archive did not pass 'zstd -t': " + describe(verified))
        }

        do throws(Errno) {
            try FileOps.fsyncFile(temp)
            try FileOps.rename(temp, to: archivePath)
        } catch {
            throw fail("could not store it: \(error)")
        }
        do throws(Errno) {
            try FileOps.fsyncDirectory(archivePath.directory)
        } catch {
            // The archive is complete under its final name; only the rename
            // may not be durable yet. Keep it, but let the caller keep the snapshot.
            throw ASDError.archiveFailed(
                snapshot: snapshot, archive: archivePath, reason: "could not flush its directory: \(error)")
        }
        log.debug("Archived \(snapshot) (\(formatBytes((try? FileOps.status(archivePath).size).map { UInt64($0) } ?? 0)))")
    }

    /// The archive name for now, or for the next second whose name is free: two
    /// recoveries within one second (a crash right after a recovery) must not
    /// fail on "a file of that name already exists".
    public static func freeName(for paths: TargetPaths, now: Int = LocalTime.now()) -> FilePath {
        var time = now
        var archive = paths.archive(stamp: stamp(for: time))
        while FileOps.exists(archive) {
            time += 1
            archive = paths.archive(stamp: stamp(for: time))
        }
        return archive
    }

    /// "tar: exit status 2: <its stderr>".
    private static func describe(_ result: ProcessResult) -> String {
        let stderr = result.standardError.trimmingTrailingNewlines()
        return "\(result.argv.first ?? "command") \(result.status)" + (stderr.isEmpty ? "" : ": " + stderr)
    }
}
