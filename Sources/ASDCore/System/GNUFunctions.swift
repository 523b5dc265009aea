#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// glibc functions that Swift's Glibc module does not import (they are
/// declared only under _GNU_SOURCE, or in headers the module leaves out),
/// looked up once with dlsym(3). Each is nil on a libc without it.
enum GNUFunctions {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias SyncFS = @convention(c) (Int32) -> Int32
    typealias StatFS = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32

    /// pipe2(2), glibc 2.9+.
    static let pipe2: Pipe2? = lookup("pipe2")
    /// posix_spawn_file_actions_addclosefrom_np(3), glibc 2.34+.
    static let addCloseFrom: AddCloseFrom? = lookup("posix_spawn_file_actions_addclosefrom_np")
    /// syncfs(2), glibc 2.14+.
    static let syncfs: SyncFS? = lookup("syncfs")
    /// statfs(2) (<sys/vfs.h> is not in the module); the buffer is read by
    /// `FileSystemInfo` at the documented offsets.
    static let statfs: StatFS? = lookup("statfs")

    private static func lookup<F>(_ name: String) -> F? {
        guard let symbol = dlsym(nil, name) else { return nil }
        return unsafeBitCast(symbol, to: F.self)
    }
}
