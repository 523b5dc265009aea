#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// An errno value captured right after a failing C call.
public struct Errno: Error, Equatable, Hashable, CustomStringConvertible, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's errno, read at once.
    public static var current: Errno { Errno(rawValue: errno) }

    /// strerror(3) text, e.g. "No such file or directory".
    public var description: String { String(cString: strerror(rawValue)) }

    public static let noEntry = Errno(rawValue: ENOENT)
    public static let exists = Errno(rawValue: EEXIST)
    public static let interrupted = Errno(rawValue: EINTR)
    public static let busy = Errno(rawValue: EBUSY)
    public static let invalid = Errno(rawValue: EINVAL)
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    public static let tooManySymlinks = Errno(rawValue: ELOOP)
    static let notEmpty = Errno(rawValue: ENOTEMPTY)
    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let permission = Errno(rawValue: EPERM)
    public static let access = Errno(rawValue: EACCES)
    public static let crossDevice = Errno(rawValue: EXDEV)
    static let noData = Errno(rawValue: ENODATA)
    static let notSupported = Errno(rawValue: EOPNOTSUPP)
    static let noSystemCall = Errno(rawValue: ENOSYS)
    static let wouldBlock = Errno(rawValue: EWOULDBLOCK)
    public static let brokenPipe = Errno(rawValue: EPIPE)
    public static let ioError = Errno(rawValue: EIO)
}
