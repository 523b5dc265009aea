/// What the comparator looks at; `links` (hard-link count) is off by default because a
/// disk copy shares inodes with asd's hardlink snapshot while running.
enum TreeProperty: String, CaseIterable, Sendable {
    case kind = "type", mode, owner, group, size, mtime, linkTarget = "symlink target"
    case content, device, xattrs, links = "link count"
}

/// How two manifests are compared.
struct TreeComparison: Sendable {
    /// Properties not compared.
    var ignoring: Set<TreeProperty> = [.links]
    /// Paths (relative, "." for the root) left out together with everything below them.
    var excluding: Set<String> = []
    /// Directory mtimes of the root only: they change when asd adds or removes its own
    /// entries (e.g. `.flagged`), so lifecycle tests usually leave them out.
    var ignoreRootMtime = false
    /// Directory mtimes everywhere (e.g. for upstream, whose `rsync --delete-after` sets
    /// a directory's time before deleting inside it).
    var ignoreDirectoryMtimes = false

    static let strict = TreeComparison()

    /// For comparing a target's tmpfs view with disk state: no `.flagged`, no root mtime.
    static let lifecycle = TreeComparison(excluding: [".flagged"], ignoreRootMtime: true)

    func excludes(_ path: String) -> Bool {
        excluding.contains { path == $0 || path.hasPrefix($0 == "." ? "" : $0 + "/") }
    }
}

extension TreeManifest {
    /// Every difference between `self` (left) and `other` (right), one readable line
    /// each, sorted by path: "mode of a/b: 0644 vs 0600", "a/c: only in left (file)".
    func differences(from other: TreeManifest, _ comparison: TreeComparison = .strict) -> [String] {
        var lines: [String] = []
        for path in Set(entries.keys).union(other.entries.keys).sorted() where !comparison.excludes(path) {
            switch (entries[path], other.entries[path]) {
            case let (left?, right?):
                lines += left.differences(from: right, comparison)
            case let (left?, nil):
                lines.append("\(path.debugQuoted): only in left (\(left.kind))")
            case let (nil, right?):
                lines.append("\(path.debugQuoted): only in right (\(right.kind))")
            case (nil, nil):
                break
            }
        }
        return lines
    }

    /// This manifest without `paths` (and what lies below them).
    func removing(_ paths: Set<String>) -> TreeManifest {
        let filter = TreeComparison(excluding: paths)
        return TreeManifest(entries: entries.values.filter { !filter.excludes($0.path) })
    }
}

extension TreeEntry {
    func differences(from other: TreeEntry, _ comparison: TreeComparison) -> [String] {
        let name = path.debugQuoted
        var lines: [String] = []
        func check<T: Equatable>(_ property: TreeProperty, _ left: T, _ right: T, _ show: (T) -> String) {
            if !comparison.ignoring.contains(property) && left != right {
                lines.append("\(property.rawValue) of \(name): \(show(left)) vs \(show(right))")
            }
        }
        check(.kind, kind, other.kind) { "\($0)" }
        guard kind == other.kind else { return lines }
        check(.mode, modeText, other.modeText) { $0 }
        check(.owner, uid, other.uid) { "uid \($0)" }
        check(.group, gid, other.gid) { "gid \($0)" }
        if kind == .file {  // directory sizes depend on the filesystem
            check(.size, size, other.size) { "\($0) bytes" }
            check(.content, sha256, other.sha256) { "sha256 " + String(($0 ?? "-").prefix(12)) }
        }
        if !(path == "." && comparison.ignoreRootMtime) && !(kind == .directory && comparison.ignoreDirectoryMtimes) {
            check(.mtime, mtime, other.mtime) { $0.description }
        }
        check(.links, links, other.links) { "\($0)" }
        check(.linkTarget, linkTarget, other.linkTarget) { ($0 ?? "-").debugQuoted }
        check(.device, device, other.device) { $0 ?? "-" }
        if !comparison.ignoring.contains(.xattrs) {
            for key in Set(xattrs.keys).union(other.xattrs.keys).sorted() where xattrs[key] != other.xattrs[key] {
                let show = { (value: String?) in value.map(TreeEntry.readable(xattr:)) ?? "absent" }
                lines.append("xattr \(key) of \(name): \(show(xattrs[key])) vs \(show(other.xattrs[key]))")
            }
        }
        return lines
    }
}

extension String {
    /// The path as is, or quoted with escapes when it holds spaces or control characters.
    var debugQuoted: String {
        contains(where: { $0 == " " || $0.asciiValue.map { $0 < 0x20 } ?? false }) ? debugDescription : self
    }
}

import Testing

/// Records one issue listing every difference between `expected` and `actual`.
func expectSameTree(
    _ expected: TreeManifest, _ actual: TreeManifest, _ comparison: TreeComparison = .strict, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let lines = expected.differences(from: actual, comparison)
    if !lines.isEmpty {
        let shown = lines.prefix(40).joined(separator: "\n  ") + (lines.count > 40 ? "\n  …" : "")
        Issue.record("\(what): \(lines.count) difference(s) (left = expected, right = actual):\n  \(shown)",
                     sourceLocation: sourceLocation)
    }
}
