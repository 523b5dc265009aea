import ASDSystem
/// The one window in which a killed sync could leave a zram device behind:
/// between hot_add and the write of `$DAEMON_FILE.zram`. Every asd makes its
/// device holding one lock for the whole machine (zram devices are global),
/// and first writes an intent: the boot id, the highest diskseq of the zram
/// devices there are, the time. The intent goes as soon as the record names
/// the device. An intent found by the next asd to take the lock was left by
/// one killed in the window; the device it made, when it is provably that
/// one, is removed before anything else (doc/DESIGN.md §11).
extension Engine {
    static let zramLockPath: FilePath = "/run/asd-zram-lock"
    static let zramIntentPath: FilePath = "/run/asd-zram-intent"

    /// Runs `body` holding the machine-wide zram lock, after the device of an
    /// asd killed in the window (if any) is removed.
    func withZramLock<T>(_ body: () throws(ASDError) -> T) throws(ASDError) -> T {
        try holdingZramLock { () throws(ASDError) -> T in
            removeAbandonedZram()
            return try body()
        }
    }

    /// Runs `body` holding the machine-wide zram lock. Also taken to reset and
    /// remove a device: between the two it is unsized like a new one, and the
    /// search for an abandoned device must never see it so.
    func holdingZramLock<T>(_ body: () throws(ASDError) -> T) throws(ASDError) -> T {
        let lock: FileLock
        do throws(FileLock.Failure) {
            lock = try FileLock.acquire(path: Self.zramLockPath) {
                log.info("Waiting for another asd to make or remove its zram device...")
            }
        } catch {
            throw ASDError(error, lock: Self.zramLockPath)
        }
        defer { lock.release() }
        return try body()
    }

    /// hot_add between the intent and the record: returns the new device's number.
    func addZramDevice() throws(ASDError) -> Int {
        let highest = Zram.devices().compactMap(Zram.sequence(of:)).max() ?? 0
        let intent = ZramIntent(boot: Zram.bootID(), after: highest, at: Clock.realtimeMicroseconds())
        try writeAtomically(Self.zramIntentPath, contents: Array(intent.text.utf8))
        let number: Int
        do throws(ASDError) {
            number = try ASDError.attempt("create a zram device through", Zram.control.appending("hot_add")) { () throws(Errno) in
                try Zram.hotAdd()
            }
            do throws(ASDError) {
                try writeAtomically(zramRecordPath, contents: Array(ZramRecord(
                    device: number, sequence: Zram.sequence(of: number) ?? 0, boot: intent.boot).text.utf8))
            } catch {
                try? Zram.hotRemove(number)
                throw error
            }
        } catch {
            try? FileOps.unlink(Self.zramIntentPath)
            throw error
        }
        try? FileOps.unlink(Self.zramIntentPath)
        return number
    }

    /// The intent of an asd killed between hot_add and its record: of the
    /// zram devices made after it (greater diskseq, node made within two
    /// seconds of it), the one still as hot_add left it (no size, nothing
    /// stacked on it, not mounted) is that asd's and is removed. Another
    /// asd cannot have made one (it makes and sizes its device holding the lock); a device another program made
    /// at the same moment and left unconfigured makes two, and then none is
    /// touched. hot_remove itself refuses a device someone has open.
    func removeAbandonedZram() {
        guard let bytes = try? readFile(Self.zramIntentPath) else { return }
        defer { try? FileOps.unlink(Self.zramIntentPath) }
        guard let intent = ZramIntent(text: String(decoding: bytes, as: UTF8.self)), intent.boot == Zram.bootID() else { return }
        let abandoned = Zram.devices().filter {
            intent.madeAfter($0) && Zram.isUnconfigured($0) && Zram.hasNoHolders($0) && zramMounts($0).isEmpty
        }
        guard abandoned.count == 1, let number = abandoned.first else {
            if !abandoned.isEmpty {
                let names = abandoned.map { Zram.node($0).description }.joined(separator: ", ")
                log.warning("A killed asd left one of the unused zram devices \(names); none is provably asd's, so all are kept. Remove an unused one with 'echo N > \(Zram.control)/hot_remove'.")
            }
            return
        }
        do throws(Errno) {
            try Zram.hotRemove(number)
            log.info("Removed \(Zram.node(number)), made by an asd that was killed before it could record it.")
        } catch {
            log.warning("Could not remove \(Zram.node(number)), left unused by a killed asd: \(error)")
        }
    }
}

/// `/run/asd-zram-intent`: "boot=ID", "after=S" (the highest diskseq of the
/// zram devices before hot_add), "at=T" (microseconds since the epoch).
struct ZramIntent: Equatable {
    var boot: String
    var after: UInt64
    var at: Int64

    var text: String { "boot=\(boot)\nafter=\(after)\nat=\(at)\n" }
}

extension ZramIntent {
    init?(text: String) {
        let fields = ZramRecord.fields(of: text)
        guard let boot = fields["boot"], !boot.isEmpty, let after = fields["after"].flatMap({ UInt64($0) }),
              let at = fields["at"].flatMap({ Int64($0) }) else { return nil }
        self.init(boot: boot, after: after, at: at)
    }

    /// Device `number` came after the intent: a greater diskseq, and a node
    /// made from a second before to two seconds after it.
    func madeAfter(_ number: Int) -> Bool {
        guard let sequence = Zram.sequence(of: number), sequence > after, let made = Zram.created(number) else { return false }
        let micros = Int64(made.seconds) * 1_000_000 + Int64(made.nanoseconds / 1_000)
        return micros >= at - 1_000_000 && micros <= at + 2_000_000
    }
}
