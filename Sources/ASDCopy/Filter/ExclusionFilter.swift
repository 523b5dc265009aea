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

    /// Whether `relative` or one of the directories above it is left out.
    public func excludesTree(_ relative: FilePath, isDirectory: Bool) -> Bool {
        guard !isEmpty else { return false }
        let components = relative.components
        var prefix = FilePath(bytes: [])
        for (index, component) in components.enumerated() {
            prefix = prefix.appending(component)
            if excludes(prefix, isDirectory: index < components.count - 1 || isDirectory) { return true }
        }
        return false
    }

    /// rsync `--exclude` patterns with the same effect: excluded from the transfer
    /// and, as rsync's exclude rules count on the receiving side too, protected
    /// from `--delete`. A DISK_ONLY directory is a literal anchored at the root.
    var rsyncExcludes: [FilePath] {
        diskOnly.map { FilePath("/").appendingBytes(RsyncCommand.pattern($0)).appendingBytes("/") } + ramOnly.map(\.text)
    }
}
