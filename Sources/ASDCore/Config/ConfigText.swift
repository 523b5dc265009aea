import ASDCopy
import ASDSystem
/// The config as editors on other systems save it, made into what bash on
/// Linux reads: a leading UTF-8 byte-order mark is dropped and CRLF line ends
/// become LF. A lone CR stays (an error where it is not quoted). Bytes in,
/// bytes out: nothing else is touched, whatever the encoding.
enum ConfigText {
    static let byteOrderMark: [UInt8] = [0xef, 0xbb, 0xbf]

    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var input = bytes[...]
        if input.starts(with: byteOrderMark) { input = input.dropFirst(byteOrderMark.count) }
        guard input.contains(0x0d) else { return Array(input) }
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var index = input.startIndex
        while index < input.endIndex {
            let next = input.index(after: index)
            if !(input[index] == 0x0d && next < input.endIndex && input[next] == 0x0a) {
                out.append(input[index])
            }
            index = next
        }
        return out
    }
}
