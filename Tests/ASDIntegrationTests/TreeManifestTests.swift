import Testing

/// The manifest parser and comparator, without the namespace (no root needed).
@Suite struct TreeManifestParsingTests {
    static func record(_ fields: [String]) -> [UInt8] {
        Array((["E"] + fields).map { $0 + "\0" }.joined().utf8)
    }

    @Test func parsesEveryField() throws {
        let bytes =
            Self.record([".", "d", "755", "0", "0", "4096", "1614834367.2500000010", "3", "", "-", "-", ""])
            + Self.record([
                "./new\nline", "f", "4755", "65534", "1", "5", "1577934245.1234567890", "1", "", "abc123", "-",
                "# file: new\\012line\nuser.test=0x76616c7565\nsystem.posix_acl_access=0x0200\n",
            ])
            + Self.record(["./l", "l", "777", "0", "0", "6", "1.0000000000", "1", "a b/c", "-", "-", ""])
            + Self.record(["./dev", "c", "644", "0", "0", "0", "2.5", "1", "", "-", "1:3", ""])
        let manifest = try TreeManifest(parsing: bytes)
        #expect(manifest.paths == [".", "dev", "l", "new\nline"])
        let file = try #require(manifest["new\nline"])
        #expect(file.kind == .file && file.mode == 0o4755 && file.modeText == "4755")
        #expect(file.uid == 65534 && file.gid == 1 && file.size == 5 && file.sha256 == "abc123")
        #expect(file.mtime == TreeEntry.Timestamp(seconds: 1_577_934_245, nanoseconds: 123_456_789))
        #expect(file.xattrs == ["user.test": "0x76616c7565", "system.posix_acl_access": "0x0200"])
        #expect(manifest["."]?.mtime.description == "1614834367.250000001")
        #expect(manifest["l"]?.linkTarget == "a b/c")
        #expect(manifest["dev"]?.device == "1:3" && manifest["dev"]?.mtime.nanoseconds == 500_000_000)
    }

    /// Names are compared as bytes: two names that differ only in a byte that
    /// is not UTF-8 stay two entries, and a backslash cannot fake an escape.
    @Test func namesThatAreNotUTF8StayApart() throws {
        func record(_ name: [UInt8], target: [UInt8] = []) -> [UInt8] {
            Array("E\0./".utf8) + name + Array("\0f\0644\0000\0000\0001\0001.0\0001\0".utf8) + target
                + Array("\0-\0-\0\0".utf8)
        }
        let bytes = record(Array("caf".utf8) + [0xe9]) + record(Array("caf".utf8) + [0xe8])
            + record(Array("caf\\xe9".utf8)) + record(Array("l".utf8), target: [0xff])
        let manifest = try TreeManifest(parsing: bytes)
        #expect(manifest.paths.count == 4)
        #expect(manifest["caf\\xe9"] != nil && manifest["caf\\xe8"] != nil && manifest["caf\\\\xe9"] != nil)
        #expect(manifest["l"]?.linkTarget == nil)  // a file: the target field is not kept
        #expect(TreeManifest.exactText([0x61, 0xff, 0xc3, 0xa9]) == "a\\xffé")
    }

    @Test func rejectsTruncatedRecords() {
        #expect(throws: HarnessError.self) {
            try TreeManifest(parsing: Array("E\0./x\0f\0644\0".utf8))
        }
        #expect(throws: HarnessError.self) {
            try TreeManifest(parsing: Self.record(["./x", "q", "644", "0", "0", "0", "1.0", "1", "", "-", "-", ""]))
        }
    }

    @Test(arguments: [
        ("0x76616c7565", "\"value\""), ("0x76616c756500", "\"value\""), ("0x00ff10", "0x00ff10"), ("", ""),
    ])
    func xattrValuesAreShownReadably(hex: String, shown: String) {
        #expect(TreeEntry.readable(xattr: hex) == shown)
    }

    static let base = TreeEntry(
        path: "a/f", kind: .file, mode: 0o644, size: 4,
        mtime: .init(seconds: 1_600_000_000, nanoseconds: 1), sha256: "aaaa", xattrs: ["user.k": "0x76"])

    static func with(_ change: (inout Fields) -> Void) -> TreeEntry {
        var fields = Fields(base)
        change(&fields)
        return fields.entry
    }

    /// A mutable copy of a TreeEntry's fields, to derive entries differing in one.
    struct Fields {
        var path: String, kind: TreeEntry.Kind, mode: UInt32, uid: UInt32, gid: UInt32, size: Int64
        var mtime: TreeEntry.Timestamp, links: Int, linkTarget: String?, sha256: String?, device: String?
        var xattrs: [String: String]
        init(_ e: TreeEntry) {
            (path, kind, mode, uid, gid, size) = (e.path, e.kind, e.mode, e.uid, e.gid, e.size)
            (mtime, links, linkTarget, sha256, device, xattrs) = (e.mtime, e.links, e.linkTarget, e.sha256, e.device, e.xattrs)
        }
        var entry: TreeEntry {
            TreeEntry(
                path: path, kind: kind, mode: mode, uid: uid, gid: gid, size: size, mtime: mtime, links: links,
                linkTarget: linkTarget, sha256: sha256, device: device, xattrs: xattrs)
        }
    }

    @Test func eachPropertyIsReportedAlone() {
        let cases: [(TreeEntry, String)] = [
            (Self.with { $0.kind = .directory }, "type of a/f: file vs directory"),
            (Self.with { $0.mode = 0o600 }, "mode of a/f: 0644 vs 0600"),
            (Self.with { $0.uid = 1 }, "owner of a/f: uid 0 vs uid 1"),
            (Self.with { $0.gid = 1 }, "group of a/f: gid 0 vs gid 1"),
            (Self.with { $0.size = 5 }, "size of a/f: 4 bytes vs 5 bytes"),
            (Self.with { $0.sha256 = "bbbb" }, "content of a/f: sha256 aaaa vs sha256 bbbb"),
            (Self.with { $0.mtime = .init(seconds: 1_600_000_000, nanoseconds: 2) },
             "mtime of a/f: 1600000000.000000001 vs 1600000000.000000002"),
            (Self.with { $0.device = "1:3" }, "device of a/f: - vs 1:3"),
            (Self.with { $0.xattrs = [:] }, "xattr user.k of a/f: \"v\" vs absent"),
            (Self.with { $0.xattrs["user.n"] = "0x6e6f" }, "xattr user.n of a/f: absent vs \"no\""),
        ]
        for (changed, expected) in cases {
            let left = TreeManifest(entries: [Self.base]), right = TreeManifest(entries: [changed])
            #expect(left.differences(from: right) == [expected])
        }
        #expect(TreeManifest(entries: [Self.base]).differences(from: TreeManifest(entries: [Self.base])).isEmpty)
    }

    @Test func comparisonOptionsLeaveOutWhatTheySay() {
        let root = TreeEntry(path: ".", kind: .directory, mode: 0o755, mtime: .init(seconds: 1, nanoseconds: 0))
        let newerRoot = TreeEntry(path: ".", kind: .directory, mode: 0o755, mtime: .init(seconds: 2, nanoseconds: 0))
        let flag = TreeEntry(path: ".flagged", kind: .file, mode: 0o644)
        let linked = Self.with { $0.links = 2 }
        let left = TreeManifest(entries: [root, Self.base])
        let right = TreeManifest(entries: [newerRoot, flag, linked])
        #expect(left.differences(from: right, .strict) == [
            "mtime of .: 1.000000000 vs 2.000000000", ".flagged: only in right (file)",
        ])
        #expect(left.differences(from: right, .lifecycle).isEmpty)
        #expect(left.differences(from: right, TreeComparison(ignoring: [])).contains("link count of a/f: 1 vs 2"))
        #expect(left.differences(from: right, TreeComparison(excluding: ["a", "."])).isEmpty)
        #expect(left.differences(from: right, TreeComparison(excluding: [".flagged"], ignoreDirectoryMtimes: true)).isEmpty)
        #expect(right.removing([".flagged"]).paths == [".", "a/f"])
        let names = [".hidden", ".config/.x", "a/.hello.txt.AbC123", ".f.Xy12Z9", "a/.f.toolong1", "a/f.AbC123"]
        let temporary = TreeManifest(entries: names.map { TreeEntry(path: $0, kind: .file, mode: 0o600) })
        #expect(temporary.temporaryFiles == [".f.Xy12Z9", "a/.hello.txt.AbC123"])
        let spaced = TreeManifest(entries: [TreeEntry(path: "x y\n", kind: .fifo, mode: 0o644)])
        #expect(spaced.differences(from: TreeManifest(entries: [])) == ["\"x y\\n\": only in left (fifo)"])
    }
}
