import ASDCopy
import ASDSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `asd parse --json`: the report through Foundation's JSONEncoder, keys
/// sorted so that the output is stable (`NullCoded` writes nil as null, so
/// every documented key is always present).
extension ParseReport {
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(json: String) throws -> ParseReport {
        try JSONDecoder().decode(ParseReport.self, from: Data(json.utf8))
    }
}
