#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The kernel log (/dev/kmsg): where a systemd generator reports, since it runs
/// before the journal (systemd.generator(7)).
public enum KernelLog {
    /// Writes one record (`<priority>message`) to /dev/kmsg with write(2);
    /// false when it cannot be opened or written (e.g. not root).
    @discardableResult
    public static func write(_ message: String, priority: Int = 4, device: String = "/dev/kmsg") -> Bool {
        let fd = open(device, O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array("<\(priority)>\(message)\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count
    }
}
