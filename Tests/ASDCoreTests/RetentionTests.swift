import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

@Suite("Retention")
struct RetentionTests {
    static func paths(_ dir: RecoveryScratch) -> TargetPaths {
        TargetPaths(target: FilePath(dir["data"]), user: "root", volatile: "/tmp", instance: "asd")
    }

    /// Archives for stamps, in shuffled order, plus unrelated neighbours.
    static func populate(_ dir: RecoveryScratch, stamps: [String]) throws -> TargetPaths {
        let paths = Self.paths(dir)
        try dir.mkdir("data")
        for stamp in stamps.shuffled() { try dir.write(".data-backup_asd-crashrecovery-\(stamp).tar.zstd", stamp) }
        try dir.write(".data-backup_asd-old-not-an-archive", "")
        try dir.write(".other-backup_asd-crashrecovery-20990101_000000.tar.zstd", "")
        try dir.mkdir(".data-backup_asd")
        return paths
    }

    @Test func archivesAreListedNewestFirst() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let paths = try Self.populate(dir, stamps: ["20230101_000000", "20241231_235959", "20240615_120000"])
        #expect(paths.archivePrefix == ".data-backup_asd-crashrecovery-")
        #expect(Retention.archives(for: paths) == [
            paths.archive(stamp: "20241231_235959"),
            paths.archive(stamp: "20240615_120000"),
            paths.archive(stamp: "20230101_000000"),
        ])
    }

    @Test func oldStyleDirectoriesCountAndAreRemovedWhole() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let paths = try Self.populate(dir, stamps: ["20240102_000000"])
        try dir.mkdir(".data-backup_asd-crashrecovery-20200101_000000")
        try dir.mkdir(".data-backup_asd-crashrecovery-20200101_000000/inner")
        try dir.write(".data-backup_asd-crashrecovery-20200101_000000/inner/file", "x")
        #expect(Retention.archives(for: paths).last == FilePath(dir[".data-backup_asd-crashrecovery-20200101_000000"]))
        let removed = try Retention.enforceLimit(1, paths: paths)
        #expect(removed == [FilePath(dir[".data-backup_asd-crashrecovery-20200101_000000"])])
        #expect(Retention.archives(for: paths) == [paths.archive(stamp: "20240102_000000")])
    }

    @Test(arguments: [0, 1, 2, 5, 7])
    func enforceLimitKeepsNewest(limit: Int) throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let stamps = (1...5).map { "2024010\($0)_000000" }
        let paths = try Self.populate(dir, stamps: stamps)
        let before = Retention.archives(for: paths)
        let removed = try Retention.enforceLimit(limit, paths: paths)
        let kept = Retention.archives(for: paths)
        #expect(kept == Array(before.prefix(limit)))
        #expect(removed == Array(before.dropFirst(limit)))
        #expect(dir.read(".other-backup_asd-crashrecovery-20990101_000000.tar.zstd") == "")
        #expect(dir.read(".data-backup_asd-old-not-an-archive") == "")
    }

    @Test func partialsAreNotArchivesButAreCleanedUp() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let paths = try Self.populate(dir, stamps: ["20240101_000000", "20240202_000000"])
        let partial = paths.archive(stamp: "20250101_000000") + ".partial-4242"
        try FileOps.makeDirectories(dir.path)
        try dir.write(partial.lastComponent.text, "half")
        #expect(Retention.archives(for: paths).count == 2)
        #expect(Retention.partials(for: paths) == [partial])
        let removed = try Retention.enforceLimit(5, paths: paths)
        #expect(removed == [partial])
        #expect(Retention.archives(for: paths).count == 2)
        #expect(Retention.partials(for: paths).isEmpty)
    }

    @Test func cleanAllRemovesEveryArchiveOfTheTargetOnly() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        let paths = try Self.populate(dir, stamps: ["20240101_000000", "20240202_000000"])
        try dir.write(paths.archive(stamp: "20240303_000000").lastComponent.text + ".partial-1", "")
        #expect(try Retention.cleanAll(paths: paths).count == 3)
        #expect(Retention.archives(for: paths).isEmpty)
        #expect(Retention.partials(for: paths).isEmpty)
        #expect(try Retention.cleanAll(paths: paths).isEmpty)
        #expect(dir.read(".other-backup_asd-crashrecovery-20990101_000000.tar.zstd") == "")
        #expect(try FileOps.status(dir[".data-backup_asd"]).isDirectory)
    }

    @Test func missingParentMeansNoArchives() throws {
        let paths = TargetPaths(target: "/nonexistent-asd-test/dir", user: "root", volatile: "/tmp", instance: "asd")
        #expect(Retention.archives(for: paths).isEmpty)
        #expect(try Retention.cleanAll(paths: paths).isEmpty)
    }
}
