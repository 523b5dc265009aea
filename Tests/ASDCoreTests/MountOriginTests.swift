import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// Where a path's files come from, and which mounts sit on which (doc/DESIGN.md §4: a target
/// is running when a mount at it shows our tmpfs copy; unsync removes only that
/// mount and what is on it).
@Suite("MountOrigin")
struct MountOriginTests {
    static let table = MountInfo.parse("""
        22 1 254:1 / / rw - ext4 /dev/vda1 rw
        36 22 0:30 / /tmp rw - tmpfs tmpfs rw
        50 22 7:0 / /etc/user rw - ext4 /dev/loop0 rw
        51 50 0:30 /asd-root/etc/user /etc/user rw - tmpfs tmpfs rw
        52 51 0:60 / /etc/user/inner rw - tmpfs inner rw
        53 51 0:61 / /etc/user rw - tmpfs stacked rw
        54 22 254:1 /etc/user /etc/.user-backup_asd rw - ext4 /dev/vda1 rw
        """)

    @Test func originJoinsTheMountRoot() {
        #expect(MountInfo.origin(of: "/tmp", in: Self.table) == MountOrigin(device: "0:30", root: "/"))
        #expect(MountInfo.origin(of: "/etc", in: Self.table) == MountOrigin(device: "254:1", root: "/etc"))
        #expect(MountInfo.origin(of: Self.table[3]) == MountOrigin(device: "0:30", root: "/asd-root/etc/user"))
    }

    @Test(arguments: [("/", "/a", "/a"), ("/r", "", "/r"), ("/r", "/a/b", "/r/a/b"), ("/", "", "/")])
    func joinRoot(root: String, rest: String, expected: String) {
        #expect(MountInfo.joinRoot(FilePath(root), FilePath(rest)) == FilePath(expected))
    }

    @Test func mountsAtAPathBottomFirst() {
        #expect(MountInfo.mounts(at: "/etc/user", in: Self.table).map(\.mountID) == [50, 51, 53])
    }

    /// Our bind (51) with a mount inside it (52) and one stacked on it (53): children
    /// first, the user's mount beneath (50) never.
    @Test func subtreeIsChildrenFirstAndLeavesTheMountBeneath() {
        let ours = Self.table[3]
        let ids = MountInfo.subtree(of: ours, in: Self.table).map(\.mountID)
        #expect(ids.last == 51)
        #expect(Set(ids) == [51, 52, 53])
        #expect(!ids.contains(50))
    }
}
