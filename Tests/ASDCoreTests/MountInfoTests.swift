import Testing
@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

#if canImport(Glibc)
import Glibc
#endif

@Suite("MountInfo parser")
struct MountInfoTests {
    static let sample = """
        22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
        23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
        36 22 0:30 / /tmp rw,nosuid,nodev shared:18 - tmpfs tmpfs rw,size=8042132k,nr_inodes=1048576,inode64
        41 22 254:1 /srv/with\\040space\\011tab /srv/with\\040space\\011tab-backup_asd rw,noatime - ext4 /dev/vda1 rw
        42 22 254:1 /home/a\\134b /home/a\\134b\\012nl rw,noatime master:3 propagate_from:1 - ext4 /dev/vda1 rw
        43 36 0:45 / /tmp/asd-root/srv/http rw,relatime - overlay overlaid rw,lowerdir=/srv/.http-backup_asd,upperdir=/tmp/asd-root/srv/http-rw,workdir=/tmp/.asd-root/srv/http,uuid=on
        44 22 253:0 / /var/cache rw,relatime - ext4 /dev/zram0 rw
        45 22 0:50 / /mnt/odd rw - fuse.sshfs user@host:/with\\054comma rw,user_id=0
        not a mountinfo line
        """

    @Test("fields, optional fields and super options")
    func fields() throws {
        let entries = MountInfo.parse(Self.sample)
        #expect(entries.count == 8)
        let root = try #require(entries.first)
        #expect(root == MountEntry(
            mountID: 22, parentID: 1, device: "254:1", root: "/", mountPoint: "/",
            mountOptions: ["rw", "relatime"], optionalFields: ["shared:1"], fsType: "ext4",
            source: "/dev/vda1", superOptions: ["rw", "errors=remount-ro"]))
        #expect(!root.isPrivate)
        let tmp = entries[2]
        #expect(tmp.mountPoint == "/tmp" && tmp.fsType == "tmpfs" && tmp.superOption("size") == "8042132k")
    }

    @Test("octal escapes in paths", arguments: [
        (3, "/srv/with space\ttab", "/srv/with space\ttab-backup_asd"),
        (4, "/home/a\\b", "/home/a\\b\nnl"),
    ])
    func escapes(index: Int, root: FilePath, mountPoint: FilePath) {
        let entry = MountInfo.parse(Self.sample)[index]
        #expect(entry.root == root)
        #expect(entry.mountPoint == mountPoint)
    }

    @Test("propagation fields: master counts as not private")
    func propagation() {
        let entries = MountInfo.parse(Self.sample)
        #expect(entries[3].isPrivate)
        #expect(entries[4].optionalFields == ["master:3", "propagate_from:1"])
        #expect(!entries[4].isPrivate)
    }

    @Test("overlay layers come from the super options")
    func overlay() throws {
        let entry = try #require(MountInfo.parse(Self.sample).first { $0.fsType == "overlay" })
        #expect(entry.source == "overlaid")
        #expect(entry.superOption("lowerdir") == "/srv/.http-backup_asd")
        #expect(entry.superOption("upperdir") == "/tmp/asd-root/srv/http-rw")
        #expect(entry.superOption("workdir") == "/tmp/.asd-root/srv/http")
        #expect(entry.superOption("metacopy") == nil)
    }

    @Test("an escaped comma stays inside its source")
    func escapedComma() {
        #expect(MountInfo.parse(Self.sample)[7].source == "user@host:/with,comma")
    }

    @Test("mounts under a path, by whole components")
    func under() {
        let entries = MountInfo.parse(Self.sample)
        #expect(MountInfo.mounts(under: "/tmp", in: entries).map(\.mountID) == [36, 43])
        #expect(MountInfo.mounts(under: "/tmp/asd-root", in: entries).map(\.mountID) == [43])
        #expect(MountInfo.mounts(under: "/tm", in: entries).isEmpty)
        #expect(MountInfo.mounts(under: "/", in: entries).count == 8)
    }

    @Test("the mount containing a path", arguments: [
        ("/tmp/asd-root/srv/http/file", 43),
        ("/tmp/other", 36),
        ("/tmpx", 22),
        ("/var/cache/x", 44),
        ("/", 22),
    ])
    func containing(path: String, mountID: Int) {
        #expect(MountInfo.mount(containing: FilePath(path), in: MountInfo.parse(Self.sample))?.mountID == mountID)
    }

    @Test("a bind mount within one filesystem is a mount point")
    func mountPoint() {
        let entries = MountInfo.parse(Self.sample)
        #expect(MountInfo.isMountPoint("/", in: entries))
        #expect(MountInfo.isMountPoint("/tmp", in: entries))
        #expect(!MountInfo.isMountPoint("/etc", in: entries))
    }

    @Test("the live table has / and /proc")
    func live() throws {
        let entries = try MountInfo.current()
        #expect(entries.contains { $0.mountPoint == "/" })
        #expect(entries.contains { $0.mountPoint == "/proc" && $0.fsType == "proc" })
        #expect(MountInfo.isMountPoint("/proc"))
        #expect(!MountInfo.isMountPoint("/proc/self/fd"))
    }

    @Test("unescape leaves incomplete or non-octal escapes alone", arguments: [
        ("a\\04", "a\\04"), ("a\\089b", "a\\089b"), ("\\040", " "), ("end\\", "end\\"),
    ])
    func unescape(raw: String, expected: String) {
        #expect(MountInfo.unescape(ArraySlice(raw.utf8)) == FilePath(expected))
    }
}

@Suite("Mount flags and options")
struct MountFlagsTests {
    @Test("statvfs flags map to the per-mount MS_* flags")
    func fromStatvfs() {
        // ST_RDONLY|ST_NOSUID|ST_NODEV|ST_NOEXEC|ST_RELATIME(4096)
        let flags = MountFlags(statvfsFlags: 1 | 2 | 4 | 8 | 4096)
        #expect(flags == [.readOnly, .noSetUID, .noDevices, .noExec])
        #expect(flags.rawValue == 1 | 2 | 4 | 8)
        #expect(MountFlags(statvfsFlags: 0x2000 | 2048) == [.noSymlinkFollow, .noDirectoryAccessTime])
        #expect(MountFlags.bind.rawValue == 4096 && MountFlags.recursive.rawValue == 16384)
        #expect(MountFlags.private.rawValue == 1 << 18 && MountFlags.noAccessTime.rawValue == 1024)
    }

    @Test("overlay paths are escaped for the option parser")
    func overlayOptions() {
        let options = Mount.overlayOptions(
            lower: "/srv/a,b", upper: "/tmp/x:y", work: "/tmp/w\\z", extra: ["index=off"])
        #expect(options == "lowerdir=/srv/a\\,b,upperdir=/tmp/x\\:y,workdir=/tmp/w\\\\z,index=off")
    }
}

@Suite("FileSystemInfo and FileLock")
struct FileSystemFactsTests {
    @Test("statfs of /proc says proc, not volatile")
    func proc() throws {
        let info = try FileSystemInfo.of("/proc")
        #expect(info.magic == 0x9FA0)
        #expect(info.typeName == "proc")
        #expect(!info.isVolatile)
        #expect(!FileSystemInfo.isVolatileOK("/proc"))
    }

    @Test("a missing VOLATILE is reported as missing")
    func missingVolatile() {
        #expect(throws: ASDError.volatileMissing(path: "/nonexistent/asd-volatile")) {
            _ = try FileSystemInfo.requireVolatile("/nonexistent/asd-volatile")
        }
        #expect(throws: ASDError.volatileNotTmpfs(path: "/proc", fsType: "proc")) {
            _ = try FileSystemInfo.requireVolatile("/proc")
        }
    }

    @Test("the lock excludes a second holder until released")
    func lock() throws {
        let dir = try makeTempDirectory()
        defer { removeTempDirectory(dir) }
        let path = dir + "/asd-lock"
        let first = try FileLock.acquire(path: path, onWait: { Issue.record("no one holds the lock yet") })
        #expect(try FileLock.tryAcquire(path: path) == nil)
        first.release()
        let second = try #require(try FileLock.tryAcquire(path: path))
        second.release()
        var info = stat()
        #expect(stat(path, &info) == 0)
    }
}

/// mkdtemp(3) under /tmp.
fileprivate func makeTempDirectory() throws -> String {
    var template = Array("/tmp/asd-test-XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else { throw Errno.current }
    return String(cString: result)
}

/// rm -rf, via the runner (tests only).
fileprivate func removeTempDirectory(_ path: String) {
    _ = try? Subprocess.run(["rm", "-rf", "--", path])
}
