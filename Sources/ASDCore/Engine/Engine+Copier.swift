import ASDCopy
import ASDSystem

extension Engine {
    /// The copier `settings` choose (USE_RSYNC).
    static func makeCopier(_ settings: Settings, log: any Log) -> any TreeCopier {
        settings.useRsync ? RsyncCopier(log: log, onEveryTree: settings.rsyncOnEveryTree) : BuiltinCopier(log: log)
    }
}

