#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// The walk behind `FileOps.summarize`: readdir(3) and fstatat(2) relative to
/// the directory's descriptor with the C name as it comes (no String per
/// entry), never following symlinks, never entering another mount (another
/// st_dev, or statx(2) STATX_ATTR_MOUNT_ROOT for bind mounts of the same
/// filesystem), hard-linked inodes counted once.
///
/// It starts on the calling thread; once `parallelAfter` entries are seen and
/// directories wait, up to `workers - 1` helper threads (pthread_create(3))
/// take directories from a shared `WorkStack`. Small trees never start one.
final class TreeScan: @unchecked Sendable {
    /// What one worker counted.
    struct Tally {
        /// st_blocks of everything but multiply-linked non-directories.
        var blocks: UInt64 = 0
        /// st_blocks of multiply-linked non-directories, by inode.
        var linkedBlocks: [UInt64: UInt64] = [:]
        /// Regular files with st_nlink > 1 (each name).
        var hardLinkedFiles = 0
        /// Entries seen.
        var entries = 0

        mutating func merge(_ other: Tally) {
            blocks += other.blocks
            linkedBlocks.merge(other.linkedBlocks) { first, _ in first }
            hardLinkedFiles += other.hardLinkedFiles
            entries += other.entries
        }
    }

    private let device: UInt64
    private let workers: Int
    private let parallelAfter: Int
    private let queue = WorkStack<PendingDirectory, Errno>()
    private let helperTallies = Mutex<[Tally]>([])

    init(device: UInt64, workers: Int, parallelAfter: Int) {
        self.device = device
        self.workers = max(workers, 1)
        self.parallelAfter = parallelAfter
    }

    /// One per online CPU, at most 8.
    static var defaultWorkers: Int { min(ProcessIdentity.onlineCPUs, 8) }

    /// Scans everything below `root` (the root itself is not counted).
    func run(root: ScanDirectory) throws(Errno) -> Tally {
        var tally = Tally()
        var found: [PendingDirectory] = []
        do {
            try read(root, into: &tally, found: &found)
        } catch {
            queue.fail(error)
        }
        var helpers: [pthread_t] = []
        while let item = queue.next() {
            scan(item, into: &tally, found: &found)
            queue.done()
            if helpers.isEmpty && workers > 1 && tally.entries >= parallelAfter && queue.pendingCount > 0 {
                helpers = startHelpers(workers - 1)
            }
        }
        for thread in helpers { pthread_join(thread, nil) }
        if let error = queue.firstFailure { throw error }
        for other in helperTallies.withLock({ $0 }) { tally.merge(other) }
        return tally
    }

    /// A helper thread's loop; its tally is handed over when the scan is over.
    private func helperLoop() {
        var tally = Tally()
        var found: [PendingDirectory] = []
        while let item = queue.next() {
            scan(item, into: &tally, found: &found)
            queue.done()
        }
        helperTallies.withLock { $0.append(tally) }
    }

    /// Starts up to `count` threads running `helperLoop`, with every signal
    /// blocked in them so signals keep reaching the main thread.
    private func startHelpers(_ count: Int) -> [pthread_t] {
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var threads: [pthread_t] = []
        for _ in 0..<count {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            let started = pthread_create(&thread, nil, { context in
                let scan = Unmanaged<TreeScan>.fromOpaque(context!).takeRetainedValue()
                scan.helperLoop()
                return nil
            }, context)
            if started == 0 {
                threads.append(thread)
            } else {
                Unmanaged<TreeScan>.fromOpaque(context).release()  // the main thread does the work alone
            }
        }
        return threads
    }

    /// Opens and reads one waiting directory; a failure stops the whole scan.
    private func scan(
        _ item: PendingDirectory, into tally: inout Tally, found: inout [PendingDirectory]
    ) {
        do throws(Errno) {
            var fd: Int32
            repeat {
                fd = item.name.withUnsafeBufferPointer { name in
                    openat(item.parent.fd, name.baseAddress!, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                }
            } while fd < 0 && errno == EINTR
            if fd < 0 {
                let error = Errno.current
                if error == .noEntry { return }  // vanished meanwhile
                throw error
            }
            try read(try ScanDirectory(adopting: fd), into: &tally, found: &found)
        } catch {
            queue.fail(error)
        }
    }

    /// readdir(3) of `directory`, fstatat(2) of each entry; subdirectories on
    /// the same mount go to the queue.
    private func read(
        _ directory: ScanDirectory, into tally: inout Tally, found: inout [PendingDirectory]
    ) throws(Errno) {
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var st = stat()
        found.removeAll(keepingCapacity: true)
        while true {
            errno = 0
            guard let entry = readdir(directory.stream) else {
                if errno != 0 { throw Errno.current }
                break
            }
            let name = UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            if name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0)) { continue }  // "." ".."
            var result: Int32
            repeat {
                result = fstatat(directory.fd, name, &st, AT_SYMLINK_NOFOLLOW)
            } while result != 0 && errno == EINTR
            if result != 0 {
                let error = Errno.current
                if error == .noEntry { continue }  // vanished meanwhile
                throw error
            }
            tally.entries += 1
            let blocks = UInt64(max(Int64(st.st_blocks), 0))
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR {
                tally.blocks += blocks
                if UInt64(st.st_dev) != device { continue }  // another filesystem mounted here
                if try FileOps.isMountRoot(directoryFD: directory.fd, name: name) { continue }
                let bytes = Array(UnsafeBufferPointer(start: name, count: strlen(name) + 1))
                found.append(PendingDirectory(parent: directory, name: bytes))
                continue
            }
            if type == S_IFREG && st.st_nlink > 1 { tally.hardLinkedFiles += 1 }
            if st.st_nlink > 1 {
                tally.linkedBlocks[UInt64(st.st_ino)] = blocks
            } else {
                tally.blocks += blocks
            }
        }
        queue.push(found)
        found.removeAll(keepingCapacity: true)
    }
}
