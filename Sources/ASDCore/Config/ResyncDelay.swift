import ASDSystem
/// RESYNC_DELAY: continuous write-back (doc/DESIGN.md §12). A change in a
/// target is written back at most about this many seconds after it happened,
/// by `asd watch`. Empty or 0: off (upstream's behaviour, the default).
extension Settings {
    /// The longest delay accepted: a day (the hourly timer runs anyway).
    static let maximumResyncDelay = 86_400

    /// Whole seconds, optionally with a unit (`30`, `30s`, `2m`); nil when off.
    static func resyncDelay(_ values: ConfigValues, file: FilePath) throws(ASDError) -> Int? {
        guard let word = values.string("RESYNC_DELAY"), !word.isEmpty else { return nil }
        let place = values.lines["RESYNC_DELAY"].map { FilePath("\(file):\($0)") } ?? file
        let text = word.description
        var digits = Substring(text)
        var factor = 1
        if let last = digits.last, let unit = ["s": 1, "m": 60, "h": 3600][String(last).lowercased()] {
            factor = unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let number = Int(digits), number <= maximumResyncDelay / factor else {
            throw .configValue(file: place, key: "RESYNC_DELAY", value: shellQuoted(text),
                               reason: "it must be a whole number of seconds from 0 (off) to \(maximumResyncDelay), e.g. 60 (a suffix m or h means minutes or hours)")
        }
        return number == 0 ? nil : number * factor
    }
}
