/// Collects the pieces of one word; in an array, unquoted expansions split
/// into several elements on blanks as bash's word splitting does.
struct WordBuilder {
    let splitting: Bool
    private var fields: [String] = []
    private var current = ""
    /// True once anything (even `""`) was written to the current field.
    private var hasContent = false

    init(splitting: Bool) { self.splitting = splitting }

    mutating func appendQuoted(_ text: String) {
        current += text
        hasContent = true
    }

    mutating func appendExpansion(_ text: String) {
        guard splitting else {
            current += text
            return
        }
        for c in text.unicodeScalars {
            if c == " " || c == "\t" || c == "\n" {
                if hasContent { fields.append(current) }
                current = ""
                hasContent = false
            } else {
                current.unicodeScalars.append(c)
                hasContent = true
            }
        }
    }

    func finish() -> [String] {
        guard splitting else { return [current] }
        return hasContent ? fields + [current] : fields
    }
}
