import Glibc
import Testing

@testable import ASDSystem
import ASDTestSupport

/// `OpenFiles.users` finds a process by an open descriptor and by a mapping alone (from
/// /proc/PID/maps, its descriptor closed), and not once both are gone
/// (doc/DESIGN.md, "Consistent write-back"). The process is this test's own.
struct OpenFilesTests {
    @Test func findsADescriptorAndAMappingBelowTheTree() throws {
        let scratch = try TemporaryDirectory(prefix: "asd-openfiles-test")
        let tree = scratch.path + "/tree"
        #expect(mkdir(tree, 0o700) == 0)
        let fd = open(tree + "/mapped file", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0, "open: \(Errno.current)")
        #expect(ftruncate(fd, 4096) == 0)
        let me = getpid()
        let roots: [FilePath] = [FilePath(tree)]
        #expect(OpenFiles.users(of: roots, excluding: []).contains(me), "an open descriptor was not found")
        #expect(!OpenFiles.users(of: roots, excluding: [me]).contains(me), "an excluded pid was listed")
        let map = mmap(nil, 4096, PROT_READ, MAP_SHARED, fd, 0)
        try #require(map != MAP_FAILED, "mmap: \(Errno.current)")
        close(fd)
        #expect(OpenFiles.users(of: roots, excluding: []).contains(me), "a mapping alone was not found")
        #expect(!OpenFiles.users(of: [FilePath(scratch.path + "/tre")], excluding: []).contains(me),
                "a sibling with a common name prefix counted as the tree")
        munmap(map, 4096)
        #expect(!OpenFiles.users(of: roots, excluding: []).contains(me), "listed with nothing open")
    }
}
