import ASDCopy
import ASDSystem
/// `asd clean`: delete every crash-recovery archive of every target, listing each.
enum CleanCommand {
    static func run(_ context: CommandContext) throws(ASDError) {
        let invocation = context.invocation, console = context.console
        let settings = try ConfigLoader.settingsInForce(invocation: invocation, environment: context.environment).settings
        console.info(Header.text(console: console))
        var firstFailure: ASDError?
        for paths in Engine(settings: settings, invocation: invocation, log: console).targets {
            let target = paths.target
            let archives = Retention.archives(for: paths)
            if archives.isEmpty {
                console.info(console.styled("Found no crash-recovery archives for: ", .bold) + console.styled(target.description, .blue))
                continue
            }
            console.info(console.styled("Deleting \(archives.count) crash-recovery archive(s) for sync target ", .bold)
                + console.styled(target.description, .blue))
            do throws(ASDError) {
                for archive in try Retention.cleanAll(paths: paths) {
                    console.info("  " + console.styled(archive.description, .red))
                }
            } catch {
                console.error(error.message)
                firstFailure = firstFailure ?? error
            }
        }
        if let firstFailure { throw firstFailure }
    }
}
