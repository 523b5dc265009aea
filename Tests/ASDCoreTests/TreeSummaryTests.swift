import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// The old serial rule, written out: the root's st_blocks plus every
/// entry's (FileTreeWalker: no symlinks followed, no mounts entered),
/// a multiply-linked non-directory once per inode.
fileprivate func reference(_ path: String) throws -> (bytes: UInt64, linkedFiles: Int) {
    var blocks = UInt64(try FileOps.status(path).blocks)
    var seen = Set<UInt64>()
    var linkedFiles = 0
    try FileTreeWalker(root: path).walk { entry throws(Errno) in
        let status = entry.status
        if status.isRegular && status.linkCount > 1 { linkedFiles += 1 }
        if !status.isDirectory && status.linkCount > 1 && !seen.insert(status.inode).inserted { return }
        blocks += UInt64(status.blocks)
    }
    return (blocks * 512, linkedFiles)
}

/// `FileOps.summarize`: the one walk behind parse's "dir size" and the
/// hard-link check, serial and parallel, against a serial reference and du(1).
@Suite struct TreeSummaryTests {
    /// A tree with what a walk can trip over: nested and empty directories,
    /// files of several sizes, a sparse file, symlinks to a file, to a
    /// directory (not followed) and to nowhere, a fifo, and hard links within
    /// and across directories (one inode with three names). Returns how many
    /// regular files have more than one link.
    private func makeTree(_ dir: RecoveryScratch, directories: Int = 3, filesPerDirectory: Int = 4) throws -> Int {
        try dir.mkdir("t")
        try dir.mkdir("t/empty")
        try dir.mkdir("t/empty/deeper")
        for d in 0..<directories {
            try dir.mkdir("t/d\(d)")
            try dir.mkdir("t/d\(d)/n")
            for f in 0..<filesPerDirectory {
                try dir.write("t/d\(d)/f\(f)", String(repeating: "x", count: (d * 7 + f) % 13 * 1500))
                try dir.write("t/d\(d)/n/g\(f)", String(repeating: "y", count: f % 4 * 3000))
            }
        }
        try dir.write("t/outside-target", String(repeating: "o", count: 50_000))
        try dir.write("outside", String(repeating: "o", count: 90_000))
        try FileOps.createSymlink(dir["t/to-file"], target: "outside-target")
        try FileOps.createSymlink(dir["t/to-dir"], target: "..")  // would loop if followed
        try FileOps.createSymlink(dir["t/dangling"], target: "nowhere")
        #expect(mkfifo(dir["t/empty/fifo"], 0o644) == 0)
        let sparse = open(dir["t/sparse"], O_WRONLY | O_CREAT, 0o644)
        #expect(sparse >= 0 && ftruncate(sparse, 10_000_000) == 0)
        close(sparse)
        try dir.write("t/big", String(repeating: "b", count: 40_000))
        try FileOps.hardLink(dir["t/big"], dir["t/d0/big-again"])
        try FileOps.hardLink(dir["t/big"], dir["t/d1/n/big-third"])
        try FileOps.hardLink(dir["t/d0/f1"], dir["t/d0/f1-twin"])
        try FileOps.hardLink(dir["outside"], dir["t/linked-from-outside"])
        return 3 + 2 + 1
    }

    /// `du -s -x --block-size=1 path`, in bytes.
    private func du(_ path: String) throws -> UInt64 {
        let result = try Subprocess.run(["du", "-s", "-x", "--block-size=1", path], captureOutput: true)
        try #require(result.status == .exited(0), "du failed: \(result.standardError)")
        let field = result.outputText.split(whereSeparator: { $0 == "\t" || $0 == " " }).first
        return try #require(field.flatMap { UInt64($0) })
    }

    @Test(arguments: [1, 2, 4, nil] as [Int?])
    func matchesSerialReferenceAndDu(workers: Int?) throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let linked = try makeTree(dir)
        let summary = try FileOps.summarize(dir["t"], workers: workers)
        let expected = try reference(dir["t"])
        #expect(summary.diskUsage == expected.bytes)
        #expect(summary.diskUsage == (try du(dir["t"])))
        #expect(summary.hardLinkedFiles == linked)
        #expect(expected.linkedFiles == linked)
        #expect(try FileOps.firstHardLinkedFile(in: dir["t"])?.count == linked)
        #expect(try FileOps.diskUsage(dir["t"]) == summary.diskUsage)
        // Not a vacuous comparison: the tree holds more than the root's own block.
        #expect(summary.diskUsage > 200_000)
    }

    /// Enough entries (> 1000) and directories for the automatic choice to
    /// start helper threads part-way; every choice agrees with the serial walk.
    @Test func bigTreeAgreesWhateverTheThreadCount() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let linked = try makeTree(dir, directories: 60, filesPerDirectory: 12)
        let serial = try FileOps.summarize(dir["t"], workers: 1)
        #expect(serial.diskUsage == (try reference(dir["t"])).bytes)
        #expect(serial.diskUsage == (try du(dir["t"])))
        #expect(serial.hardLinkedFiles == linked)
        for workers in [nil, 2, 3, 8] as [Int?] {
            #expect(try FileOps.summarize(dir["t"], workers: workers) == serial, "workers: \(String(describing: workers))")
        }
    }

    @Test func treeWithoutHardLinksAndEmptyTree() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("empty")
        let empty = try FileOps.summarize(dir["empty"], workers: 2)
        #expect(empty == TreeSummary(diskUsage: UInt64(try FileOps.status(dir["empty"]).blocks) * 512, hardLinkedFiles: 0))
        #expect(empty.diskUsage == (try du(dir["empty"])))
        try dir.mkdir("plain")
        try dir.mkdir("plain/a")
        try dir.write("plain/a/f", String(repeating: "z", count: 9000))
        let plain = try FileOps.summarize(dir["plain"])
        #expect(plain.hardLinkedFiles == 0)
        #expect(plain.diskUsage == (try du(dir["plain"])))
        #expect(plain.diskUsage >= 9000)
    }

    /// A crash archive is a file: its own allocated size, as `du` shows it.
    @Test func fileRootIsItsOwnSize() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.write("archive.tar.zstd", String(repeating: "a", count: 70_000))
        let summary = try FileOps.summarize(dir["archive.tar.zstd"])
        #expect(summary.diskUsage == (try du(dir["archive.tar.zstd"])))
        #expect(summary.diskUsage >= 70_000)
        #expect(summary.hardLinkedFiles == 0)
    }

    @Test func missingRootAndSymlinkRoot() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        #expect(throws: Errno.noEntry) { try FileOps.summarize(dir["none"]) }
        try dir.mkdir("real")
        try dir.write("real/f", String(repeating: "r", count: 30_000))
        try FileOps.createSymlink(dir["link"], target: "real")
        // The symlink itself is measured, never what it points to.
        let link = try FileOps.summarize(dir["link"])
        #expect(link.diskUsage < 30_000)
        #expect(link.hardLinkedFiles == 0)
    }
}

/// summarize never counts what is mounted inside the tree: a tmpfs (another
/// st_dev) nor a bind mount of the same filesystem (STATX_ATTR_MOUNT_ROOT).
/// Mounting needs root and a private mount namespace: the outer test re-runs
/// this test binary under `unshare -m --propagation private` with only the
/// inner test selected (as FileOpsMountTests does).
@Suite struct TreeSummaryMountTests {
    static let namespace = NamespaceRerun(flag: "ASD_TREE_SUMMARY_IN_NAMESPACE")
    static let inside = namespace.isInside
    static let outerEnabled = namespace.outerEnabled

    @Test(.enabled(if: outerEnabled, "needs root and unshare(1)"))
    func summarizeNeverCrossesMounts() throws {
        try Self.namespace.runInside(suite: "TreeSummaryMountTests")
    }

    @Test(.enabled(if: inside, "runs only inside the private mount namespace"))
    func insideNamespace() throws {
        let dir = try RecoveryScratch()
        defer {
            _ = try? Subprocess.run(["umount", dir["tree/sub/bound"]])
            _ = try? Subprocess.run(["umount", dir["tree/tmpfs"]])
            dir.cleanup()
        }
        try dir.mkdir("keep")
        try dir.write("keep/big", String(repeating: "k", count: 400_000))
        try FileOps.hardLink(dir["keep/big"], dir["keep/big-twin"])
        try FileOps.makeDirectories(dir["tree/sub/bound"])
        try FileOps.makeDirectories(dir["tree/tmpfs"])
        try dir.write("tree/sub/plain", String(repeating: "p", count: 5000))
        try Subprocess.checked(["mount", "--bind", dir["keep"], dir["tree/sub/bound"]])
        try Subprocess.checked(["mount", "-t", "tmpfs", "none", dir["tree/tmpfs"]])
        try dir.write("tree/tmpfs/inside", String(repeating: "t", count: 300_000))
        try FileOps.hardLink(dir["tree/tmpfs/inside"], dir["tree/tmpfs/inside-twin"])
        #expect(dir.read("tree/sub/bound/big")?.count == 400_000)

        for workers in [1, 2, nil] as [Int?] {
            let summary = try FileOps.summarize(dir["tree"], workers: workers)
            // The mount points' own root directories count, their content does not.
            #expect(summary.diskUsage == (try reference(dir["tree"])).bytes, "workers \(String(describing: workers))")
            #expect(summary.diskUsage < 100_000, "workers \(String(describing: workers))")
            #expect(summary.hardLinkedFiles == 0)
        }
    }
}
