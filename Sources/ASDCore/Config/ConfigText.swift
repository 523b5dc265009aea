/// The config text as editors on other systems save it, made into what bash on
/// Linux reads: a leading UTF-8 byte-order mark is dropped and CRLF line ends
/// become LF. A lone CR stays (an error where it is not quoted).
enum ConfigText {
    static func normalized(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        guard scalars.contains("\r") else { return String(scalars) }
        var out = String.UnicodeScalarView()
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let next = scalars.index(after: index)
            if !(scalars[index] == "\r" && next < scalars.endIndex && scalars[next] == "\n") {
                out.append(scalars[index])
            }
            index = next
        }
        return String(out)
    }
}
