import Testing
@testable import ASDCore
@testable import ASDSystem

/// USE_ZRAM, ZRAM_ALGORITHM and ZRAM_SIZE in the config; the pieces of the
/// zram set-up that need no device (doc/DESIGN.md §11).
@Suite("zram settings")
struct ZramSettingsTests {
    static let file: FilePath = "/etc/asd.conf"

    static func load(_ text: String) throws -> Result<Settings, ASDError> {
        let values = try ConfigFile.parse("WHATTOSYNC=('/srv/http')\nVOLATILE=/run/v\n" + text, file: file, environment: [:])
        return Result { () throws(ASDError) in try Settings.from(values, file: file) }
    }

    @Test(arguments: [
        ("", nil), ("USE_ZRAM=no", nil), ("USE_ZRAM=Yes", ZramSettings(hostVolatile: "/run/v")),
        ("USE_ZRAM=on\nZRAM_SIZE=512M", ZramSettings(size: 512 << 20, hostVolatile: "/run/v")),
        ("USE_ZRAM=1\nZRAM_ALGORITHM=lz4", ZramSettings(algorithm: "lz4", algorithmSource: "/etc/asd.conf:4", hostVolatile: "/run/v")),
    ] as [(String, ZramSettings?)])
    func parsed(text: String, expected: ZramSettings?) throws {
        let settings = try Self.load(text).get()
        #expect(settings.zram == expected)
    }

    @Test(arguments: [
        ("USE_ZRAM=yes\nZRAM_SIZE=lots", "/etc/asd.conf:4", "ZRAM_SIZE", "512M or 2G"),
        ("USE_ZRAM=yes\nZRAM_SIZE=8M", "/etc/asd.conf:4", "ZRAM_SIZE", "at least 16M"),
        ("USE_ZRAM=yes\n\nZRAM_ALGORITHM='lz4 zstd'", "/etc/asd.conf:5", "ZRAM_ALGORITHM", "one compression algorithm"),
    ])
    func refused(text: String, place: String, key: String, reason: String) throws {
        guard case .failure(let error) = try Self.load(text) else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(error.message.hasPrefix("\(place): \(key)="), "\(error.message)")
        #expect(error.message.contains(reason), "\(error.message)")
    }

    @Test func zramKeysWithoutUseZramAreWarnedAbout() throws {
        let values = try ConfigFile.parse("WHATTOSYNC=('/srv/http')\nZRAM_SIZE=1G\nUSE_ZRAM=maybe\n", file: Self.file, environment: [:])
        let warnings = Settings.warnings(for: values, file: Self.file)
        #expect(warnings.contains { $0.hasPrefix("/etc/asd.conf:2: ZRAM_SIZE has no effect unless USE_ZRAM is on") })
        #expect(warnings.contains { $0.hasPrefix("/etc/asd.conf:3: USE_ZRAM='maybe' is neither") || $0.hasPrefix("/etc/asd.conf:3: USE_ZRAM=maybe is neither") })
        #expect(!warnings.contains { $0.contains("is not a setting asd knows") })
    }

    @Test(arguments: [
        ("512M", UInt64(512) << 20), ("2G", UInt64(2) << 30), ("2GiB", UInt64(2) << 30), ("64k", UInt64(64) << 10),
        ("1.5G", UInt64(3) << 29), ("1048576", UInt64(1) << 20), ("1T", UInt64(1) << 40),
    ])
    func sizes(text: String, bytes: UInt64) {
        #expect(Settings.parseSize(text) == bytes)
    }

    @Test(arguments: ["", "M", "-1G", "1..5G", ".5G", "12Q", "1e9", "GB", "0"])
    func notSizes(text: String) {
        #expect(Settings.parseSize(text) == nil)
    }

    @Test func mountPointIsHiddenBesideTheCopies() {
        #expect(ZramSettings(hostVolatile: "/tmp").mountPoint(instance: "asd") == "/tmp/.zram-asd")
    }

    @Test func formatIsBtrfsWithZstdOnlyWhenItCan() {
        let big = ZramFormat.choose(size: 1 << 30, hasBtrfs: true)
        #expect(big.fsType == "btrfs" && big.options.contains("compress-force=zstd") && big.options.contains("discard"))
        #expect(big.mkfs("/dev/zram3") == ["mkfs.btrfs", "-q", "-f", "-K", "-n", "4096", "-m", "single", "-d", "single", "/dev/zram3"])
        for small in [ZramFormat.choose(size: 128 << 20, hasBtrfs: true), ZramFormat.choose(size: 1 << 30, hasBtrfs: false)] {
            #expect(small.fsType == "ext4" && small.options == "discard")
            #expect(small.mkfs("/dev/zram3") == ["mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0", "-E", "nodiscard,lazy_itable_init=0", "/dev/zram3"])
        }
    }

    @Test func recordRoundTripsAndRejectsGarbage() {
        let record = ZramRecord(device: 3, sequence: 42, boot: "8c80-ab")
        #expect(ZramRecord(text: record.text) == record)
        #expect(ZramRecord(text: "device=3\ndiskseq=x\nboot=b\n") == nil)
        #expect(ZramRecord(text: "device=3\ndiskseq=4\n") == nil)
        // The intent (written before hot_add) names no device: it is never a record.
        let intent = ZramIntent(boot: "8c80-ab", after: 41, at: 1_796_685_002_194_168)
        #expect(ZramIntent(text: intent.text) == intent)
        #expect(ZramRecord(text: intent.text) == nil)
        #expect(ZramIntent(text: "boot=b\nafter=4\n") == nil)
    }

    @Test func memoryStatistics() {
        let stats = ZramMemory(mmStat: " 9687040  5168883  5591040        0  5873664     1019        0     1251     1251\n")
        #expect(stats == ZramMemory(originalData: 9_687_040, compressedData: 5_168_883, memoryUsed: 5_591_040))
        #expect(ZramMemory(mmStat: "") == nil)
    }
}
