import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// The RAM_ONLY matcher against rsync itself: for each pattern, the paths asd keeps
/// out of a generated tree are exactly those `rsync -a --dry-run --exclude=PATTERN`
/// does not transfer (no root needed). Against the `rsync` on PATH and every binary
/// listed, colon-separated, in `ASD_TEST_RSYNC_BINARIES` (CI adds Debian 12's 3.2.7,
/// unpacked from its package: `.ci/run`); a listed binary that does not run fails.
@Suite("PatternDifferential", .enabled(if: Subprocess.which("rsync") != nil || ProcessEnvironment.current()["ASD_REQUIRE_PRIVILEGED"] == "1",
                                       "needs rsync(1)"))
struct PatternDifferentialTests {
    static let patterns = [
        "cache", "cache/", "/cache", "/cache/", "*.swp", ".*.swp", "*~", "*.tmp", "lock", "*.lock",
        "tmp", "/tmp/", "a/b", "a/b/", "/a/b", "b/c", "/a/*/c", "a/*", "*/c", "**/c",
        "a/**", "a/**/c", "/a/**", "**.log", "sub/**.log", "**/logs/*.log", "?", "??", "?.txt", "[ab]",
        "[!ab]*", "[a-c]*.txt", "[[:digit:]]*", "x[", "Cache*", "*cache*", "/deep/*/*/f", "deep/**/f",
        "/a/***", "logs/***", "*/", "/*", "*", "no-such-name", "*.[ch]", "f\\*", "d e", "/a/b/c/",
    ]

    /// A tree with names the patterns above tell apart, as relative paths (directories end in /).
    static let tree = [
        "cache/", "cache/x", "a/", "a/b/", "a/b/c", "a/z/", "a/z/c/", "a/z/c/e", "a/x/", "a/x/c", "a/cache", "b/", "b/c/", "b/c/d.txt",
        ".main.c.swp", "notes~", "sub/", "sub/1.log", "sub/deep/", "sub/deep/2.log", "logs/", "logs/3.log", "logs/old/",
        "logs/old/4.log", "tmp/", "tmp/file", "x/", "x/tmp", "x/tmp2", "x/lock", "x/y.lock", "q", "1.txt", "ab",
        "cx", "7up", "x[", "f*", "fa", "d e", "Cache1/", "Cache1/k", "mycache.db", "deep/", "deep/1/", "deep/1/2/",
        "deep/1/2/f", "deep/f", "m.c", "m.h", "m.o",
    ]

    func shell(_ script: String, _ dir: String) throws -> String {
        let result = try Subprocess.run(["bash", "-ec", "cd \"$0\"; " + script, dir], captureOutput: true)
        try #require(result.status == .exited(0), "\(script): \(result.standardError)")
        return result.outputText
    }

    /// Everything below `src` asd keeps out with `filter` (an excluded directory
    /// takes its contents with it).
    func keptOut(_ filter: ExclusionFilter) -> Set<String> {
        var out = Set<String>()
        for entry in Self.tree {
            let isDirectory = entry.hasSuffix("/")
            let path = isDirectory ? String(entry.dropLast()) : entry
            let components = path.split(separator: "/")
            for depth in 1...components.count {
                let prefix = components.prefix(depth).joined(separator: "/")
                if filter.excludes(FilePath(prefix), isDirectory: depth < components.count || isDirectory) {
                    out.insert(path)
                    break
                }
            }
        }
        return out
    }

    static var binaries: [String] {
        let extra = ProcessEnvironment.current()["ASD_TEST_RSYNC_BINARIES"] ?? ""
        return ["rsync"] + extra.split(separator: ":").map(String.init)
    }

    @Test("at least 40 patterns: asd keeps out exactly what rsync skips", arguments: binaries)
    func againstRsync(rsync: String) throws {
        #expect(Self.patterns.count >= 40)
        let version = try Subprocess.run([rsync, "--version"], captureOutput: true)
        try #require(version.status == .exited(0), "\(rsync) --version: \(version.standardError)")
        print("PatternDifferential: \(rsync): \(version.outputText.split(separator: "\n").first ?? "")")
        var template = Array("/tmp/asd-pattern-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw Errno.current }
        let dir = String(cString: made)
        defer { _ = try? Subprocess.run(["rm", "-rf", "--", dir]) }
        var script = "mkdir src\n"
        for entry in Self.tree {
            script += entry.hasSuffix("/") ? "mkdir -p 'src/\(entry)'\n" : "printf x > 'src/\(entry)'\n"
        }
        _ = try shell(script, dir)
        let all = Set(Self.tree.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
        var mismatches: [String] = []
        for pattern in Self.patterns {
            let result = try Subprocess.run(
                [rsync, "-a", "--dry-run", "--out-format=%n", "--exclude=" + pattern, dir + "/src/", dir + "/dst/"],
                captureOutput: true)
            try #require(result.status == .exited(0), "rsync: \(result.standardError)")
            let sent = Set(result.outputText.split(separator: "\n").map { $0.hasSuffix("/") ? String($0.dropLast()) : String($0) })
            let rsyncSkips = all.subtracting(sent)
            let asdSkips = keptOut(ExclusionFilter(ramOnly: [PathPattern(FilePath(pattern))]))
            if rsyncSkips != asdSkips {
                mismatches.append("\(pattern): \(rsync) skips \(rsyncSkips.sorted()), asd keeps out \(asdSkips.sorted())")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }
}
