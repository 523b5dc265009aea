import ASDTestSupport
import Foundation
import Glibc
import Testing

@testable import ASDCopy
@testable import ASDSystem

/// The capture's compact scans (`TreeListing`, doc/DESIGN.md §6.5 and §12):
/// their differences equal those of a plain map of every path to its status,
/// whatever changed (nested new directories, renames across directories,
/// deletions, a directory replaced by a file, metadata only), and a capture
/// brought up to date scan after scan holds exactly the live tree.
@Suite("CaptureTree")
struct CaptureTreeTests {
    /// What the capture compares, from a plain walk: path -> identity text.
    static func reference(_ root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        func identity(_ s: FileStatus) -> String {
            let change = s.isDirectory ? "\(s.changeTime)" : "-"
            return "\(s.type) \(s.inode) \(s.size) \(s.modificationTime) \(change) \(s.permissions) \(s.uid):\(s.gid)"
        }
        result[""] = identity(try FileOps.status(FilePath(root)))
        try FileTreeWalker(root: root).walk { entry in result[entry.relativePath.text] = identity(entry.status) }
        return result
    }

    static func expectedDifferences(_ old: [String: String], _ new: [String: String]) -> [String] {
        Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// A random tree of nested directories, files and symlinks.
    static func build(_ root: String, _ random: inout SplitMix64, directories: Int = 12, files: Int = 60) throws {
        var dirs = [""]
        for index in 0..<directories {
            let dir = random.pick(dirs) + (dirs.count > 1 ? "/" : "") + "d\(index)"
            try FileManager.default.createDirectory(atPath: root + "/" + dir.trimmingPrefixSlash, withIntermediateDirectories: true)
            dirs.append(dir.trimmingPrefixSlash)
        }
        for index in 0..<files {
            let dir = random.pick(dirs)
            let path = root + "/" + (dir.isEmpty ? "" : dir + "/") + "f\(index)"
            if index % 9 == 0 {
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "target\(index)")
            } else {
                try Data(repeating: UInt8(index % 256), count: random.int(0...3000)).write(to: URL(fileURLWithPath: path))
            }
        }
    }

    /// One random change, named for the failure message.
    static func mutate(_ root: String, _ random: inout SplitMix64, step: Int) throws -> String {
        let all = try reference(root).keys.filter { !$0.isEmpty }.sorted()
        let dirs = [""] + all.filter { (try? FileOps.status(FilePath(root + "/" + $0)))?.isDirectory == true }
        let files = all.filter { !dirs.contains($0) }
        let fm = FileManager.default
        func full(_ relative: String) -> String { relative.isEmpty ? root : root + "/" + relative }
        switch random.below(7) {
        case 0 where !files.isEmpty:
            let file = random.pick(files)
            if (try? FileOps.status(FilePath(full(file))))?.isSymlink == true { return "skip" }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: full(file)))
            try handle.write(contentsOf: Data("x".utf8))
            try handle.close()
            return "rewrite \(file)"
        case 1 where !files.isEmpty:
            let file = random.pick(files)
            try fm.removeItem(atPath: full(file))
            return "delete \(file)"
        case 2 where !files.isEmpty:
            let file = random.pick(files), into = random.pick(dirs)
            let to = (into.isEmpty ? "" : into + "/") + "moved\(step)"
            guard rename(full(file), full(to)) == 0 else { return "skip" }
            return "rename \(file) to \(to)"
        case 3:
            let base = random.pick(dirs), nested = (base.isEmpty ? "" : base + "/") + "new\(step)/inner"
            try fm.createDirectory(atPath: full(nested), withIntermediateDirectories: true)
            try Data("deep".utf8).write(to: URL(fileURLWithPath: full(nested + "/leaf")))
            return "new nested \(nested)"
        case 4:
            let dir = random.pick(dirs)
            guard chmod(full(dir), 0o750 + mode_t(step % 2) * 0o5) == 0 else { return "skip" }
            return "chmod \(dir)"
        case 5 where dirs.count > 1:
            let dir = random.pick(Array(dirs.dropFirst()))
            try fm.removeItem(atPath: full(dir))
            try Data("was a directory".utf8).write(to: URL(fileURLWithPath: full(dir)))
            return "directory \(dir) replaced by a file"
        case 6 where !files.isEmpty:
            let file = random.pick(files)
            var times = [timespec(tv_sec: 1_000_000 + step, tv_nsec: 7), timespec(tv_sec: 1_000_000 + step, tv_nsec: 7)]
            guard utimensat(AT_FDCWD, full(file), &times, AT_SYMLINK_NOFOLLOW) == 0 else { return "skip" }
            return "mtime of \(file)"
        default:
            return "skip"
        }
    }

    @Test("differences of two compact scans equal those of full maps, and a capture follows the tree", arguments: [1, 2, 3, 4])
    func differencesAndCapture(seed: UInt64) throws {
        let sandbox = try TemporaryDirectory(prefix: "asd-capture")
        let live = sandbox["live"], capture = sandbox["capture"]
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: capture, withIntermediateDirectories: true)
        var random = SplitMix64(seed: seed)
        try Self.build(live, &random)
        var tree = CaptureTree(source: FilePath(live), root: FilePath(capture), excludedTopNames: [])
        var budget: Int64 = 1 << 30
        var scan = try tree.scan()
        try tree.update(to: scan, recent: FileTime(seconds: Int.max, nanoseconds: 0), hot: [], budget: &budget)
        try expectCaptured(live, capture)
        for step in 0..<40 {
            let before = try Self.reference(live)
            var changes: [String] = []
            for _ in 0...random.below(3) { changes.append(try Self.mutate(live, &random, step: step * 10 + changes.count)) }
            let after = try Self.reference(live)
            let next = try tree.scan()
            let got = CaptureTree.differences(scan, next).map(\.text)
            #expect(got == Self.expectedDifferences(before, after), "step \(step): \(changes)")
            #expect(next.count == after.count, "step \(step): entries listed")
            try tree.update(to: next, recent: FileTime(seconds: Int.max, nanoseconds: 0), hot: [], budget: &budget)
            try expectCaptured(live, capture, "step \(step): \(changes)")
            #expect(tree.linksChanged().isEmpty)
            scan = next
        }
    }

    @Test("an entry gone before it was linked is captured once it is back, even unchanged")
    func vanishedEntryReturns() throws {
        let sandbox = try TemporaryDirectory(prefix: "asd-capture")
        let live = sandbox["live"], capture = sandbox["capture"]
        try FileManager.default.createDirectory(atPath: live + "/d/e", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: capture, withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: live + "/d/f"))
        try Data("b".utf8).write(to: URL(fileURLWithPath: live + "/d/e/g"))
        var tree = CaptureTree(source: FilePath(live), root: FilePath(capture), excludedTopNames: [])
        var budget: Int64 = 0
        let old = FileTime(seconds: 0, nanoseconds: 0)
        let scan = try tree.scan()
        // Gone between the scan and the update: a file, and a directory with its contents.
        #expect(rename(live + "/d/f", sandbox["f"]) == 0)
        #expect(rename(live + "/d/e", sandbox["e"]) == 0)
        try tree.update(to: scan, recent: old, hot: [], budget: &budget)
        #expect(rename(sandbox["f"], live + "/d/f") == 0)
        #expect(rename(sandbox["e"], live + "/d/e") == 0)
        try tree.update(to: try tree.scan(), recent: old, hot: [], budget: &budget)
        try expectCaptured(live, capture)
    }

    /// The capture holds the same names, types, contents and symlink targets as the live tree.
    func expectCaptured(_ live: String, _ capture: String, _ what: String = "") throws {
        let a = try Self.reference(live), b = try Self.reference(capture)
        #expect(Set(a.keys) == Set(b.keys), "\(what): names")
        for path in a.keys where !path.isEmpty {
            let l = try FileOps.status(FilePath(live + "/" + path)), c = try? FileOps.status(FilePath(capture + "/" + path))
            #expect(c?.type == l.type, "\(what): type of \(path)")
            if l.isRegular { #expect(c?.inode == l.inode, "\(what): \(path) is a link of the live file") }
            if l.isSymlink {
                let target = try FileOps.readSymlink(live + "/" + path)
                #expect((try? FileOps.readSymlink(capture + "/" + path)) == target, "\(what): target of \(path)")
            }
        }
    }
}

extension String {
    fileprivate var trimmingPrefixSlash: String { hasPrefix("/") ? String(dropFirst()) : self }
}

/// The write-back's xattr check (`DirectoryHandle.xattrListLength`, doc/DESIGN.md
/// §12) gives the same answer through listxattrat(2) as through /proc/self/fd,
/// never following a symlink.
@Suite("XattrListLength")
struct XattrListLengthTests {
    @Test func sameThroughEitherCall() throws {
        let sandbox = try TemporaryDirectory(prefix: "asd-xattr")
        try Data("a".utf8).write(to: URL(fileURLWithPath: sandbox["a"]))
        try Data("b".utf8).write(to: URL(fileURLWithPath: sandbox["b"]))
        try FileManager.default.createSymbolicLink(atPath: sandbox["l"], withDestinationPath: "a")
        try FileOps.setXattr(FilePath(sandbox["a"]), name: "user.asd-test", value: Array("value".utf8))
        let directory = try DirectoryHandle(path: FilePath(sandbox.path))
        let names: [FilePath] = ["a", "b", "l"]
        let direct = try names.map { (name) throws(Errno) in try directory.xattrListLength(name) }
        DirectoryHandle.noListxattrat.store(true, ordering: .relaxed)
        defer { DirectoryHandle.noListxattrat.store(false, ordering: .relaxed) }
        let throughProc = try names.map { (name) throws(Errno) in try directory.xattrListLength(name) }
        #expect(direct == throughProc)
        #expect(direct[0] >= "user.asd-test".utf8.count + 1)
        #expect(direct[2] < direct[0], "the symlink's own list, not its target's")
    }
}
