import ASDSystem
/// USE_ZRAM in `asd parse`: asd's device and what its data costs in RAM,
/// from the device's `mm_stat` (doc/DESIGN.md §11).
extension ParseReport {
    public struct ZramDevice: Codable, Equatable, Sendable {
        /// /dev/zramN; null while asd has no device (not running).
        @NullCoded public var device: String?
        /// The algorithm in use, or the one ZRAM_ALGORITHM asks for.
        @NullCoded public var algorithm: String?
        /// Uncompressed size of the device (disksize).
        @NullCoded public var sizeBytes: UInt64?
        /// Data stored, uncompressed (orig_data_size; zero-filled pages excluded).
        @NullCoded public var dataBytes: UInt64?
        /// RAM the device takes, allocator overhead included (mem_used_total).
        @NullCoded public var ramBytes: UInt64?
        /// dataBytes / ramBytes: 3.0 means the data takes a third of its size in RAM.
        @NullCoded public var ratio: Double?
    }

    /// nil unless USE_ZRAM is on.
    static func zram(engine: Engine) -> ZramDevice? {
        guard let zram = engine.settings.zram else { return nil }
        guard let number = engine.ownZramDevice() else {
            return ZramDevice(device: nil, algorithm: zram.algorithm, sizeBytes: zram.size, dataBytes: nil, ramBytes: nil, ratio: nil)
        }
        let memory = try? Zram.memory(of: number)
        let ratio = memory.flatMap { $0.memoryUsed > 0 ? Double($0.originalData) / Double($0.memoryUsed) : nil }
        return ZramDevice(
            device: Zram.node(number).description, algorithm: (try? Zram.algorithms(of: number))?.current,
            sizeBytes: (try? Zram.get("disksize", of: number)).flatMap { UInt64($0) },
            dataBytes: memory?.originalData, ramBytes: memory?.memoryUsed, ratio: ratio.map { ($0 * 100).rounded() / 100 })
    }
}

extension ParseText {
    /// "zram: /dev/zram1 (lz4, 512 MiB): 30 MiB of data in 9.8 MiB of RAM (3.06:1)."
    static func zramText(_ zram: ParseReport.ZramDevice) -> String {
        guard let device = zram.device else {
            return "on (USE_ZRAM); no device while asd is not running"
        }
        var text = "\(device) (\(zram.algorithm ?? "?")"
        if let size = zram.sizeBytes { text += ", \(formatBytes(size))" }
        text += ")"
        if let data = zram.dataBytes, let ram = zram.ramBytes {
            text += ": \(formatBytes(data)) of data in \(formatBytes(ram)) of RAM"
            if let ratio = zram.ratio { text += " (\(ratio):1)" }
        }
        return text
    }
}
