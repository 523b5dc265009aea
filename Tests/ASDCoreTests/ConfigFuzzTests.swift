import Foundation
import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// Seeded fuzzing of the config lexer and parser (doc/DESIGN.md §2): random bytes,
/// mutations and truncations of valid configs, deep nesting, huge lines and NULs.
/// Every input must give either values (then settings or a settings error) or a
/// syntax error naming a line that exists; never a crash or a hang.
///
/// Bounded in CI; `ASD_FUZZ_ITERATIONS=N` runs N cases per generator instead
/// (e.g. 200000 for a long run), `ASD_FUZZ_SEED=S` replays one seed. A failure
/// prints the seed, the generator and the case number, which replay it exactly.
@Suite("ConfigFuzz")
struct ConfigFuzzTests {
    static let environment = ProcessInfo.processInfo.environment
    static let iterations = Int(environment["ASD_FUZZ_ITERATIONS"] ?? "") ?? 400
    static let seed = UInt64(environment["ASD_FUZZ_SEED"] ?? "") ?? 0x5eed_a5d0_c0f1_6001

    /// Valid configs the mutators start from (each parses without error).
    static let corpus: [String] = [
        "WHATTOSYNC=('/srv/http' '/var/lib/monitorix')\nVOLATILE=\"/tmp\"\nUSE_OVERLAYFS=\"no\"\n",
        "# comment\nWHATTOSYNC=(\n  /home/u/.cache # inline\n  \"/srv/a b\"\n)\nWHATTOSYNC+=( '/x' )\nBACKUP_LIMIT=3\n",
        "BASE=/srv\nWHATTOSYNC=(\"$BASE/a\" ${BASE}/b \"${MISSING:-/srv/c}\" ${HOME}/d)\nUSE_BACKUPS=yes\n",
        "VOLATILE='/dev/shm'\nWHATTOSYNC=('/a\\'b' \"/q\\\"x\" /e\\ f)\nENABLE_HARDLINK_SAFETY_CHECK=0\n",
        "X=\"${A-${B:-${C}}}\"\nWHATTOSYNC=(/t)\n\n\n# end\n",
    ]

    /// Tokens the mutators splice in: quoting, expansions, operators, line ends, NUL, BOM.
    static let tokens: [String] = [
        "\"", "'", "\\", "$", "${", "}", "$(", ")", "(", "`", ";", "&", "|", "<", ">", "#", "=", "+=",
        "\n", "\r\n", "\r", "\0", "\u{FEFF}", " ", "\t", "${X:-", "${X-", "$((", "WHATTOSYNC=(", "\\\n",
        "é", "\u{1F600}", "[0]=", "export ", "X=", "${!X}", "~",
    ]

    enum Generator: String, CaseIterable, CustomTestStringConvertible {
        case randomBytes, mutation, truncation, deepNesting, hugeLine, nuls
        var testDescription: String { rawValue }
    }

    /// A hang fails the test instead of stalling CI; generous (the bounded run takes a
    /// few seconds alone, but shares the machine with the whole suite; debug builds
    /// parse about 1 MiB per second) and growing with the iterations.
    static let timeLimitMinutes = 10 + iterations / 1000

    @Test(.timeLimit(.minutes(timeLimitMinutes)), arguments: Generator.allCases)
    func neverCrashesOrHangs(_ generator: Generator) {
        var random = SplitMix64(seed: Self.seed ^ UInt64(generator.hashValueStable))
        let count: Int
        switch generator {
        case .hugeLine: count = max(Self.iterations / 100, 3)
        case .deepNesting: count = max(Self.iterations / 20, 5)
        default: count = Self.iterations
        }
        for index in 0..<count {
            let bytes = Self.input(generator, &random)
            let text = String(decoding: bytes, as: UTF8.self)
            if let problem = Self.check(text) {
                Issue.record("seed \(Self.seed) \(generator) case \(index): \(problem)")
                return
            }
        }
    }

    /// Deep nesting specifically: 100 000 nested `${X:-` must be an error, not a stack overflow.
    @Test func deeplyNestedDefaultsAreAnError() {
        let depth = 100_000
        let text = "X=" + String(repeating: "${A:-", count: depth) + "v" + String(repeating: "}", count: depth) + "\n"
        #expect(throws: ASDError.self) { try ConfigFile.parse(text, file: "/f", environment: [:]) }
        #expect(Self.check(text) == nil)
    }

    /// nil when `text` behaved; else what went wrong.
    static func check(_ text: String) -> String? {
        let lineCount = text.unicodeScalars.reduce(1) { $0 + ($1 == "\n" ? 1 : 0) }
        let values: ConfigValues
        do {
            values = try ConfigFile.parse(text, file: "/etc/fuzz.conf", environment: ["HOME": "/home/u"])
        } catch {
            guard case .configSyntax(let file, let line, _, let reason) = error else {
                return "parse threw a non-syntax error: \(error.message)"
            }
            if file != "/etc/fuzz.conf" { return "the error names file \(file)" }
            if line < 1 || line > lineCount { return "the error names line \(line) of \(lineCount)" }
            if reason.isEmpty || error.message.isEmpty { return "the error has no reason" }
            return nil
        }
        do {
            _ = try Settings.from(values, file: "/etc/fuzz.conf")
        } catch {
            if error.message.isEmpty { return "a settings error without a message" }
        }
        return nil
    }

    static func input(_ generator: Generator, _ random: inout SplitMix64) -> [UInt8] {
        switch generator {
        case .randomBytes:
            // Mostly printable ASCII with some of everything else, so the lexer gets past line 1.
            return (0..<random.below(2000)).map { _ in
                random.below(4) == 0 ? UInt8(random.below(256)) : UInt8(9 + random.below(118))
            }
        case .mutation:
            var bytes = Array(corpus[random.below(corpus.count)].utf8)
            for _ in 0...random.below(8) { mutate(&bytes, &random) }
            return bytes
        case .truncation:
            let bytes = Array(corpus[random.below(corpus.count)].utf8)
            return Array(bytes.prefix(random.below(bytes.count + 1)))
        case .deepNesting:
            let depth = 1 + random.below(50_000)
            let opener = ["${A:-", "${A-", "\"${A:-", "(", "$(", "${"][random.below(6)]
            let closer = ["}", "}\"", ")", ""][random.below(4)]
            let text = "X=" + String(repeating: opener, count: depth) + "v"
                + String(repeating: closer, count: random.below(depth + 1)) + "\n"
            return Array(text.utf8)
        case .hugeLine:
            let length = 100_000 + random.below(1_000_000)
            let filler = ["a", " /x", "\\ ", "$A", "'q'"][random.below(5)]
            let body = String(repeating: filler, count: length / filler.utf8.count)
            let text = ["X=", "WHATTOSYNC=(", "# ", "X=\"", ""][random.below(5)] + body + (random.below(2) == 0 ? ")\n" : "")
            return Array(text.utf8)
        case .nuls:
            var bytes = Array(corpus[random.below(corpus.count)].utf8)
            for _ in 0...random.below(5) { bytes.insert(0, at: random.below(bytes.count + 1)) }
            return bytes
        }
    }

    static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let at = random.below(bytes.count + 1)
        switch random.below(5) {
        case 0:  // flip a byte
            if at < bytes.count { bytes[at] = UInt8(random.below(256)) }
        case 1:  // splice a token in
            bytes.insert(contentsOf: Array(tokens[random.below(tokens.count)].utf8), at: at)
        case 2:  // delete a range
            let end = min(bytes.count, at + random.below(16))
            if at < end { bytes.removeSubrange(at..<end) }
        case 3:  // duplicate a range
            let end = min(bytes.count, at + random.below(64))
            if at < end { bytes.insert(contentsOf: bytes[at..<end], at: random.below(bytes.count + 1)) }
        default:  // swap a quote for another
            let quotes = Array("'\"$(){}\\\n".utf8)
            if at < bytes.count { bytes[at] = quotes[random.below(quotes.count)] }
        }
    }
}

/// SplitMix64: a small seeded generator, the same sequence on every machine.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform-enough in 0..<bound (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}

extension ConfigFuzzTests.Generator {
    /// A per-generator seed offset that does not depend on Swift's randomised hashing.
    var hashValueStable: Int { rawValue.utf8.reduce(7) { $0 &* 31 &+ Int($1) } }
}
