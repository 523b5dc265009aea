#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// glibc functions that Swift's Glibc module does not import (they sit
/// behind _GNU_SOURCE or in headers the module leaves out, such as
/// <sys/xattr.h> and <sys/vfs.h>), bound once with dlsym(3).
/// Each is nil only if the C library lacks it; callers then report ENOSYS
/// or fall back.
enum LibC {
    typealias ListXattr = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    typealias GetXattr = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int
    ) -> Int
    typealias SetXattr = @convention(c) (
        UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32
    ) -> Int32
    typealias RemoveXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int32
    typealias FListXattr = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int
    typealias FGetXattr = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    typealias FSetXattr = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    typealias Statx = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UInt32, UnsafeMutableRawPointer) -> Int32
    typealias CopyFileRange = @convention(c) (
        Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32
    ) -> Int
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias AddFchdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias SyncFS = @convention(c) (Int32) -> Int32
    typealias StatFS = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32
    typealias FStatFS = @convention(c) (Int32, UnsafeMutableRawPointer?) -> Int32
    typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

    /// llistxattr(2), lgetxattr(2), lsetxattr(2), lremovexattr(2).
    static let llistxattr: ListXattr? = bind("llistxattr")
    static let lgetxattr: GetXattr? = bind("lgetxattr")
    static let lsetxattr: SetXattr? = bind("lsetxattr")
    static let lremovexattr: RemoveXattr? = bind("lremovexattr")
    /// flistxattr(2), fgetxattr(2), fsetxattr(2).
    static let flistxattr: FListXattr? = bind("flistxattr")
    static let fgetxattr: FGetXattr? = bind("fgetxattr")
    static let fsetxattr: FSetXattr? = bind("fsetxattr")
    /// statx(2).
    static let statx: Statx? = bind("statx")
    /// copy_file_range(2).
    static let copyFileRange: CopyFileRange? = bind("copy_file_range")
    /// pipe2(2), glibc 2.9+.
    static let pipe2: Pipe2? = bind("pipe2")
    /// posix_spawn_file_actions_addclosefrom_np(3), glibc 2.34+.
    static let addCloseFrom: AddCloseFrom? = bind("posix_spawn_file_actions_addclosefrom_np")
    /// posix_spawn_file_actions_addfchdir_np(3), glibc 2.29+.
    static let addFchdir: AddFchdir? = bind("posix_spawn_file_actions_addfchdir_np")
    /// syncfs(2), glibc 2.14+.
    static let syncfs: SyncFS? = bind("syncfs")
    /// statfs(2); the buffer is read by `FileSystemInfo` at the documented offsets.
    static let statfs: StatFS? = bind("statfs")
    /// fstatfs(2), read like `statfs`.
    static let fstatfs: FStatFS? = bind("fstatfs")
    /// sync_file_range(2).
    static let syncFileRange: SyncFileRange? = bind("sync_file_range")

    // <linux/stat.h> / <fcntl.h> values not imported either.
    static let atNoAutomount: Int32 = 0x800
    /// O_PATH (<asm-generic/fcntl.h>; the same value on x86_64 and arm64).
    static let openPath: Int32 = 0o10000000
    static let statxType: UInt32 = 0x1
    static let statxAttrMountRoot: UInt64 = 0x2000
    /// Offsets in struct statx (a stable kernel ABI, 256 bytes in all).
    static let statxSize = 256
    static let statxAttributesOffset = 8
    static let statxAttributesMaskOffset = 56

    static let noSys = Errno(rawValue: ENOSYS)

    private static func bind<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else { return nil }
        return unsafeBitCast(symbol, to: T.self)
    }
}
