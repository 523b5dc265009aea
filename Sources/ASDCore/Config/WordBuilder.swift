import ASDCopy
import ASDSystem
/// Collects the bytes of one word; in an array, unquoted expansions split
/// into several elements on blanks as bash's word splitting does.
struct WordBuilder {
    let splitting: Bool
    private var fields: [FilePath] = []
    private var current: [UInt8] = []
    /// True once anything (even `""`) was written to the current field.
    private var hasContent = false

    init(splitting: Bool) { self.splitting = splitting }

    mutating func appendQuoted(_ bytes: [UInt8]) {
        current += bytes
        hasContent = true
    }

    mutating func appendExpansion(_ bytes: [UInt8]) {
        guard splitting else {
            current += bytes
            return
        }
        for byte in bytes {
            if byte == 0x20 || byte == 0x09 || byte == 0x0a {
                if hasContent { fields.append(FilePath(bytes: current)) }
                current = []
                hasContent = false
            } else {
                current.append(byte)
                hasContent = true
            }
        }
    }

    func finish() -> [FilePath] {
        guard splitting else { return [FilePath(bytes: current)] }
        return hasContent ? fields + [FilePath(bytes: current)] : fields
    }
}
