#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// stdout / stderr written with write(2), unbuffered, so lines reach the
/// journal in order even when the process is killed.
public enum StandardStream: Sendable {
    case output, error

    public var fd: Int32 { self == .output ? STDOUT_FILENO : STDERR_FILENO }

    /// isatty(3).
    public var isTerminal: Bool { isatty(fd) == 1 }

    /// write(2) until everything is out; gives up silently on a closed stream.
    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
