import ASDSystem

/// How a copy fails, in the copier's own terms: the system call and path,
/// the command and its stderr, or the signal that stopped it. The engine
/// turns it into the user-facing error (and names the paths the user sees).
public enum CopyError: Error, Equatable, Sendable {
    /// `operation` on `path` failed with `errno`.
    case system(operation: String, path: FilePath, errno: Errno)
    /// A command (rsync) failed: its command line, exit status and stderr.
    case command(argv: [String], status: String, stderr: String)
    /// The copy program `name` is missing (`found` nil) or older than `needed`.
    case toolTooOld(name: String, found: String?, needed: String)
    /// SIGTERM or SIGINT arrived during the copy.
    case interrupted(signal: String, during: String)
    /// A step the caller handed in (`WriteBackJob.prepareTempDirectory`)
    /// failed with the caller's own error, passed through unchanged.
    case caller(CallerFailure)

    /// Runs `body`; an `Errno` it throws becomes `.system(operation, path, errno)`.
    public static func attempt<T>(
        _ operation: String, _ path: FilePath, _ body: () throws(Errno) -> T
    ) throws(CopyError) -> T {
        do throws(Errno) {
            return try body()
        } catch {
            throw CopyError.system(operation: operation, path: path, errno: error)
        }
    }

    /// A program that could not be started.
    public init(_ failure: SubprocessFailure) {
        switch failure {
        case .emptyCommandLine:
            self = .command(argv: [], status: "not started", stderr: "an empty command line was given to the subprocess runner")
        case .cannotStart(let operation, let path, let errno):
            self = .system(operation: operation, path: path, errno: errno)
        }
    }
}

/// An error of the caller's own type carried through the copier untouched.
public struct CallerFailure: Error, Equatable, Sendable {
    public let error: any Error & Sendable

    public init(_ error: any Error & Sendable) { self.error = error }

    public static func == (lhs: CallerFailure, rhs: CallerFailure) -> Bool {
        String(describing: lhs.error) == String(describing: rhs.error)
    }
}
