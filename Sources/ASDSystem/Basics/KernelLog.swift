#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The kernel log (/dev/kmsg): where a systemd generator reports, since it runs
/// before the journal (systemd.generator(7)).
public enum KernelLog {
    /// Writes one record (`<priority>message`) to /dev/kmsg with write(2);
    /// false when it cannot be opened or written (e.g. not root), or when it is
    /// not the kernel's kmsg device (char 1:11): a container links it to /dev/null.
    @discardableResult
    public static func write(_ message: String, priority: Int = 4, device: String = "/dev/kmsg") -> Bool {
        let fd = open(device, O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        // glibc's makedev(1, 11): major in bits 8-19, minor in bits 0-7 (small numbers).
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFCHR, st.st_rdev == (1 << 8) | 11 else { return false }
        let bytes = Array("<\(priority)>\(message)\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count
    }
}
