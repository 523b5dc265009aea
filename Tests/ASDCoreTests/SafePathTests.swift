import Foundation
import Glibc
import Testing

@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

/// `SafePath`: the walk follows symlinks that cannot have been planted, refuses a
/// step from a user's directory or symlink into something another user (or root)
/// owns, and opens exactly the directory that the path names. The refusals need
/// files of another owner, so those tests need root (CI runs them as root and
/// `ASD_REQUIRE_PRIVILEGED=1` fails them instead of skipping).
@Suite("SafePath")
struct SafePathTests {
    static let asRoot = geteuid() == 0 || ProcessInfo.processInfo.environment["ASD_REQUIRE_PRIVILEGED"] == "1"
    static let user: UInt32 = 47_031

    private func identity(_ handle: DirectoryHandle) throws -> [UInt64] {
        let status = try handle.status()
        return [status.device, status.inode]
    }

    private func identity(_ path: String) throws -> [UInt64] {
        let status = try FileOps.status(path)
        return [status.device, status.inode]
    }

    @Test func opensPlainPathsAndRootsSymlinks() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("real")
        try dir.mkdir("real/inner")
        try FileOps.createSymlink(dir["link"], target: "real")
        try FileOps.createSymlink(dir["absolute"], target: dir["real"])
        #expect(try identity(SafePath.openDirectory(FilePath(dir["real/inner"]))) == identity(dir["real/inner"]))
        #expect(try identity(SafePath.openDirectory(FilePath(dir["link/inner"]))) == identity(dir["real/inner"]))
        #expect(try identity(SafePath.openDirectory(FilePath(dir["absolute"]))) == identity(dir["real"]))
        #expect(try identity(SafePath.openDirectory(FilePath(dir["real/inner/.."]))) == identity(dir["real"]))
    }

    @Test func symlinkLoopsAndFilesFail() throws {
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try FileOps.createSymlink(dir["a"], target: "b")
        try FileOps.createSymlink(dir["b"], target: "a")
        try dir.write("file", "x")
        #expect(throws: SafePath.Failure.system(path: FilePath(dir["a"]), errno: Errno(rawValue: ELOOP))) {
            try SafePath.openDirectory(FilePath(dir["a/x"]))
        }
        #expect(throws: SafePath.Failure.self) { try SafePath.openDirectory(FilePath(dir["file"])) }
    }

    /// /home/alice-like: a user's directory with her symlinks to her own files (followed)
    /// and to root's directory, absolute or by `..` (refused, naming the step).
    @Test(.enabled(if: asRoot)) func userSymlinksLeadOnlyToTheUsersOwnFiles() throws {
        try #require(geteuid() == 0, "needs root to give files to another user")
        let dir = try RecoveryScratch()
        defer { dir.cleanup() }
        try dir.mkdir("rootonly")
        try dir.mkdir("home")
        try dir.mkdir("home/mine")
        try FileOps.createSymlink(dir["home/ok"], target: "mine")
        try FileOps.createSymlink(dir["home/escape"], target: dir["rootonly"])
        try FileOps.createSymlink(dir["home/up"], target: "../rootonly")
        for name in ["home", "home/mine", "home/ok", "home/escape", "home/up"] {
            try FileOps.changeOwner(dir[name], uid: Self.user, gid: Self.user)
        }
        #expect(try identity(SafePath.openDirectory(FilePath(dir["home/ok"]))) == identity(dir["home/mine"]))
        for name in ["home/escape", "home/up"] {
            #expect {
                try SafePath.openDirectory(FilePath(dir[name]))
            } throws: { error in
                guard case .unsafe(let found) = error as? SafePath.Failure else { return false }
                return found.fromUID == Self.user && found.toUID == 0
            }
        }
        // A root-owned directory inside the user's: she could swap it, so it is refused too.
        try dir.mkdir("home/rootsub")
        try FileOps.changeOwner(dir["home/rootsub"], uid: 0, gid: 0)
        #expect(throws: SafePath.Failure.self) { try SafePath.openDirectory(FilePath(dir["home/rootsub"])) }
    }
}
