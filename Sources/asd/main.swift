import ASDCore
import ASDSystem

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
let environment = ProcessEnvironment.current()
// Run as `asd-generator` (a link in systemd's generator directory): the generator.
let status = GeneratorCommand.isInvoked(as: arguments.first ?? "")
    ? GeneratorCommand.run(arguments: Array(arguments.dropFirst()), environment: environment)
    : CommandLineTool.run(arguments: Array(arguments.dropFirst()), environment: environment)
exit(status)
