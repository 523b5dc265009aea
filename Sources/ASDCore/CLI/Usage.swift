import ASDCopy
import ASDSystem
/// The usage text and the version, for `asd --help`, `asd --version` and mistakes.
enum Usage {
    static func text(invocation: Invocation, console: Console) -> String {
        """
        \(console.styled("Anything-sync-daemon (Swift) v\(Version.string)", .bold))

         asd [command]
          preview  Parse the config file (\(invocation.configPath)) to see what will be managed.
                   With --json: the same, and the state of the system, as JSON (see asd(1)).
          clean    Delete (without prompting) ALL crash-recovery archives.
          resync   Write the tmpfs copies back to disk. Must be run as root.
          sync     Move the targets into tmpfs. Must be run as root; prefer 'systemctl start asd'.
          unsync   Write back and put the targets on disk again. Must be run as root; prefer 'systemctl stop asd'.
          watch    Write each change back within RESYNC_DELAY seconds (run by asd-watch.service).
          help     Show this text (also --help, -h).
          version  Show the version (also --version, -V).

         Environment: ASDCONF (config, default /etc/asd.conf), DAEMON_FILE (default /run/asd), DEBUG=1.
        """
    }
}

enum Version {
    static let string = "6.0.0"
}
