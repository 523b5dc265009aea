import ASDCopy
import ASDSystem
/// The distribution's name from /etc/os-release, for the header line.
enum OSRelease {
    static func prettyName(path: FilePath = "/etc/os-release") -> String? {
        guard let text = try? readTextFile(path) else { return nil }
        var name: String?
        for line in text.split(separator: "\n") {
            for key in ["PRETTY_NAME=", "NAME="] where line.hasPrefix(key) {
                var value = line.dropFirst(key.count)
                if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                    value = value.dropFirst().dropLast()
                }
                if key == "PRETTY_NAME=" || name == nil { name = String(value) }
            }
        }
        return name.flatMap { $0.isEmpty ? nil : $0 }
    }
}
