import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// Failures of single system calls in the copy and write-back paths, injected
/// through ASDSystem's syscall layer (`SyscallFaults`; doc/DESIGN.md, "Test
/// rigs"): no root, no full disk, no strace. Every test also checks that the
/// fault was really hit, so none can pass by not reaching the call.
@Suite("Syscall faults")
struct SyscallFaultTests {
    typealias Manifest = [String: TreeMirrorTests.Entry]

    /// src and its copy dst (`.fill`), then src changed: one file rewritten,
    /// one added, one removed. Returns dst's manifest before the write-back.
    static func changedSource(_ dir: RecoveryScratch) throws -> Manifest {
        try TreeMirrorTests.makeFilledCopy(dir)
        let before = try TreeMirrorTests.manifest(dir["dst"])
        try dir.write("src/a/hello.txt", "hello again, and longer")
        try dir.write("src/new-file", String(repeating: "n", count: 70_000))
        try FileOps.unlink(dir["src/empty-file"])
        return before
    }

    /// Runs `body` with `faults` active; returns the `CopyError` it threw.
    static func failure(_ faults: SyscallFaults, _ body: () throws -> Void) throws -> CopyError {
        do {
            try faults.activate(body)
        } catch let error as CopyError {
            return error
        }
        Issue.record("the copy succeeded despite the injected fault")
        throw CopyError.command(argv: [], status: "succeeded", stderr: "")
    }

    static func errno(of error: CopyError) -> Errno? {
        if case .system(_, _, let errno) = error { return errno }
        return nil
    }

    /// No temp copy (`.asd-tmp-*`) is left anywhere under `root`.
    static func expectNoTempFiles(_ root: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let names = try TreeMirrorTests.manifest(root).keys.filter { $0.split(separator: "/").last?.hasPrefix(".asd-tmp-") == true }
        #expect(names.isEmpty, "temp files left: \(names.sorted())", sourceLocation: sourceLocation)
    }

    @Test("ENOSPC mid-fill: the error names the full disk, no file is left half-written")
    func fullDiskDuringFill() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try TreeMirrorTests.makeSource(dir)
        try dir.mkdir("dst", mode: 0o700)
        let faults = SyscallFaults()
        faults.fail(.copyFileRange, with: .noSpace, after: 2)
        let error = try Self.failure(faults) { _ = try TreeMirrorTests.mirror(dir, .fill) }
        #expect(faults.injectedCount(.copyFileRange) == 1)
        #expect(Self.errno(of: error) == .noSpace)
        #expect(ASDError(error).message.contains(Errno.noSpace.description))
        // Whatever was copied is complete: every regular file in dst equals its source.
        let source = try TreeMirrorTests.manifest(dir["src"])
        for (name, entry) in try TreeMirrorTests.manifest(dir["dst"]) where entry.type == .regular {
            #expect(source[name]?.content == entry.content, "\(name) is not the source's content")
        }
    }

    @Test("ENOSPC during a write-back: the disk copy stays exactly as it was, no temp file is left")
    func fullDiskDuringWriteBack() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let before = try Self.changedSource(dir)
        let faults = SyscallFaults()
        faults.fail(.copyFileRange, with: .noSpace)
        let error = try Self.failure(faults) { _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"])) }
        #expect(faults.injectedCount(.copyFileRange) == 1)
        #expect(Self.errno(of: error) == .noSpace)
        let after = try TreeMirrorTests.manifest(dir["dst"])
        #expect(after.filter { $0.value.type == .regular } == before.filter { $0.value.type == .regular })
        #expect(try FileOps.listDirectory(dir["tmp"]).isEmpty)
        try Self.expectNoTempFiles(dir["dst"])
    }

    @Test("EXDEV from copy_file_range: the copy falls back to sendfile and read/write, byte-exact")
    func crossDeviceFallsBack() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try TreeMirrorTests.makeSource(dir)
        try dir.mkdir("dst", mode: 0o700)
        let faults = SyscallFaults()
        faults.fail(.copyFileRange, with: .crossDevice, times: .max)
        faults.fail(.sendfile, with: .invalid, after: 3, times: .max)
        try faults.activate { _ = try TreeMirrorTests.mirror(dir, .fill) }
        #expect(faults.injectedCount(.copyFileRange) > 3 && faults.injectedCount(.sendfile) > 0)
        try TreeMirrorTests.expectSame(dir)
    }

    @Test("EXDEV renaming a temp copy into place: an error naming it; each file is whole, old or new")
    func crossDeviceRename() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let before = try Self.changedSource(dir)
        let faults = SyscallFaults()
        faults.fail(.rename, with: .crossDevice)
        let error = try Self.failure(faults) { _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"])) }
        #expect(faults.injectedCount(.rename) == 1)
        #expect(Self.errno(of: error) == .crossDevice)
        guard case .system(let operation, _, _) = error else { return }
        #expect(operation.hasPrefix("rename"))
        try Self.expectOldOrNew(dir, before: before)
    }

    /// Every regular file of dst has its old or its new content, none is torn;
    /// the temp dir holds only redo journals (kept until the write-back's final
    /// flush: small changes are made in place once their journal is durable).
    static func expectOldOrNew(
        _ dir: RecoveryScratch, before: Manifest, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let source = try TreeMirrorTests.manifest(dir["src"])
        for (name, entry) in try TreeMirrorTests.manifest(dir["dst"]) where entry.type == .regular {
            #expect(entry.content == before[name]?.content || entry.content == source[name]?.content,
                    "\(name) is torn", sourceLocation: sourceLocation)
        }
        let temp = try FileOps.listDirectory(dir["tmp"]).filter { !$0.hasSuffix(RedoReplay.suffix) }
        #expect(temp.isEmpty, "left in the temp dir: \(temp)", sourceLocation: sourceLocation)
        try expectNoTempFiles(dir["dst"], sourceLocation: sourceLocation)
    }

    @Test("EINTR from every call of the copy is retried; the copy is exact", arguments: [
        Syscall.read, .write, .copyFileRange, .sendfile, .open, .rename, .syncfs, .changeOwner, .changeMode, .setTimes,
    ])
    func interruptedCallsAreRetried(_ call: Syscall) throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        _ = try Self.changedSource(dir)
        let faults = SyscallFaults()
        // read, write and sendfile are reached only once copy_file_range gave up.
        if [.read, .write, .sendfile].contains(call) { faults.fail(.copyFileRange, with: .crossDevice, times: .max) }
        if [.read, .write].contains(call) { faults.fail(.sendfile, with: .invalid, times: .max) }
        faults.fail(call, with: .interrupted, times: 3)
        try faults.activate { _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"])) }
        #expect(faults.injectedCount(call) == 3)
        try TreeMirrorTests.expectSame(dir)
    }

    @Test("EIO flushing the temp copies: nothing is renamed over the disk copy, nothing deleted")
    func failedFlushRenamesNothing() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let before = try Self.changedSource(dir)
        let faults = SyscallFaults()
        faults.fail(.syncfs, with: .ioError)
        let error = try Self.failure(faults) { _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"])) }
        #expect(faults.injectedCount(.syncfs) == 1)
        #expect(Self.errno(of: error) == .ioError)
        // The new file could only arrive by a rename.
        #expect(try FileOps.statusIfExists(dir["dst/new-file"]) == nil)
        #expect(try FileOps.status(dir["dst/empty-file"]).isRegular, "deletions come after the renames")
        try Self.expectOldOrNew(dir, before: before)
    }

    // MARK: Delta write-back (changed blocks in place, through the redo journal)

    static let rrd = DeltaWriteBackTests.data(300_000)

    /// src/db.rrd and its copy, then two bytes of src/db.rrd changed.
    static func changedDatabase(_ dir: RecoveryScratch) throws -> [UInt8] {
        try DeltaWriteBackTests.copies(dir, ["db.rrd": rrd])
        var changed = rrd
        changed[200_001] ^= 0xff
        changed[250_002] ^= 0xff
        try DeltaWriteBackTests.write(dir["src/db.rrd"], changed)
        return changed
    }

    @Test("EIO flushing the redo journal: the file is not changed in place")
    func failedJournalFlushChangesNothing() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        _ = try Self.changedDatabase(dir)
        let faults = SyscallFaults()
        faults.fail(.fdatasync, with: .ioError)
        let error = try Self.failure(faults) { _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"])) }
        #expect(faults.injectedCount(.fdatasync) == 1)
        #expect(Self.errno(of: error) == .ioError)
        #expect(try DeltaWriteBackTests.read(dir["dst/db.rrd"]) == Self.rrd)
    }

    /// The journal's own pwrite and fdatasync succeed; then a change written in
    /// place, or the flush of the changed file that comes before the journal's
    /// removal, fails.
    @Test("EIO after the journal is durable: it stays, and replaying it completes the file",
          arguments: [Syscall.write, .fdatasync])
    func failureAfterTheJournalIsReplayed(_ call: Syscall) throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let changed = try Self.changedDatabase(dir)
        let faults = SyscallFaults()
        faults.fail(call, with: .ioError, after: 1)
        let error = try Self.failure(faults) { _ = try TreeMirrorTests.mirror(dir, .update(tempDirectory: dir["tmp"])) }
        #expect(faults.injectedCount(call) == 1)
        #expect(Self.errno(of: error) == .ioError)
        #expect(try FileOps.listDirectory(dir["tmp"]).filter { $0.hasSuffix(RedoReplay.suffix) }.count == 1)
        // The next start replays what the journal holds (as after a crash).
        let outcome = try RedoReplay.replayAll(in: DirectoryHandle(path: dir["tmp"]), root: DirectoryHandle(path: dir["dst"]))
        #expect(outcome.replayed == 1 && outcome.files == 1)
        #expect(try DeltaWriteBackTests.read(dir["dst/db.rrd"]) == changed)
    }
}
