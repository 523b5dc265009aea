import ASDSystem
/// What the copiers leave out of one target (doc/DESIGN.md §2, "RAM_ONLY and DISK_ONLY"):
/// paths matching a RAM-only pattern, and the disk-only directories. An excluded
/// path is neither copied nor deleted on either side, and a directory that is
/// excluded is not entered. Paths are relative to the target's root.
public struct ExclusionFilter: Sendable, Hashable {
    /// RAM_ONLY patterns in force for this target, relative to its root.
    public var ramOnly: [PathPattern]
    /// DISK_ONLY directories inside this target, relative to its root.
    public var diskOnly: [FilePath]

    public init(ramOnly: [PathPattern] = [], diskOnly: [FilePath] = []) {
        self.ramOnly = ramOnly
        self.diskOnly = diskOnly
    }

    public static let none = ExclusionFilter()

    public var isEmpty: Bool { ramOnly.isEmpty && diskOnly.isEmpty }

    /// Whether the entry at `relative` is left out (its parents are not).
    public func excludes(_ relative: FilePath, isDirectory: Bool) -> Bool {
        if isDirectory && diskOnly.contains(relative) { return true }
        return ramOnly.contains { $0.matches(relative, isDirectory: isDirectory) }
    }

    /// rsync filter rules with the same effect: `-` excludes from the transfer and
    /// protects from `--delete` on the receiving side (rsync's `--filter='- P'`
    /// counts for both sides unless marked `s` or `r`).
    public var rsyncRules: [String] {
        var rules: [String] = []
        for directory in diskOnly { rules.append("- /" + Self.escaped(directory.description) + "/") }
        for pattern in ramOnly { rules.append("- " + pattern.text.description) }
        return rules
    }

    /// A literal path as an rsync pattern: wildcard characters escaped.
    static func escaped(_ literal: String) -> String {
        var out = ""
        for character in literal {
            if "*?[\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
