#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Errors that mean "the file system cannot take the write": the user must
/// free space or make it writable, not retry.
extension Errno {
    public static let readOnlyFileSystem = Errno(rawValue: EROFS)
    public static let quotaExceeded = Errno(rawValue: EDQUOT)
}
