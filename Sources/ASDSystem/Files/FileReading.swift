#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Reads a whole file's bytes with open(2) / read(2) (O_CLOEXEC), until EOF
/// (proc files report size 0).
public func readFile(_ path: FilePath) throws(Errno) -> [UInt8] {
    let fd = try path.withCString { (c) throws(Errno) in try retryingEINTR { open(c, O_RDONLY | O_CLOEXEC) } }
    defer { close(fd) }
    var bytes: [UInt8] = []
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
    defer { chunk.deallocate() }
    while true {
        let count = try retryingEINTR { read(fd, chunk.baseAddress, chunk.count) }
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// `readFile` as UTF-8 text; invalid UTF-8 sequences become U+FFFD (for
/// text the kernel or the system writes, never for paths).
public func readTextFile(_ path: FilePath) throws(Errno) -> String {
    String(decoding: try readFile(path), as: UTF8.self)
}
