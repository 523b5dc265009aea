import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

extension TreeMirrorTests {
    /// More temp copies than `TreeMirror.renameBatch`, across more directories:
    /// they are renamed in several batches during the walk (each after a syncfs),
    /// the destination ends up equal to the source and no temp copy is left.
    @Test(arguments: [true, false])
    func renamesCommittedInBatches(staged: Bool) throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try Self.makeFilledCopy(dir)
        let directories = TreeMirror.renameBatch + 44
        try dir.mkdir("src/many")
        for index in 0..<directories {
            try dir.mkdir("src/many/d\(index)")
            try dir.write("src/many/d\(index)/one", "one \(index)")
            try dir.write("src/many/d\(index)/two", "two \(index)")
        }
        // A directory on disk replaced by a file, removed only when it is renamed over.
        try FileOps.removeTree(dir["src/dir-then-file"])
        try dir.write("src/dir-then-file", "now a file")

        let mode: TreeMirror.Mode = staged ? .update(tempDirectory: dir["tmp"]) : .update(tempDirectory: FilePath?.none)
        let report = try Self.mirror(dir, mode)
        try Self.expectSame(dir)
        #expect(report.files >= 2 * directories + 1)
        #expect(try FileOps.listDirectory(dir["tmp"]).isEmpty, "temp files left behind")
        #expect(try FileOps.listDirectory(dir["dst/many/d0"]).allSatisfy { !$0.hasPrefix(".asd-tmp") })
        let again = try Self.mirror(dir, mode)
        #expect(again.files == 0 && again.deleted == 0)
    }
}
