#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Reads a whole file as UTF-8 text with open(2) / read(2) (O_CLOEXEC).
/// Invalid UTF-8 sequences become U+FFFD.
func readTextFile(_ path: String) throws(Errno) -> String {
    let fd = try retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
    defer { chunk.deallocate() }
    while true {
        let count = try retryingEINTR { read(fd, chunk.baseAddress, chunk.count) }
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
