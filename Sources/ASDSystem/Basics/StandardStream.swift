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

    /// True when this stream is the journal stream that `$JOURNAL_STREAM`
    /// names ("device:inode" in decimal, systemd.exec(5)): fstat(2) of the
    /// descriptor shows the same device and inode. A terminal, a file or a
    /// pipe the journal variable was inherited across never matches.
    public func isJournalStream(_ journalStream: String?) -> Bool {
        Self.descriptor(fd, isJournalStream: journalStream)
    }

    static func descriptor(_ fd: Int32, isJournalStream journalStream: String?) -> Bool {
        guard let wanted = journalStream.flatMap(Self.journalStreamID) else { return false }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        return UInt64(st.st_dev) == wanted.device && UInt64(st.st_ino) == wanted.inode
    }

    /// `$JOURNAL_STREAM`'s device and inode; nil unless it is two decimal numbers
    /// joined by one colon.
    public static func journalStreamID(_ text: String) -> (device: UInt64, inode: UInt64)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }

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
