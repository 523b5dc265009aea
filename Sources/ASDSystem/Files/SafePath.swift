#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Opening a directory by path as root when users own some of the directories
/// on the way (a target's parent such as /home/alice, or deeper): a user can
/// replace anything inside a directory they own by a symlink at any moment.
///
/// The walk goes from "/" one component at a time with openat(2) O_NOFOLLOW,
/// follows a symlink only by reading it (readlinkat), and refuses an unsafe
/// transition, systemd's CHASE_SAFE rule: from a directory (or symlink) owned
/// by a user other than root, stepping into anything owned by someone else
/// (root included). So a symlink that alice plants in her own directory may
/// lead on within her files, but never to /etc; symlinks root made (such as
/// /home -> /usr/home) are followed as before.
public enum SafePath {
    /// Why the walk refused: `path` is where it stopped.
    public struct Unsafe: Error, Equatable, Sendable {
        public let path: FilePath
        /// Owner of the directory or symlink the step started from.
        public let fromUID: UInt32
        /// Owner of what the step led to.
        public let toUID: UInt32
    }

    public enum Failure: Error, Equatable, Sendable {
        case system(path: FilePath, errno: Errno)
        case unsafe(Unsafe)
    }

    static let maxSymlinks = 40

    /// The directory at absolute `path`, opened O_RDONLY|O_DIRECTORY, reached
    /// as described above.
    public static func openDirectory(_ path: FilePath) throws(Failure) -> DirectoryHandle {
        var fd = try openRoot()
        var current = try status(fd, "/")
        var walked = FilePath("/")
        var todo = path.components
        var hops = 0
        while !todo.isEmpty {
            let name = todo.removeFirst()
            if name == "." { continue }
            let step = walked.appending(name)
            let child: Int32
            do throws(Errno) {
                child = try name.withCString { (c) throws(Errno) in
                    try retryingEINTR(.open) { openat(fd, c, casd_O_PATH | O_NOFOLLOW | O_CLOEXEC) }
                }
            } catch {
                close(fd)
                throw .system(path: step, errno: error)
            }
            let found: FileStatus
            do throws(Failure) {
                found = try status(child, step)
            } catch {
                close(child)
                close(fd)
                throw error
            }
            if current.uid != 0 && current.uid != found.uid {
                close(child)
                close(fd)
                throw .unsafe(Unsafe(path: step, fromUID: current.uid, toUID: found.uid))
            }
            switch found.type {
            case .symlink:
                hops += 1
                let target: FilePath
                do throws(Errno) {
                    guard hops <= maxSymlinks else { throw Errno(rawValue: ELOOP) }
                    target = try FileOps.readLink(directoryFD: child, name: "")
                } catch {
                    close(child)
                    close(fd)
                    throw .system(path: step, errno: error)
                }
                close(child)
                todo = target.components + todo
                // The link's owner is the "from" of the next step.
                current = found
                if target.isAbsolute {
                    close(fd)
                    fd = try openRoot()
                    let root = try status(fd, "/")
                    if current.uid != 0 && current.uid != root.uid {
                        close(fd)
                        throw .unsafe(Unsafe(path: step, fromUID: current.uid, toUID: root.uid))
                    }
                    current = root
                    walked = "/"
                }
            case .directory:
                // Re-open the very inode for reading (O_PATH descriptors cannot list).
                let reopened: Int32
                do throws(Errno) {
                    reopened = try FilePath("/proc/self/fd/" + String(child)).withCString { (c) throws(Errno) in
                        try retryingEINTR { open(c, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
                    }
                } catch {
                    close(child)
                    close(fd)
                    throw .system(path: step, errno: error)
                }
                close(child)
                close(fd)
                fd = reopened
                current = found
                walked = name == ".." ? walked.parent.isEmpty ? "/" : walked.parent : step
            default:
                close(child)
                close(fd)
                throw .system(path: step, errno: .notDirectory)
            }
        }
        return DirectoryHandle(adopting: fd)
    }

    private static func openRoot() throws(Failure) -> Int32 {
        do throws(Errno) {
            return try retryingEINTR { open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        } catch {
            throw .system(path: "/", errno: error)
        }
    }

    private static func status(_ fd: Int32, _ path: FilePath) throws(Failure) -> FileStatus {
        var st = stat()
        if fstat(fd, &st) != 0 { throw .system(path: path, errno: .current) }
        return FileStatus(st)
    }
}
