#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// The system calls a test can make fail by name (doc/DESIGN.md, "Test rigs").
/// Calls not named here pass `.other` and are never failed.
public enum Syscall: String, Sendable, CaseIterable {
    case open, read, write, copyFileRange, sendfile, rename, unlink, makeDirectory
    case fsync, fdatasync, syncfs, clone, changeOwner, changeMode, setTimes, setXattr, link
    case other
}

/// Every C call of ASDSystem that can fail goes through `syscall` (or
/// `retryingEINTR`, built on it): the one place where errno is read, and where
/// a test's `SyscallFaults` replace a call's outcome by -1 and an errno of
/// its choosing, as swift-system's mocking does. The call itself is then not
/// made. With no faults active the cost is one relaxed atomic load.
@inline(__always)
func syscall<T: BinaryInteger>(_ call: Syscall, _ body: () -> T) -> T {
    if let fault = SyscallFaults.injected(call) {
        errno = fault.rawValue
        return -1
    }
    return body()
}

/// Runs a C call that returns -1 (or another negative value) and sets errno,
/// retrying on EINTR. Returns the call's result or throws the captured errno.
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ call: Syscall = .other, _ body: () -> T) throws(Errno) -> T {
    while true {
        let result = syscall(call, body)
        if result >= 0 { return result }
        let error = Errno.current
        if error == .interrupted { continue }
        throw error
    }
}

/// Like `retryingEINTR` but for calls that return a pointer or nil.
@inline(__always)
func retryingEINTR<T>(_ body: () -> T?) throws(Errno) -> T {
    while true {
        if let result = body() { return result }
        let error = Errno.current
        if error == .interrupted { continue }
        throw error
    }
}

/// Failures a test injects into named system calls. Active only inside
/// `activate`, on the calling thread and on the workers `WorkStack` starts
/// from it, so tests running in parallel in one process never see each
/// other's faults.
public final class SyscallFaults: Sendable {
    private struct Rule {
        var call: Syscall
        var errno: Errno
        var skip: Int
        var remaining: Int
    }

    private let rules = Mutex<[Rule]>([])
    private let counts = Mutex<[Syscall: Int]>([:])

    public init() {}

    /// The `after`+1-th call of `call` and the `times - 1` after it fail with
    /// `errno` (EINTR included: the caller's retry is what is tested).
    public func fail(_ call: Syscall, with errno: Errno, after: Int = 0, times: Int = 1) {
        rules.withLock { $0.append(Rule(call: call, errno: errno, skip: after, remaining: times)) }
    }

    /// How many calls of `call` were failed so far.
    public func injectedCount(_ call: Syscall) -> Int { counts.withLock { $0[call] ?? 0 } }

    /// Runs `body` with these faults active.
    public func activate<T>(_ body: () throws -> T) rethrows -> T {
        Self.activeCount.add(1, ordering: .relaxed)
        defer { Self.activeCount.subtract(1, ordering: .relaxed) }
        return try Self.$current.withValue(self, operation: body)
    }

    /// The faults active on this thread, to hand to a worker thread.
    public static var inherited: SyscallFaults? {
        activeCount.load(ordering: .relaxed) == 0 ? nil : current
    }

    /// Runs `body` (on a worker thread) with `faults` active, as on the thread
    /// that started the work.
    public static func adopting(_ faults: SyscallFaults?, _ body: () -> Void) {
        guard let faults else { return body() }
        $current.withValue(faults, operation: body)
    }

    @TaskLocal private static var current: SyscallFaults?
    private static let activeCount = Atomic<Int>(0)

    @inline(__always)
    static func injected(_ call: Syscall) -> Errno? {
        guard call != .other, activeCount.load(ordering: .relaxed) > 0, let faults = current else { return nil }
        return faults.take(call)
    }

    private func take(_ call: Syscall) -> Errno? {
        let errno = rules.withLock { rules -> Errno? in
            guard let index = rules.firstIndex(where: { $0.call == call && $0.remaining > 0 }) else { return nil }
            if rules[index].skip > 0 {
                rules[index].skip -= 1
                return nil
            }
            rules[index].remaining -= 1
            return rules[index].errno
        }
        if errno != nil { counts.withLock { $0[call, default: 0] += 1 } }
        return errno
    }
}
