#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CASDShims

/// Extended attributes (user.*, trusted.*, security.*, system.posix_acl_*),
/// always on the path itself: the l*xattr(2) calls never follow symlinks.
/// A file system without xattr support (ENOTSUP) reads as having none.
extension FileOps {
    /// casd_llistxattr(2): the attribute names of `path`.
    static func listXattrs(_ path: FilePath) throws(Errno) -> [String] {
        let path = path.cString
        while true {
            let size = casd_llistxattr(path, nil, 0)
            if size < 0 {
                let error = Errno.current
                if error == .interrupted { continue }
                if error == .notSupported { return [] }
                throw error
            }
            if size == 0 { return [] }
            var buffer = [CChar](repeating: 0, count: size)
            let got = casd_llistxattr(path, &buffer, size)
            if got < 0 {
                let error = Errno.current
                // The list grew between the two calls: ask again.
                if error == Errno(rawValue: ERANGE) || error == .interrupted { continue }
                if error == .notSupported { return [] }
                throw error
            }
            return splitNames(buffer[..<got])
        }
    }

    /// casd_llistxattr(2) with no buffer: the length of the name list, 0 when
    /// `path` has no attributes (or its file system none). One cheap call
    /// that settles "no xattrs on either side" for most files.
    public static func xattrListLength(_ path: FilePath) throws(Errno) -> Int {
        let path = path.cString
        while true {
            let size = casd_llistxattr(path, nil, 0)
            if size >= 0 { return size }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .notSupported { return 0 }
            throw error
        }
    }

    /// casd_lgetxattr(2): the value of attribute `name` of `path`.
    static func getXattr(_ path: FilePath, name: String) throws(Errno) -> [UInt8] {
        let path = path.cString
        while true {
            let size = casd_lgetxattr(path, name, nil, 0)
            if size < 0 {
                let error = Errno.current
                if error == .interrupted { continue }
                throw error
            }
            var buffer = [UInt8](repeating: 0, count: max(size, 1))
            let got = casd_lgetxattr(path, name, &buffer, size)
            if got < 0 {
                let error = Errno.current
                if error == Errno(rawValue: ERANGE) || error == .interrupted { continue }
                throw error
            }
            return Array(buffer[..<got])
        }
    }

    /// casd_lsetxattr(2): creates or replaces attribute `name` of `path`.
    public static func setXattr(_ path: FilePath, name: String, value: [UInt8]) throws(Errno) {
        let path = path.cString
        _ = try retryingEINTR(.setXattr) { casd_lsetxattr(path, name, value, value.count, 0) }
    }

    /// casd_lremovexattr(2).
    public static func removeXattr(_ path: FilePath, name: String) throws(Errno) {
        let path = path.cString
        _ = try retryingEINTR { casd_lremovexattr(path, name) }
    }

    /// Every attribute of `path` as name → value.
    public static func xattrs(_ path: FilePath) throws(Errno) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for name in try listXattrs(path) {
            do {
                result[name] = try getXattr(path, name: name)
            } catch {
                if error == .noData { continue }  // removed meanwhile
                throw error
            }
        }
        return result
    }

    /// Copies every attribute of `source` onto `destination` (l*xattr).
    /// When `tolerant` is true, attributes the destination refuses (EPERM:
    /// user.* on a symlink or device; ENOTSUP: file system without xattrs)
    /// are skipped; other failures throw.
    public static func copyXattrs(from source: FilePath, to destination: FilePath, tolerant: Bool = false) throws(Errno) {
        for (name, value) in try xattrs(source) {
            do {
                try setXattr(destination, name: name, value: value)
            } catch {
                if error == .notSupported { continue }
                if tolerant && (error == .permission || error == .access) { continue }
                throw error
            }
        }
    }

    /// Splits a NUL-separated name list from listxattr(2).
    static func splitNames(_ bytes: ArraySlice<CChar>) -> [String] {
        var names: [String] = []
        var current: [UInt8] = []
        for byte in bytes {
            if byte == 0 {
                if !current.isEmpty { names.append(String(decoding: current, as: UTF8.self)) }
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(UInt8(bitPattern: byte))
            }
        }
        if !current.isEmpty { names.append(String(decoding: current, as: UTF8.self)) }
        return names
    }
}

/// Descriptor-based variants used while copying a file's content.
extension FileOps {
    /// casd_flistxattr(2) + casd_fgetxattr(2) + casd_fsetxattr(2): copies every attribute
    /// between open descriptors (so the capability xattr survives a chown
    /// done before).
    public static func copyXattrs(fromFD source: Int32, toFD destination: Int32) throws(Errno) {
        let size = casd_flistxattr(source, nil, 0)
        if size < 0 {
            let error = Errno.current
            if error == .notSupported { return }
            throw error
        }
        if size == 0 { return }
        var list = [CChar](repeating: 0, count: size)
        let got = try retryingEINTR { casd_flistxattr(source, &list, size) }
        for name in splitNames(list[..<got]) {
            let valueSize = casd_fgetxattr(source, name, nil, 0)
            if valueSize < 0 {
                let error = Errno.current
                if error == .noData { continue }
                throw error
            }
            var value = [UInt8](repeating: 0, count: max(valueSize, 1))
            let valueGot = try retryingEINTR { casd_fgetxattr(source, name, &value, valueSize) }
            do {
                _ = try retryingEINTR(.setXattr) { casd_fsetxattr(destination, name, value, valueGot, 0) }
            } catch {
                if error == .notSupported { continue }
                throw error
            }
        }
    }
}
