import Synchronization
import ASDSystem
/// The rsync engine (USE_RSYNC): every copy is an rsync subprocess.
///
/// - fill: `rsync -aAX ... disk/ tmpfs/`.
/// - full write-back: `rsync -aAX --delete-after --temp-dir ... tmpfs/ disk/`.
/// - overlay write-back: the upper layer is walked (O(changes)) and rsync is
///   given the changed names on stdin (`--files-from`): one run copies them,
///   then asd deletes what is gone (`deleteGone`), so deletions still come last.
///
/// rsync changes the metadata of a file whose content is unchanged in place
/// (chmod, chown, setxattr on the old inode). When that inode is shared with
/// the hard-link snapshot, the snapshot would change too (doc/DESIGN.md §5) and, in
/// overlay mode, the overlay's lower layer under a mounted overlay (§5.9). So
/// such files (changed since sync by their ctime, or in the upper layer; same
/// size and mtime; more than one link on disk) are first written anew by a
/// `--ignore-times` run over just them: temp file, rename, fresh inode.
public struct RsyncCopier: TreeCopier {
    public let log: any Log
    var executable: FilePath = "rsync"
    /// USE_RSYNC="always": no `untrustedDirectory` check (see RsyncTrust.swift).
    public var onEveryTree = false
    public var name: String { "rsync" }
    /// `rsync --version`, run once per copier (one asd command, or one
    /// write-back of the watcher), not once per fill, write-back and check.
    private let probedVersion = ProbedVersion()

    public init(log: any Log, executable: FilePath = "rsync", onEveryTree: Bool = false) {
        self.log = log
        self.executable = executable
        self.onEveryTree = onEveryTree
    }

    public func checkAvailable() throws(CopyError) {
        try Rsync.requireUsable(version)
    }

    public func fill(from source: FilePath, into destination: FilePath, excludedTopNames: [FilePath], filter: ExclusionFilter) throws(CopyError) -> CopyReport {
        if let untrusted = untrustedDirectory(in: [source]) {
            log.warning(Self.fallbackWarning(untrusted, copying: source))
            return try BuiltinCopier(log: log).fill(from: source, into: destination, excludedTopNames: excludedTopNames, filter: filter)
        }
        var command = RsyncCommand(.fill, from: source, to: destination, executable: executable, excludedTopNames: excludedTopNames)
        command.filter = filter
        command.directErrors = version.map { Rsync.isAtLeast($0, Rsync.stderrVersion) } ?? false
        let vanished = try run(command)
        return CopyReport(vanished: vanished)
    }

    public func writeBack(_ job: WriteBackJob) throws(CopyError) -> CopyReport {
        if let untrusted = untrustedDirectory(in: [job.source, job.destination]) {
            log.debug("Writing back \(job.source) with the built-in copier: \(untrusted) can be changed by a user other than root.")
            return try BuiltinCopier(log: log).writeBack(job)
        }
        let source = job.source, destination = job.destination
        let temp = job.tempDirectory
        if temp != nil { try job.prepareTempDirectory() }
        let excluded = job.excludedTopNames
        let version = self.version
        let fsync = version.map { Rsync.isAtLeast($0, Rsync.fsyncVersion) } ?? false
        let directErrors = version.map { Rsync.isAtLeast($0, Rsync.stderrVersion) } ?? false
        func command(_ mode: RsyncCommand.Mode) -> RsyncCommand {
            var command = RsyncCommand(mode, from: source, to: destination, executable: executable, excludedTopNames: excluded)
            command.fsync = fsync
            command.directErrors = directErrors
            command.filter = job.filter
            return command
        }
        var vanished = 0
        if let upper = job.changedOnlyIn {
            var lists = try RsyncLists.overlay(
                merged: source, upper: upper, destination: destination, excluded: Set(excluded))
            lists.filter(job.filter, source: source, destination: destination)
            if !lists.rewrite.isEmpty {
                vanished += try run(command(.list(.rewrite, tempDirectory: temp)), list: lists.rewrite)
            }
            vanished += try run(command(.list(.transfer, tempDirectory: temp)), list: lists.transfer)
            let deleted = try Self.deleteGone(lists.delete, from: destination, stillGoneFrom: source, filter: job.filter)
            return CopyReport(written: nil, bytes: nil, deleted: deleted, vanished: vanished)
        }
        let rewrite = RsyncLists.filtered(try RsyncLists.sharedAndChanged(
            source: source, destination: destination, changedSince: job.syncedAt,
            excluded: Set(excluded)), job.filter, root: source)
        if !rewrite.isEmpty {
            vanished += try run(command(.list(.rewrite, tempDirectory: temp)), list: rewrite)
        }
        vanished += try run(command(.writeBack(tempDirectory: temp)))
        return CopyReport(vanished: vanished)
    }

    /// Runs one rsync; a termination signal (passed on to rsync by the runner)
    /// is reported as such, not as rsync's exit 20.
    private func run(_ command: RsyncCommand, list: [FilePath]? = nil) throws(CopyError) -> Int {
        let during = "the copy to \(command.destination)"
        if let signal = Signals.pending.map(Signals.name) { throw .interrupted(signal: signal, during: during) }
        do throws(CopyError) {
            return try Rsync.run(command, list: list, log: log)
        } catch {
            if let signal = Signals.pending.map(Signals.name) { throw .interrupted(signal: signal, during: during) }
            throw error
        }
    }

    /// Overlay deletions, last: each listed entry (relative to both roots) that
    /// is still gone from `source` is removed from `destination`, a directory
    /// with its contents, relative to descriptors opened without following
    /// symlinks. asd does this itself: rsync's `--delete-missing-args` with
    /// `--files-from` aborts ("invalid file mode 00", protocol error) in the
    /// rsync of Debian 12 and in rsync 3.4.x; fixed in 3.5.0 (RsyncProject/rsync#910).
    /// A directory goes without what `filter` leaves out below it.
    static func deleteGone(
        _ names: [FilePath], from destination: FilePath, stillGoneFrom source: FilePath, filter: ExclusionFilter = .none
    ) throws(CopyError) -> Int {
        guard !names.isEmpty else { return 0 }
        let roots = try CopyError.attempt("open the directory", destination) { () throws(Errno) in
            (try DirectoryHandle(path: destination), try DirectoryHandle(path: source))
        }
        var deleted = 0
        var parents = Set<FilePath>()
        for relative in names {
            let components = relative.components
            guard let name = components.last else { continue }
            let parent = FilePath(components.dropLast().map(\.bytes).joined(separator: [FilePath.slash]))
            try CopyError.attempt("delete", destination.appending(relative)) { () throws(Errno) in
                if (try? roots.1.openDirectory(relative: parent).status(name)) != nil { return }  // back in the source
                let directory: DirectoryHandle
                do throws(Errno) { directory = try roots.0.openDirectory(relative: parent) } catch { if error == .noEntry { return }; throw error }
                guard let status = try? directory.status(name) else { return }
                if status.isDirectory { try filter.removeTree(name, in: directory, relative: relative) } else { try directory.remove(name) }
                deleted += 1
                parents.insert(parent)
            }
        }
        // A deletion changed its directory's mtime: give it the source's again.
        for parent in parents {
            guard let model = try? roots.1.openDirectory(relative: parent).status(),
                  let directory = try? roots.0.openDirectory(relative: parent) else { continue }
            try CopyError.attempt("set the times of", destination.appending(parent)) { () throws(Errno) in
                try directory.setTimes(".", access: model.accessTime, modification: model.modificationTime)
            }
        }
        return deleted
    }
}

extension RsyncCopier {
    /// The installed rsync's version (see `Rsync.installedVersion`), probed once.
    var version: [Int]? {
        probedVersion.value.withLock { cached in
            if let cached { return cached }
            let probed = Rsync.installedVersion(executable: executable.description)
            cached = .some(probed)
            return probed
        }
    }
}

/// A version probe's result, shared by the copies of one `RsyncCopier`.
final class ProbedVersion: Sendable {
    let value = Mutex<[Int]??>(nil)
}
