import ASDCopy
import ASDSystem
/// Subprocess outcomes as user-facing errors (System reports them as values).
extension ASDError {
    /// A program that could not be run: an empty command line is asd's own bug
    /// (exit 1, not a usage error); anything else names the step and program.
    init(_ failure: SubprocessFailure) {
        switch failure {
        case .emptyCommandLine:
            self = .internalError("an empty command line was given to the subprocess runner")
        case .cannotStart(let operation, let path, let errno):
            self = .system(operation: operation, path: path, errno: errno)
        }
    }
}

extension ProcessResult {
    /// Throws `ASDError.command` unless the child exited 0 or with one of
    /// the `allowing` codes.
    func requireSuccess(allowing: Set<Int32> = []) throws(ASDError) {
        if case .exited(let code) = status, code == 0 || allowing.contains(code) { return }
        throw ASDError.command(argv: argv.map(\.description), status: status.description, stderr: standardError)
    }
}

extension Subprocess {
    /// `execute(_:in:writingTo:)` with a failure to start as an `ASDError`.
    static func run(_ argv: [FilePath], in directory: DirectoryHandle, writingTo output: Int32) throws(ASDError) -> ProcessResult {
        do throws(SubprocessFailure) {
            return try execute(argv, in: directory, writingTo: output)
        } catch {
            throw ASDError(error)
        }
    }

    /// `execute` with a failure to start as an `ASDError`.
    static func run(
        _ argv: [FilePath], standardInput: StandardInput = .nullDevice, captureOutput: Bool = false,
        outputPassthrough: Bool = false, environment: [String: String]? = nil
    ) throws(ASDError) -> ProcessResult {
        do throws(SubprocessFailure) {
            return try execute(
                argv, standardInput: standardInput, captureOutput: captureOutput,
                outputPassthrough: outputPassthrough, environment: environment)
        } catch {
            throw ASDError(error)
        }
    }

    /// Runs `argv` and throws `ASDError.command` unless it exits 0.
    @discardableResult
    static func checked(
        _ argv: [FilePath], captureOutput: Bool = false, environment: [String: String]? = nil
    ) throws(ASDError) -> ProcessResult {
        let result = try run(argv, captureOutput: captureOutput, environment: environment)
        try result.requireSuccess()
        return result
    }
}
