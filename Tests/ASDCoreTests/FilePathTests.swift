import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

@Suite struct FilePathTests {
    static let latin1: FilePath = FilePath(bytes: Array("/srv/caf".utf8) + [0xe9])

    @Test func keepsBytesThatAreNotUTF8() {
        #expect(Self.latin1.bytes.last == 0xe9)
        #expect(Self.latin1.string == nil)
        #expect(Self.latin1.withCString { strlenOf($0) } == 9)
    }

    @Test(arguments: [
        (FilePath(bytes: Array("caf".utf8) + [0xe9]), "caf\\xe9"),
        (FilePath("café"), "café"),
        (FilePath(bytes: [0x61, 0x0a, 0x62]), "a\\nb"),
        (FilePath(bytes: [0xe2, 0x82]), "\\xe2\\x82"),
        (FilePath(bytes: [0xc3, 0xa9, 0xff]), "é\\xff"),
    ])
    func describesEscaped(path: FilePath, shown: String) {
        #expect(path.description == shown)
        #expect(!path.description.contains("\u{FFFD}"))
    }

    @Test func splitsLikeBash() {
        #expect(Self.latin1.parent == "/srv")
        #expect(Self.latin1.lastComponent == FilePath(bytes: Array("caf".utf8) + [0xe9]))
        #expect(FilePath("/a").split.parent == "")
        #expect(FilePath("/a/b/").trimmingTrailingSlashes == "/a/b")
        #expect(FilePath("/").trimmingTrailingSlashes == "/")
    }

    @Test func appendsComponents() {
        #expect(FilePath("/tmp").appending("x") == "/tmp/x")
        #expect(FilePath("/tmp/").appending("x") == "/tmp/x")
        #expect(FilePath("/tmp").appending(Self.latin1.lastComponent).bytes == Array("/tmp/caf".utf8) + [0xe9])
        #expect(FilePath("/tmp/t").suffixed("-rw") == "/tmp/t-rw")
        #expect(FilePath("/a/b/c").components == ["a", "b", "c"])
    }

    @Test func containment() {
        #expect(FilePath("/a/b").isWithin("/a"))
        #expect(FilePath("/a").isWithin("/a"))
        #expect(!FilePath("/ab").isWithin("/a"))
        #expect(FilePath("/a/b").isWithin("/"))
    }
}

private func strlenOf(_ p: UnsafePointer<CChar>) -> Int {
    var n = 0
    while p[n] != 0 { n += 1 }
    return n
}
