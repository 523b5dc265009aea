/// Running a program on descriptors asd opened itself, so that the child never
/// looks up a path that a user could have redirected.
extension Subprocess {
    /// Runs `argv` to completion in the directory `directory` (fchdir(2) in the
    /// child), its stdout going to our descriptor `output` (not closed here),
    /// stdin from /dev/null, stderr captured. Signals are forwarded as by `run`.
    public static func execute(_ argv: [FilePath], in directory: DirectoryHandle, writingTo output: Int32) throws(SubprocessFailure) -> ProcessResult {
        do throws(SpawnFailure) {
            let child = try SpawnedChild.spawn(
                argv: argv, input: .nullDevice, output: .fileDescriptor(output), environment: nil,
                workingDirectory: directory.fd)
            let (out, err, status) = child.collect(signals: .process)
            return ProcessResult(argv: argv, status: status, standardOutput: out, standardError: String(decoding: err, as: UTF8.self))
        } catch {
            throw .cannotStart(operation: error.operation, path: error.path, errno: error.errno)
        }
    }
}
