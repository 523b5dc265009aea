import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// The RAM_ONLY matcher on its own: rsync's rules, case by case.
@Suite("PathPattern")
struct PathPatternTests {
    func excluded(_ pattern: String, _ path: String, directory: Bool = false) -> Bool {
        PathPattern(FilePath(pattern)).matches(FilePath(path), isDirectory: directory)
    }

    @Test("a name without / matches the last component anywhere")
    func lastComponent() {
        #expect(excluded("cache", "cache", directory: true))
        #expect(excluded("cache", "a/b/cache"))
        #expect(!excluded("cache", "a/cache/b"))
        #expect(!excluded("cache", "a/mycache"))
        #expect(excluded("*.swp", "src/.main.c.swp"))
        #expect(!excluded("*.swp", "src.swp/x"))
    }

    @Test("a leading / anchors at the root, a trailing / matches directories only")
    func anchorsAndDirectories() {
        #expect(excluded("/cache", "cache"))
        #expect(!excluded("/cache", "a/cache"))
        #expect(excluded("tmp/", "a/tmp", directory: true))
        #expect(!excluded("tmp/", "a/tmp"))
        #expect(excluded("/a/b", "a/b"))
        #expect(!excluded("/a/b", "x/a/b"))
    }

    @Test("an inner / matches as many trailing components; ** crosses /")
    func slashesAndDoubleStar() {
        #expect(excluded("b/c", "a/b/c"))
        #expect(!excluded("b/c", "a/xb/c"))
        #expect(excluded("b/*.log", "x/b/1.log"))
        #expect(!excluded("b/*.log", "b/c/1.log"))
        #expect(excluded("b/**.log", "b/c/1.log"))
        #expect(excluded("**/c", "c"))
        #expect(excluded("a/**", "x/a/b/c"))
        #expect(excluded("/a/***", "a", directory: true))
        #expect(excluded("/a/***", "a/b"))
    }

    @Test("? and classes never match /; an unclosed [ matches nothing (as in rsync)")
    func classes() {
        #expect(excluded("?.txt", "a.txt"))
        #expect(!excluded("a?b", "a/b"))
        #expect(excluded("[ab]*", "b1"))
        #expect(excluded("[!ab]*", "c1"))
        #expect(!excluded("[!ab]*", "a1"))
        #expect(excluded("[[:digit:]]x", "7x"))
        #expect(excluded("f[a-c]", "fb"))
        #expect(!excluded("x[", "x["))
        #expect(excluded("\\*", "*"))
        #expect(!excluded("\\*", "a"))
    }

    @Test("the filter: disk-only directories exactly, and the rsync rules")
    func filter() {
        let filter = ExclusionFilter(ramOnly: [PathPattern("*.tmp")], diskOnly: ["data/big"])
        #expect(filter.excludes("data/big", isDirectory: true))
        #expect(!filter.excludes("data", isDirectory: true))
        #expect(filter.excludes("x/y.tmp", isDirectory: false))
        #expect(filter.rsyncExcludes == ["/data/big/", "*.tmp"])
        #expect(ExclusionFilter(diskOnly: ["a*b"]).rsyncExcludes == ["/a\\*b/"])
    }
}
