import ASDSystem
import CASDBlockHash

/// A 128-bit block checksum (`asd_block_hash128` in CASDBlockHash): two 64-bit words.
public struct BlockHash: Equatable, Hashable, Sendable {
    public var low: UInt64
    public var high: UInt64

    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }
}

/// The keyed block checksum of block records (doc/DESIGN.md, "Block
/// records"): a key expanded from a 128-bit seed, and the hashes of the
/// blocks of a buffer. About 10 GB/s with AVX2, 6 with SSE2 (Tests/bench).
public struct BlockHasher: Sendable {
    public let seed: (UInt64, UInt64)
    private let key: [UInt64]

    public init(seed: (UInt64, UInt64)) {
        self.seed = seed
        var key = [UInt64](repeating: 0, count: Int(ASD_BLOCK_HASH_KEY_WORDS))
        key.withUnsafeMutableBufferPointer { asd_block_hash_expand(seed.0, seed.1, $0.baseAddress!) }
        self.key = key
    }

    /// A new random seed (getrandom(2) through the system generator).
    public static func randomSeed() -> (UInt64, UInt64) {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }

    public func hash(_ bytes: UnsafeRawBufferPointer) -> BlockHash {
        var out: (UInt64, UInt64) = (0, 0)
        key.withUnsafeBufferPointer { key in
            withUnsafeMutableBytes(of: &out) { raw in
                asd_block_hash128(bytes.baseAddress, bytes.count, key.baseAddress!, raw.baseAddress!.assumingMemoryBound(to: UInt64.self))
            }
        }
        return BlockHash(low: out.0, high: out.1)
    }

    public func hash(_ bytes: [UInt8]) -> BlockHash {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The hashes of the `blockSize`-byte blocks of `bytes` (the last one may be shorter), appended to `hashes`.
    public func appendHashes(of bytes: UnsafeRawBufferPointer, blockSize: Int, to hashes: inout [BlockHash]) {
        guard !bytes.isEmpty else { return }
        let count = (bytes.count + blockSize - 1) / blockSize
        var words = [UInt64](repeating: 0, count: 2 * count)
        key.withUnsafeBufferPointer { key in
            words.withUnsafeMutableBufferPointer { out in
                _ = asd_block_hashes(bytes.baseAddress, bytes.count, blockSize, key.baseAddress!, out.baseAddress!)
            }
        }
        for index in 0..<count { hashes.append(BlockHash(low: words[2 * index], high: words[2 * index + 1])) }
    }

    /// Chooses the implementation (0 best, 1 plain C, 2 SSE2); returns the one in use. Tests and benchmarks.
    @discardableResult
    public static func select(_ variant: Int32) -> Int32 { asd_block_hash_select(variant) }
}
