import ASDCopy
import ASDSystem
/// Where a write-back reads a running target's tmpfs copy.
///
/// Normally from its directory under VOLATILE. But VOLATILE can be unmounted
/// (or mounted over) while the target still serves the copy: at shutdown, when
/// nothing orders asd's stop before VOLATILE's unmount (the generator's
/// `RequiresMountsFor=` does). The copy then lives on only in the bind mount at
/// the target, and the path under VOLATILE shows another directory, or none.
/// Reading from there would write back the wrong tree; reading the target itself
/// writes back what the applications wrote.
struct CopyView: Equatable {
    /// What the write-back copies.
    let source: FilePath
    /// False when `source` is the target: in overlay mode the upper layer is then
    /// out of reach too, so the whole merged view is written back.
    let throughVolatile: Bool
}

extension Engine {
    func copyView(of paths: TargetPaths) throws(ASDError) -> CopyView {
        let table = try mountTable()
        guard let bottom = ourMounts(at: paths, in: table).first,
              !copyIsVisible(paths, servedBy: bottom, in: table)
        else { return CopyView(source: paths.tmpfsCopy, throughVolatile: true) }
        log.warning("The tmpfs copy of \(paths.target) is no longer at \(paths.tmpfsCopy) (was VOLATILE \(settings.volatile) unmounted under a running asd?); writing back what the mount at \(paths.target) still shows.")
        return CopyView(source: paths.target, throughVolatile: false)
    }

    /// True when the tmpfs copy's path under VOLATILE shows what `bottom`, asd's
    /// lowest mount at the target, serves.
    func copyIsVisible(_ paths: TargetPaths, servedBy bottom: MountEntry, in table: [MountEntry]) -> Bool {
        MountInfo.origin(of: paths.tmpfsCopy, in: table) == MountInfo.origin(of: bottom)
    }

    /// The running marker of a target served by `bottom`: in the tmpfs copy under
    /// VOLATILE, or, when that is out of view, the same file seen through the target.
    func marker(of paths: TargetPaths, servedBy bottom: MountEntry, in table: [MountEntry]) -> FilePath {
        copyIsVisible(paths, servedBy: bottom, in: table) ? paths.flag : paths.target.appending(TargetPaths.flagName)
    }
}
