import ASDCore

#if canImport(Glibc)
import Glibc
#endif

let status = CommandLineTool.run(
    arguments: Array(CommandLine.arguments.dropFirst()),
    environment: ProcessEnvironment.current()
)
exit(status)
