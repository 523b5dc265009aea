import ASDCopy
import ASDSystem

/// The copier's failures as user-facing errors.
extension ASDError {
    init(_ failure: CopyError) {
        switch failure {
        case .system(let operation, let path, let errno):
            self = .system(operation: operation, path: path, errno: errno)
        case .command(let argv, let status, let stderr):
            self = .command(argv: argv, status: status, stderr: stderr)
        case .toolTooOld(let name, let found, let needed):
            self = .toolTooOld(name: name, package: name, found: found, needed: needed, key: "USE_RSYNC")
        case .interrupted(let signal, let during):
            self = .interrupted(signal: signal, during: during)
        case .caller(let failure):
            self = failure.error as? ASDError ?? .internalError(String(describing: failure.error))
        }
    }

    /// Runs a copy; its `CopyError` becomes the `ASDError` above.
    static func copying<T>(_ body: () throws(CopyError) -> T) throws(ASDError) -> T {
        do throws(CopyError) {
            return try body()
        } catch {
            throw ASDError(error)
        }
    }
}

extension CopyError {
    /// Runs a step of the caller's; its `ASDError` travels through the copier unchanged.
    static func passing(_ body: () throws(ASDError) -> Void) throws(CopyError) {
        do throws(ASDError) {
            try body()
        } catch {
            throw .caller(CallerFailure(error))
        }
    }
}
