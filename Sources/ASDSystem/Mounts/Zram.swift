#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The kernel's zram block devices through sysfs (Documentation/admin-guide/
/// blockdev/zram.rst): `hot_add` makes a device and names its number,
/// `hot_remove` removes one, each device's attributes set and report it.
/// Knows nothing of asd: which device is whose is decided above this layer.
public enum Zram {
    public static let control: FilePath = "/sys/class/zram-control"

    /// True when the zram module is loaded with hot_add (kernel 4.2+).
    public static var isAvailable: Bool { FileOps.exists(control.appending("hot_add")) }

    /// A new, unconfigured device: reading `hot_add` creates it.
    public static func hotAdd() throws(Errno) -> Int {
        let text = try readTextFile(control.appending("hot_add"))
        guard let number = Int(text.trimmingWhitespace) else { throw Errno(rawValue: EIO) }
        return number
    }

    /// Removes device `number` (it must be reset: EBUSY while in use).
    public static func hotRemove(_ number: Int) throws(Errno) {
        try writeAttribute(control.appending("hot_remove"), "\(number)")
    }

    /// /sys/block/zramN.
    public static func sysfs(_ number: Int) -> FilePath { "/sys/block/zram\(number)" }

    /// /dev/zramN.
    public static func node(_ number: Int) -> FilePath { "/dev/zram\(number)" }

    public static func exists(_ number: Int) -> Bool { FileOps.exists(sysfs(number)) }

    /// The numbers of every zram device there is now (/sys/block/zramN).
    public static func devices() -> [Int] {
        guard let names = try? DirectoryHandle(path: "/sys/block").entries() else { return [] }
        return names.compactMap { name in
            let text = name.description
            return text.hasPrefix("zram") ? Int(text.dropFirst(4)) : nil
        }.sorted()
    }

    /// No size set yet (`disksize` 0): a device as hot_add leaves it, holding no memory.
    public static func isUnconfigured(_ number: Int) -> Bool { (try? get("disksize", of: number)) == "0" }

    /// Nothing is stacked on device `number` (its `holders` directory is empty).
    public static func hasNoHolders(_ number: Int) -> Bool {
        (try? DirectoryHandle(path: sysfs(number).appending("holders")).entries().isEmpty) ?? false
    }

    /// When device `number` was made: the modification time of its node,
    /// which devtmpfs creates as the kernel adds the device (sysfs' own
    /// times are those of the first lookup, not of the device).
    public static func created(_ number: Int) -> FileTime? {
        (try? DirectoryHandle(path: "/dev").statusIfExists(FilePath("zram\(number)")))??.modificationTime
    }

    /// Writes `value` to the attribute `name` of device `number`.
    public static func set(_ name: String, of number: Int, to value: String) throws(Errno) {
        try writeAttribute(sysfs(number).appending(FilePath(name)), value)
    }

    /// The attribute `name` of device `number`, whitespace trimmed.
    public static func get(_ name: String, of number: Int) throws(Errno) -> String {
        try readTextFile(sysfs(number).appending(FilePath(name))).trimmingWhitespace
    }

    /// `comp_algorithm`: every algorithm offered, and the one chosen ("[lz4]").
    public static func algorithms(of number: Int) throws(Errno) -> (offered: [String], current: String?) {
        let words = try get("comp_algorithm", of: number).split(separator: " ").map(String.init)
        let current = words.first { $0.hasPrefix("[") }.map { String($0.dropFirst().dropLast()) }
        return (words.map { $0.hasPrefix("[") ? String($0.dropFirst().dropLast()) : $0 }, current)
    }

    /// `diskseq`: a number the kernel gives each new block device, never reused
    /// until reboot (5.15+); nil when the kernel has none.
    public static func sequence(of number: Int) -> UInt64? {
        (try? get("diskseq", of: number)).flatMap { UInt64($0) }
    }

    /// Resets device `number` (frees its memory; EBUSY while mounted or
    /// open). Just after an unmount, udev's probe of the closed device may
    /// still hold it open for a few milliseconds: EBUSY is retried every
    /// 2 ms (not longer: unsync waits for it) for up to two seconds.
    public static func reset(_ number: Int) throws(Errno) {
        var attempts = 0
        while true {
            do throws(Errno) {
                return try set("reset", of: number, to: "1")
            } catch {
                attempts += 1
                if error.rawValue != EBUSY || attempts >= 1000 { throw error }
                usleep(2_000)
            }
        }
    }

    /// Asks zsmalloc to give back the pages that freed objects left half empty.
    public static func compact(_ number: Int) {
        try? set("compact", of: number, to: "1")
    }

    /// `mm_stat` of device `number`.
    public static func memory(of number: Int) throws(Errno) -> ZramMemory {
        guard let stats = ZramMemory(mmStat: try get("mm_stat", of: number)) else { throw Errno(rawValue: EIO) }
        return stats
    }

    /// This boot's id (/proc/sys/kernel/random/boot_id).
    public static func bootID() -> String {
        (try? readTextFile("/proc/sys/kernel/random/boot_id"))?.trimmingWhitespace ?? ""
    }

    /// open(2) O_WRONLY, one write(2): how sysfs attributes take a value.
    static func writeAttribute(_ path: FilePath, _ value: String) throws(Errno) {
        let fd = try path.withCString { (c) throws(Errno) in try retryingEINTR(.open) { open(c, O_WRONLY | O_CLOEXEC) } }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let written = bytes.withUnsafeBytes { buffer in syscall(.write) { write(fd, buffer.baseAddress, buffer.count) } }
        if written < 0 { throw Errno.current }
        if written != bytes.count { throw Errno(rawValue: EIO) }
    }
}

/// The first fields of a zram device's `mm_stat` (bytes).
public struct ZramMemory: Equatable, Sendable {
    /// Uncompressed size of the data stored.
    public var originalData: UInt64
    /// Compressed size of that data.
    public var compressedData: UInt64
    /// RAM the device uses, allocator overhead included (mem_used_total).
    public var memoryUsed: UInt64

    public init(originalData: UInt64, compressedData: UInt64, memoryUsed: UInt64) {
        self.originalData = originalData
        self.compressedData = compressedData
        self.memoryUsed = memoryUsed
    }

    /// "orig_data_size compr_data_size mem_used_total mem_limit ...".
    public init?(mmStat: String) {
        let fields = mmStat.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
        guard fields.count >= 3 else { return nil }
        self.init(originalData: fields[0], compressedData: fields[1], memoryUsed: fields[2])
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    public var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
