import Testing

/// The manifest tool and comparator on real trees: two copies differing in exactly one
/// property must give exactly the line naming it.
@Suite(.privileged) struct TreeComparatorTests {
    struct Mutation: Sendable, CustomTestStringConvertible {
        let name: String
        /// Bash run inside `$DATA/right` (a `cp -a` copy of `$DATA/left`).
        let command: String
        /// Every expected line must appear as a prefix of one difference line, in order.
        let expected: [String]
        var testDescription: String { name }
    }

    static let mutations: [Mutation] = [
        Mutation(name: "name", command: "mv f g", expected: ["f: only in left (file)", "g: only in right (file)"]),
        Mutation(name: "type", command: "rm f && mkdir f && touch -d @1600000000.000000001 f",
                 expected: ["type of f: file vs directory"]),
        Mutation(name: "mode", command: "chmod 0600 f", expected: ["mode of f: 0644 vs 0600"]),
        Mutation(name: "special bits", command: "chmod 4644 f", expected: ["mode of f: 0644 vs 4644"]),
        Mutation(name: "owner", command: "chown 65534 f", expected: ["owner of f: uid 0 vs uid 65534"]),
        Mutation(name: "group", command: "chgrp 1 f", expected: ["group of f: gid 0 vs gid 1"]),
        Mutation(name: "mtime nanoseconds", command: "touch -d @1600000000.000000002 f",
                 expected: ["mtime of f: 1600000000.000000001 vs 1600000000.000000002"]),
        Mutation(name: "directory mtime", command: "touch -d @1600000000.5 d",
                 expected: ["mtime of d: 1600000000.000000001 vs 1600000000.500000000"]),
        Mutation(name: "symlink target", command: "ln -sfn g l && touch -h -d @1600000000.000000001 l",
                 expected: ["symlink target of l: f vs g"]),
        Mutation(name: "content, same size and mtime", command: "printf BBBB >f && touch -d @1600000000.000000001 f",
                 expected: ["content of f: sha256 "]),
        Mutation(name: "size", command: "printf AAAAA >f && touch -d @1600000000.000000001 f",
                 expected: ["size of f: 4 bytes vs 5 bytes", "content of f: sha256 "]),
        Mutation(name: "xattr added", command: "setfattr -n user.k -v v f", expected: ["xattr user.k of f: absent vs \"v\""]),
        Mutation(name: "xattr value", command: "setfattr -n user.test -v other d",
                 expected: ["xattr user.test of d: \"dirvalue\" vs \"other\""]),
        Mutation(name: "acl", command: "setfacl -m u:1:r f", expected: ["xattr system.posix_acl_access of f: absent vs 0x"]),
        Mutation(name: "device", command: "rm dev && mknod dev c 1 5 && touch -d @1600000000.000000001 dev",
                 expected: ["device of dev: 1:3 vs 1:5"]),
        Mutation(name: "newline name", command: "mv \"$(printf 'n\\nl')\" nl",
                 expected: ["\"n\\nl\": only in left (file)", "nl: only in right (file)"]),
    ]

    @Test(arguments: mutations)
    func aSinglePropertyDifferenceIsNamed(_ mutation: Mutation) async throws {
        let sandbox = try Sandbox()
        let base = """
            mkdir -p "$DATA/left/d" && cd "$DATA/left"
            printf AAAA >f && chmod 0644 f && ln -s f l && mknod dev c 1 3 && printf x >"$(printf 'n\\nl')"
            setfattr -n user.test -v dirvalue d
            find . -exec touch -h -d @1600000000.000000001 {} + && cd /
            cp -a "$DATA/left" "$DATA/right"
            """
        let result = try await Scenario(sandbox)
            .shell(base)
            .snapshotTree("$DATA/right", as: "unchanged")
            .shell("cd \"$DATA/right\" && \(mutation.command) && touch -r \"$DATA/left\" . && cd /")
            .snapshotTree("$DATA/left", as: "left")
            .snapshotTree("$DATA/right", as: "right")
            .run()
        result.expectNoFailures()
        let left = try result.tree("left")
        #expect(left.differences(from: try result.tree("unchanged")).isEmpty)
        let lines = left.differences(from: try result.tree("right"))
        #expect(lines.count == mutation.expected.count, "\(lines)")
        for (line, prefix) in zip(lines, mutation.expected) {
            #expect(line.hasPrefix(prefix), "\(lines)")
        }
    }

    @Test func richFixtureIsDescribedCompletely() async throws {
        let sandbox = try Sandbox()
        let result = try await Scenario(sandbox)
            .shell(Fixture.rich(at: "$DATA/rich"))
            .snapshotTree("$DATA/rich", as: "disk")
            .shell("cp -a \"$DATA/rich\" \"$VOLATILE/rich\"")
            .snapshotTree("$VOLATILE/rich", as: "tmpfs")
            .run()
        result.expectNoFailures()
        let tree = try result.tree("disk")
        // A copy on another filesystem (ext4 -> tmpfs) is identical, root mtime included.
        #expect(tree.differences(from: try result.tree("tmpfs")) == [])
        #expect(tree.entries.count == 36)
        func entry(_ path: String) throws -> TreeEntry { try #require(tree[path], "\(path) missing") }
        #expect(try entry(".").mtime == TreeEntry.Timestamp(seconds: 1_614_834_367, nanoseconds: 250_000_001))
        #expect(try entry("a/hello.txt").mtime == TreeEntry.Timestamp(seconds: 1_577_934_245, nanoseconds: 123_456_789))
        #expect(try entry("a/hello.txt").xattrs["user.test"] == "0x76616c7565")
        #expect(try entry("a").xattrs["user.test"].map(TreeEntry.readable(xattr:)) == "\"dirvalue\"")
        #expect(try entry("a/b/4k.bin").xattrs["user.binary"] == "0x00ff10")
        #expect(try entry("acl-file").xattrs.keys.contains("system.posix_acl_access"))
        #expect(try entry("acl-dir").xattrs.keys.contains("system.posix_acl_default"))
        #expect(try entry("a/b/c/1M.bin").size == 1_048_576 && entry("empty.txt").size == 0)
        #expect(try entry("a/b/c/1M.bin").mtime.nanoseconds == 987_654_321)
        #expect(try entry("rel-link").linkTarget == "a/hello.txt" && entry("rel-link").kind == .symlink)
        #expect(try entry("rel-link").mtime.nanoseconds == 123_456_789)
        #expect(try entry("abs-link").linkTarget == "/etc/hostname")
        #expect(try entry("dangling-link").linkTarget == "does/not/exist" && entry("dangling-link").uid == 65534)
        #expect(try entry("fifo").kind == .fifo && entry("null-dev").kind == .characterDevice)
        #expect(try entry("null-dev").device == "1:3")
        #expect(try entry("setuid").modeText == "4755" && entry("sticky").modeText == "1777")
        #expect(try entry("setgid").modeText == "2775" && entry("secret").modeText == "0600")
        #expect(try entry("nobody-dir").uid == 65534 && entry("nobody-dir").modeText == "0750")
        #expect(try entry("owned-daemon").gid == 1 && entry("owned-numeric").uid == 1234)
        for name in [Fixture.newlineName, "café-é.txt", "日本語.txt", "-leading-dash", "dir with space/file with space.txt",
                     ".hidden", ".config/app/settings.ini", "empty"] {
            #expect(tree[name] != nil, "\(name.debugDescription) missing")
        }
        #expect(try entry("empty.txt").sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
