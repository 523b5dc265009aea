@testable import ASDCopy
@testable import ASDCore
@testable import ASDSystem

// The unit tests build their scratch paths as UTF-8 `String`s (mkdtemp, Glibc
// calls); asd's API takes `FilePath`. These forwarders keep those tests
// readable; the byte-exact behaviour is tested with `FilePath` directly
// (FilePathTests, NonUTF8Tests and the integration tests).
private func bytes(_ path: String) -> FilePath { FilePath(path) }

extension FilePath {
    /// The bytes as UTF-8 text (the unit tests' own names are UTF-8).
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

extension FileOps {
    static func status(_ path: String) throws(Errno) -> FileStatus { try status(bytes(path)) }
    static func statusIfExists(_ path: String) throws(Errno) -> FileStatus? { try statusIfExists(bytes(path)) }
    static func exists(_ path: String) -> Bool { exists(bytes(path)) }
    static func isDirectory(_ path: String) -> Bool { isDirectory(bytes(path)) }
    static func isMountRoot(_ path: String) throws(Errno) -> Bool { try isMountRoot(bytes(path)) }
    static func createSymlink(_ path: String, target: String) throws(Errno) {
        try createSymlink(bytes(path), target: bytes(target))
    }
    static func readSymlink(_ path: String) throws(Errno) -> String { String(decoding: try readSymlink(bytes(path)).bytes, as: UTF8.self) }
    static func hardLink(_ existing: String, _ newPath: String) throws(Errno) { try hardLink(bytes(existing), bytes(newPath)) }
    static func makeNode(_ path: String, type: FileType, permissions: UInt32, rdev: UInt64 = 0) throws(Errno) {
        try makeNode(bytes(path), type: type, permissions: permissions, rdev: rdev)
    }
    static func makeDirectory(_ path: String, mode: UInt32, uid: UInt32? = nil, gid: UInt32? = nil) throws(Errno) {
        try makeDirectory(bytes(path), mode: mode, uid: uid, gid: gid)
    }
    static func makeDirectories(_ path: String, mode: UInt32 = 0o755, uid: UInt32? = nil, gid: UInt32? = nil) throws(Errno) {
        try makeDirectories(bytes(path), mode: mode, uid: uid, gid: gid)
    }
    static func changeMode(_ path: String, _ permissions: UInt32) throws(Errno) { try changeMode(bytes(path), permissions) }
    static func changeOwner(_ path: String, uid: UInt32?, gid: UInt32?) throws(Errno) {
        try changeOwner(bytes(path), uid: uid, gid: gid)
    }
    static func setTimes(_ path: String, access: FileTime, modification: FileTime) throws(Errno) {
        try setTimes(bytes(path), access: access, modification: modification)
    }
    static func unlink(_ path: String) throws(Errno) { try unlink(bytes(path)) }
    static func removeTree(_ path: String) throws(Errno) { try removeTree(bytes(path)) }
    static func removeDirectory(_ path: String) throws(Errno) { try removeDirectory(bytes(path)) }
    static func rename(_ source: String, to destination: String) throws(Errno) { try rename(bytes(source), to: bytes(destination)) }
    static func listDirectory(_ path: String) throws(Errno) -> [String] {
        try listDirectory(bytes(path)).map { String(decoding: $0.bytes, as: UTF8.self) }
    }
    static func xattrs(_ path: String) throws(Errno) -> [String: [UInt8]] { try xattrs(bytes(path)) }
    static func listXattrs(_ path: String) throws(Errno) -> [String] { try listXattrs(bytes(path)) }
    static func getXattr(_ path: String, name: String) throws(Errno) -> [UInt8] { try getXattr(bytes(path), name: name) }
    static func setXattr(_ path: String, name: String, value: [UInt8]) throws(Errno) {
        try setXattr(bytes(path), name: name, value: value)
    }
    static func removeXattr(_ path: String, name: String) throws(Errno) { try removeXattr(bytes(path), name: name) }
    static func copyXattrs(from source: String, to destination: String, tolerant: Bool = false) throws(Errno) {
        try copyXattrs(from: bytes(source), to: bytes(destination), tolerant: tolerant)
    }
    @discardableResult
    static func copyFile(from source: String, to destination: String) throws(Errno) -> Int64 {
        try copyFile(from: bytes(source), to: bytes(destination))
    }
    static func summarize(_ path: String, workers: Int? = nil) throws(Errno) -> TreeSummary { try summarize(bytes(path), workers: workers) }
    static func diskUsage(_ path: String) throws(Errno) -> UInt64 { try diskUsage(bytes(path)) }
    static func directorySize(_ path: String) throws(Errno) -> UInt64 { try directorySize(bytes(path)) }
    static func firstHardLinkedFile(in path: String) throws(Errno) -> (example: String, count: Int)? {
        try firstHardLinkedFile(in: bytes(path)).map { (String(decoding: $0.example.bytes, as: UTF8.self), $0.count) }
    }
    static func fsyncFile(_ path: String) throws(Errno) { try fsyncFile(bytes(path)) }
    static func temporarySibling(of path: String, tag: String) -> String {
        String(decoding: temporarySibling(of: bytes(path), tag: tag).bytes, as: UTF8.self)
    }
}

extension DirectoryHandle {
    convenience init(path: String) throws(Errno) { try self.init(path: bytes(path)) }
}

extension FileTreeWalker {
    init(root: String) { self.init(root: FilePath(bytes: Array(root.utf8))) }
}

extension Snapshot {
    static func create(of source: String, at destination: String) throws(ASDError) {
        try create(of: bytes(source), at: bytes(destination))
    }
    static func remove(_ path: String) throws(ASDError) { try remove(bytes(path)) }
}

extension Settings {
    static func load(path: String, environment: [String: String]) throws(ASDError) -> Settings {
        try load(path: bytes(path), environment: environment)
    }
}

extension Subprocess {
    static func run(_ argv: [String], standardInput: StandardInput = .nullDevice, captureOutput: Bool = false) throws(ASDError) -> ProcessResult {
        try run(argv.map { FilePath(bytes: Array($0.utf8)) }, standardInput: standardInput, captureOutput: captureOutput,
                outputPassthrough: false, environment: nil)
    }
    @discardableResult
    static func checked(_ argv: [String]) throws(ASDError) -> ProcessResult { try checked(argv.map { FilePath(bytes: Array($0.utf8)) }) }
}

extension FileLock {
    static func acquire(path: String, onWait: () -> Void) throws(Failure) -> FileLock { try acquire(path: bytes(path), onWait: onWait) }
    static func tryAcquire(path: String) throws(Failure) -> FileLock? { try tryAcquire(path: bytes(path)) }
}

extension TreeMirror {
    init(source: String, destination: String, mode: Mode, excludedTopNames: Set<FilePath>, log: any Log) {
        self.init(source: FilePath(bytes: Array(source.utf8)), destination: FilePath(bytes: Array(destination.utf8)), mode: mode, excludedTopNames: excludedTopNames, log: log)
    }
}

extension TreeMirror.Mode {
    static func update(tempDirectory: String?) -> Self { .update(tempDirectory: tempDirectory.map { FilePath($0) }) }
}
