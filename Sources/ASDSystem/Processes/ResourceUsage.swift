#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// getrusage(2) readings of this process and its waited-for children.
public enum ResourceUsage {
    /// Bytes this process and its reaped children sent towards storage:
    /// `ru_oublock` (the kernel's write_bytes accounting, counted when a page
    /// of a file on a disk-backed file system is dirtied; tmpfs pages are not
    /// counted) of RUSAGE_SELF plus RUSAGE_CHILDREN, in 512-byte units.
    /// The difference of two readings is what a step wrote, rsync included once
    /// it was waited for.
    public static func bytesWritten() -> UInt64 {
        var own = rusage(), children = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &own) == 0, getrusage(RUSAGE_CHILDREN.rawValue, &children) == 0 else { return 0 }
        return UInt64(max(0, own.ru_oublock) + max(0, children.ru_oublock)) * 512
    }
}
