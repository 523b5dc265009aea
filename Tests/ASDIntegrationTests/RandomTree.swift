import ASDTestSupport

/// Seeded random trees and seeded random changes for the differential tests, as bash
/// scripts run inside a scenario (`cd` into a root first). The same seed gives the same
/// script, and the script gives the same tree wherever it runs: contents come from
/// `rt_fill N TOKEN` (`yes TOKEN | head -c N`, see `prelude`), every mtime is set explicitly (directories touched by a round
/// of changes get a seeded mtime at its end), so two roots built or changed by the same
/// script are identical entry by entry. Names are written as `$'\xHH...'` words: any
/// byte but NUL and '/' (spaces, newlines, leading dashes, UTF-8 and, with `nonUTF8`,
/// bytes that are not UTF-8).
struct RandomTree {
    enum Kind: CaseIterable {
        case file, directory, symlink, fifo, charDevice, blockDevice
    }

    struct Entry {
        var path: [[UInt8]]
        var kind: Kind
        var size = 0
        var mtime = (seconds: 0, nanoseconds: 0)
    }

    /// Bash functions the generated scripts call; define them first.
    static let prelude = "rt_fill() { { yes \"$2\" || true; } | head -c \"$1\"; }"

    private(set) var entries: [Entry] = []
    private var rng: SplitMix64
    private var counter = 0
    private var generating = false
    /// Names whose bytes are not UTF-8 (Latin-1 "café", 0xFF 0xFE).
    let nonUTF8: Bool

    /// Access ACLs set on directories that already have the sticky bit. GATED: rsync
    /// (3.5.0 here) copies such a directory with an empty `group::` entry (the built-in
    /// copier keeps it), so with this on the differential test fails on rsync's side.
    let stickyDirectoryACLs: Bool

    init(seed: UInt64, nonUTF8: Bool, stickyDirectoryACLs: Bool = false) {
        rng = SplitMix64(seed: seed)
        self.nonUTF8 = nonUTF8
        self.stickyDirectoryACLs = stickyDirectoryACLs
    }

    // MARK: Building

    /// A new tree (the root exists already): a deep chain, then 30-60 random entries;
    /// then every directory's metadata, deepest first.
    mutating func generate() -> String {
        generating = true
        defer { generating = false }
        var lines: [String] = []
        var chain: [[UInt8]] = []
        for depth in 0..<rng.int(8...14) {
            chain.append(Array("deep\(depth)".utf8))
            lines.append("mkdir -- \(word(chain))")
            entries.append(Entry(path: chain, kind: .directory))
        }
        lines += create(in: chain, kind: .file)
        for _ in 0..<rng.int(30...60) {
            lines += create(in: randomDirectory(), kind: randomKind())
        }
        for index in entries.indices.reversed() where entries[index].kind == .directory {
            lines += metadata(index)
        }
        return lines.joined(separator: "\n")
    }

    /// One round of 6-14 random changes of every kind the issue lists, then a seeded
    /// mtime for each directory whose entries changed.
    mutating func mutate() -> String {
        var lines: [String] = []
        var dirty: Set<[[UInt8]]> = []
        for _ in 0..<rng.int(6...14) {
            let files = entries.indices.filter { entries[$0].kind == .file }
            let any = Array(entries.indices)
            switch rng.int(0...10) {
            case 0 where !files.isEmpty:  // rewrite: other size, other content, new mtime
                let i = rng.pick(files)
                lines.append(fill(entries[i].path, size: randomSize()))
                lines.append(touch(i))
            case 1 where !files.isEmpty:  // same size, same second, other nanoseconds
                let i = rng.pick(files)
                lines.append(fill(entries[i].path, size: entries[i].size))
                var ns = rng.int(0...999_999_999)
                if ns == entries[i].mtime.nanoseconds { ns = (ns + 1) % 1_000_000_000 }
                entries[i].mtime.nanoseconds = ns
                lines.append("touch -h -d @\(entries[i].mtime.seconds).\(pad(ns)) -- \(word(entries[i].path))")
            case 2 where !files.isEmpty:  // append
                let i = rng.pick(files), extra = rng.int(1...5000)
                lines.append("rt_fill \(extra) \(token()) >>\(word(entries[i].path))")
                lines.append(touch(i))
            case 3 where !files.isEmpty:  // truncate
                let i = rng.pick(files)
                lines.append("truncate -s \(rng.int(0...max(0, entries[i].size))) -- \(word(entries[i].path))")
                lines.append(touch(i))
            case 4 where !any.isEmpty:  // metadata only: mode, owner or xattr
                let i = rng.pick(any)
                switch rng.int(0...2) {
                case 0 where entries[i].kind != .symlink: lines.append("chmod \(randomMode(entries[i].kind)) -- \(word(entries[i].path))")
                case 1 where [.file, .directory].contains(entries[i].kind): lines.append(xattr(entries[i].path))
                default: lines.append("chown -h \(rng.pick(Self.owners)) -- \(word(entries[i].path))")
                }
            case 5 where !any.isEmpty:  // rename, within or across directories
                let i = rng.pick(any)
                let from = entries[i].path
                let parent = randomDirectory()
                if parent.starts(with: from) { continue }
                let to = parent + [newName()]
                lines.append("mv -T -- \(word(from)) \(word(to))")
                for j in entries.indices where entries[j].path.starts(with: from) {
                    entries[j].path = to + entries[j].path.dropFirst(from.count)
                }
                // Directories changed earlier in this round moved along.
                dirty = Set(dirty.map { $0.starts(with: from) ? to + $0.dropFirst(from.count) : $0 })
                dirty.insert(Array(from.dropLast()))
                dirty.insert(parent)
                if entries.contains(where: { $0.path == to && $0.kind == .directory }) { dirty.insert(to) }
            case 6 where !any.isEmpty:  // type change: same name, another kind
                let i = rng.pick(any)
                let path = entries[i].path, old = entries[i].kind
                lines += remove(path)
                var kind = randomKind()
                if kind == old { kind = old == .file ? .directory : .file }
                lines += create(in: Array(path.dropLast()), kind: kind, name: path.last!)
                dirty.insert(Array(path.dropLast()))
            case 7 where !any.isEmpty:  // delete (a whole subtree for a directory)
                let path = entries[rng.pick(any)].path
                lines += remove(path)
                dirty.insert(Array(path.dropLast()))
            default:  // create
                let parent = randomDirectory()
                lines += create(in: parent, kind: randomKind())
                dirty.insert(parent)
            }
        }
        for dir in dirty.sorted(by: { $0.count > $1.count }) where dir.isEmpty || entries.contains(where: { $0.path == dir }) {
            let stamp = randomTime()
            lines.append("touch -d @\(stamp.seconds).\(pad(stamp.nanoseconds)) -- \(dir.isEmpty ? "." : word(dir))")
            if let i = entries.firstIndex(where: { $0.path == dir }) { entries[i].mtime = stamp }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Entries

    private mutating func create(in parent: [[UInt8]], kind: Kind, name: [UInt8]? = nil) -> [String] {
        let path = parent + [name ?? newName()]
        let target = word(path)
        var lines: [String] = []
        var entry = Entry(path: path, kind: kind)
        switch kind {
        case .file:
            entry.size = randomSize()
            if rng.int(0...9) == 0 {  // sparse: a hole, then a few bytes
                entry.size = rng.int(1...4) << 20
                lines.append("truncate -s \(entry.size) -- \(target)")
                lines.append("printf \(token()) | dd of=\(target) bs=1 seek=\(rng.int(0...(entry.size - 40))) conv=notrunc status=none")
            } else {
                lines.append(fill(path, size: entry.size))
            }
        case .directory: lines.append("mkdir -- \(target)")
        case .symlink:
            let destination: [UInt8]
            switch rng.int(0...2) {
            case 0: destination = Array("does/not/exist-\(counter)".utf8)
            case 1: destination = Array("/etc/hostname".utf8)
            default: destination = Array((entries.isEmpty ? [Array("x".utf8)] : rng.pick(entries).path).joined(separator: [0x2F]))
            }
            lines.append("ln -s -- \(shellWord(destination)) \(target)")
        case .fifo: lines.append("mkfifo -- \(target)")
        case .charDevice: lines.append("mknod -- \(target) c 1 \(rng.pick([3, 5, 7, 8]))")
        case .blockDevice: lines.append("mknod -- \(target) b 7 \(rng.int(0...7))")
        }
        entries.append(entry)
        // Directories of a new tree get theirs once their entries exist (`generate`).
        if kind != .directory || !generating { lines += metadata(entries.count - 1) }
        return lines
    }

    /// Owner, then mode (chown clears setuid), xattrs and ACLs, then the mtime.
    private mutating func metadata(_ index: Int) -> [String] {
        let entry = entries[index], target = word(entry.path)
        var lines = ["chown -h \(rng.pick(Self.owners)) -- \(target)"]
        let mode = entry.kind == .symlink ? "" : randomMode(entry.kind)
        if !mode.isEmpty { lines.append("chmod \(mode) -- \(target)") }
        if entry.kind == .file || entry.kind == .directory {
            if rng.int(0...2) == 0 { lines.append(xattr(entry.path)) }
            // See `stickyDirectoryACLs`: the draw happens either way, so the gate
            // changes nothing else in the tree.
            let sticky = entry.kind == .directory && mode.hasPrefix("1")
            if rng.int(0...4) == 0 && (!sticky || stickyDirectoryACLs) { lines.append("setfacl -m u:1:r -- \(target)") }
            if entry.kind == .directory && rng.int(0...5) == 0 { lines.append("setfacl -d -m u:1:rx -- \(target)") }
        }
        lines.append(touch(index))
        return lines
    }

    private mutating func remove(_ path: [[UInt8]]) -> [String] {
        entries.removeAll { $0.path.starts(with: path) }
        return ["rm -rf -- \(word(path))"]
    }

    private mutating func fill(_ path: [[UInt8]], size: Int) -> String {
        if let i = entries.firstIndex(where: { $0.path == path }) { entries[i].size = size }
        return size == 0 ? ": >\(word(path))" : "rt_fill \(size) \(token()) >\(word(path))"
    }

    private mutating func touch(_ index: Int) -> String {
        entries[index].mtime = randomTime()
        let stamp = entries[index].mtime
        return "touch -h -d @\(stamp.seconds).\(pad(stamp.nanoseconds)) -- \(word(entries[index].path))"
    }

    private mutating func xattr(_ path: [[UInt8]]) -> String {
        let value = rng.int(0...1) == 0 ? token() : "0x" + (0..<rng.int(1...12)).map { _ in hex(UInt8(rng.int(0...255))) }.joined()
        return "setfattr -n user.k\(rng.int(0...3)) -v \(value) -- \(word(path))"
    }

    // MARK: Random choices

    static let owners = ["0:0", "1:1", "65534:65534", "1234:4321"]

    private mutating func randomKind() -> Kind {
        rng.pick([.file, .file, .file, .file, .directory, .directory, .symlink, .fifo, .charDevice, .blockDevice])
    }

    private mutating func randomSize() -> Int {
        switch rng.int(0...9) {
        case 0: return 0
        case 1: return rng.int(1...3) << 20 + rng.int(0...4095)  // multi-MB
        default: return rng.int(1...9000)
        }
    }

    private mutating func randomMode(_ kind: Kind) -> String {
        kind == .directory
            ? rng.pick(["0755", "0700", "1777", "2775", "0000", "0555"])
            : rng.pick(["0644", "0600", "0755", "4755", "2755", "6711", "0000", "0444", "1644"])
    }

    private mutating func randomDirectory() -> [[UInt8]] {
        let dirs = entries.filter { $0.kind == .directory }.map(\.path)
        return rng.int(0...3) == 0 || dirs.isEmpty ? [] : rng.pick(dirs)
    }

    private mutating func randomTime() -> (seconds: Int, nanoseconds: Int) {
        (rng.int(1_000_000_000...1_800_000_000), rng.int(0...999_999_999))
    }

    private mutating func token() -> String { "t\(rng.int(0...999_999_999))" }

    private mutating func newName() -> [UInt8] {
        counter += 1
        let n = Array(String(counter).utf8)
        var pool: [[UInt8]] = [
            Array("f".utf8), Array("with space ".utf8), Array("new\nline".utf8), Array("-dash".utf8),
            Array("café-日本".utf8), Array(".hidden".utf8), Array("tab\there".utf8),
        ]
        if nonUTF8 { pool += [[0x63, 0x61, 0x66, 0xE9], [0xFF, 0xFE, 0x20]] }
        return rng.pick(pool) + n
    }

    // MARK: Words

    /// A path relative to the root as one bash word.
    func word(_ path: [[UInt8]]) -> String {
        path.map(shellWord).joined(separator: "/")
    }

    /// `$'\xHH...'`: every byte escaped, so any byte but NUL is safe.
    func shellWord(_ bytes: [UInt8]) -> String {
        "$'" + bytes.map { "\\x" + hex($0) }.joined() + "'"
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
    }

    private func pad(_ nanoseconds: Int) -> String {
        let text = String(nanoseconds)
        return String(repeating: "0", count: 9 - text.count) + text
    }
}
