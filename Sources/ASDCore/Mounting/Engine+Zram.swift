import ASDSystem
/// USE_ZRAM: the RAM copies live on a compressed zram device that asd makes
/// at sync (hot_add, algorithm, size, mkfs, mount with discard at
/// `$VOLATILE/.zram-<instance>`) and removes at unsync (doc/DESIGN.md §11).
/// The device asd made is written down in
/// `$DAEMON_FILE.zram` the moment hot_add names it (after an intent, for a
/// kill in between: Engine+ZramIntent.swift), with the kernel's
/// `diskseq` and the boot id: a device is reset only when all three match,
/// so zram0 of a swap service, or any device asd did not make, is never touched.
extension Engine {
    /// `$DAEMON_FILE.zram`.
    var zramRecordPath: FilePath { invocation.daemonFile + ".zram" }

    /// The number of asd's own device, when the record names one that still
    /// exists as it was made (same boot, same diskseq).
    func ownZramDevice() -> Int? {
        guard let bytes = try? readFile(zramRecordPath), let record = ZramRecord(text: String(decoding: bytes, as: UTF8.self)),
              record.boot == Zram.bootID(), Zram.exists(record.device),
              let sequence = Zram.sequence(of: record.device), sequence == record.sequence else { return nil }
        return record.device
    }

    /// "253:1" of device `number`, as mountinfo names it.
    static func zramDeviceNumbers(_ number: Int) -> String? { try? Zram.get("dev", of: number) }

    /// The mounts of device `number`, by source (btrfs shows an anonymous
    /// major:minor in mountinfo) or by major:minor.
    func zramMounts(_ number: Int) -> [MountEntry] {
        guard let table = try? MountInfo.current() else { return [] }
        let dev = Self.zramDeviceNumbers(number), node = Zram.node(number).description
        return table.filter { $0.source == node || $0.device == dev }
    }

    /// Before the first target: asd's device, formatted and mounted at the
    /// layout's VOLATILE. A device of a sync that was killed is reused when
    /// mounted (the targets on it are kept, as for tmpfs), else removed and
    /// made anew. Returns true when this call made the device (so a failed
    /// sync removes it again).
    func prepareZram() throws(ASDError) -> Bool {
        guard let zram = settings.zram else { return false }
        let mountPoint = settings.volatile
        if let number = ownZramDevice() {
            if zramMounts(number).contains(where: { $0.mountPoint == mountPoint && $0.root == "/" }) {
                log.info("Using zram device \(Zram.node(number)) left mounted at \(mountPoint) by an earlier sync.")
                return false
            }
            try removeZram(number)
        } else {
            try? FileOps.unlink(zramRecordPath) // names a device of another boot, or none
        }
        guard Zram.isAvailable else {
            throw .system(operation: "create a zram device (USE_ZRAM=yes; load the module with 'modprobe zram') through",
                          path: Zram.control.appending("hot_add"), errno: .noEntry)
        }
        let size = try zramSize(zram)
        try guardZramRoom(size: size, zram: zram)
        let number = try withZramLock { () throws(ASDError) in
            let number = try addZramDevice()
            // Sized under the lock: another asd must never see it unconfigured, where
            // it would look like a second device a killed asd left (removeAbandonedZram).
            do throws(ASDError) { try configureZram(number, size: size, zram: zram) } catch {
                do throws(ASDError) { try removeZram(number, lockHeld: true) } catch { log.warning(error.message) }
                throw error
            }
            return number
        }
        do throws(ASDError) {
            try checkInterrupted("sync (setting up zram)")
            try makeZramMountPoint(zram)
            let format = ZramFormat.choose(size: size, hasBtrfs: Subprocess.which("mkfs.btrfs") != nil)
            try runZramCommand(format.mkfs(Zram.node(number)))
            try checkInterrupted("sync (setting up zram)")
            try ASDError.attempt("mount \(Zram.node(number)) (\(format.fsType)) on", mountPoint) { () throws(Errno) in
                try Mount.mountDevice(Zram.node(number), fsType: format.fsType, options: format.options, at: mountPoint)
            }
            try checkInterrupted("sync (setting up zram)")
            log.debug("zram device \(Zram.node(number)): \(format.fsType), \(formatBytes(size)) uncompressed, mounted on \(mountPoint)")
        } catch {
            do throws(ASDError) { try removeZram(number) } catch { log.warning(error.message) }
            throw error
        }
        return true
    }

    /// Algorithm (ZRAM_ALGORITHM, else zstd, else lz4, else the kernel's) and disksize.
    func configureZram(_ number: Int, size: UInt64, zram: ZramSettings) throws(ASDError) {
        let attribute = Zram.sysfs(number).appending("comp_algorithm")
        let offered = try ASDError.attempt("read", attribute) { () throws(Errno) in try Zram.algorithms(of: number).offered }
        if let wanted = zram.algorithm, !offered.contains(wanted) {
            throw .configValue(file: FilePath(zram.algorithmSource), key: "ZRAM_ALGORITHM", value: wanted,
                               reason: "this kernel's zram offers only \(offered.joined(separator: ", "))")
        }
        if let algorithm = zram.algorithm ?? ZramSettings.preferredAlgorithms.first(where: offered.contains) {
            try ASDError.attempt("set the algorithm \(algorithm) in", attribute) { () throws(Errno) in
                try Zram.set("comp_algorithm", of: number, to: algorithm)
            }
        }
        try ASDError.attempt("set the size \(size) in", Zram.sysfs(number).appending("disksize")) { () throws(Errno) in
            try Zram.set("disksize", of: number, to: "\(size)")
        }
    }

    /// `$VOLATILE/.zram-<instance>`, root's, 0755, made exclusively (or an
    /// existing one of root's, left by a crash).
    func makeZramMountPoint(_ zram: ZramSettings) throws(ASDError) {
        do throws(VolatileDirectoryError) {
            _ = try VolatileDirectory.make(in: zram.hostVolatile, parents: [], leaf: settings.volatile.lastComponent,
                                           mode: 0o755, uid: 0, gid: 0)
        } catch {
            throw ASDError(error)
        }
    }

    /// Unmounts (only our mount point, never lazily), resets and removes
    /// device `number`, then the record and the mount point. A device still
    /// mounted elsewhere or busy is left as it is (the kernel refuses the
    /// reset), with an error: its data may be the only copy. The reset and
    /// hot_remove hold the machine-wide zram lock (`lockHeld`: the caller
    /// holds it already), so no asd takes the reset device for an abandoned one.
    func removeZram(_ number: Int, lockHeld: Bool = false) throws(ASDError) {
        let mountPoint = settings.volatile
        for entry in zramMounts(number).reversed() where entry.mountPoint == mountPoint {
            try ASDError.attempt("unmount the zram file system on", mountPoint) { () throws(Errno) in
                try Mount.unmount(mountPoint, lazy: false)
            }
        }
        if let other = zramMounts(number).first {
            throw .unexpectedState(path: Zram.node(number), detail: "asd's zram device is still mounted on \(other.mountPoint); unmount it, then run asd again")
        }
        let resetAndRemove = { () throws(ASDError) in
            try ASDError.attempt("reset the zram device", Zram.sysfs(number)) { () throws(Errno) in try Zram.reset(number) }
            try ASDError.attempt("remove the zram device \(number) through", Zram.control.appending("hot_remove")) { () throws(Errno) in
                try Zram.hotRemove(number)
            }
        }
        if lockHeld { try resetAndRemove() } else { try holdingZramLock(resetAndRemove) }
        try? FileOps.unlink(zramRecordPath)
        try? FileOps.removeDirectory(mountPoint)
        log.debug("Removed zram device \(Zram.node(number)).")
    }

    /// After each resync: zram's allocator gives back the pages that deleted
    /// (discarded) data left half empty; the kernel does it by itself only
    /// under memory pressure.
    func compactZram() {
        guard settings.zram != nil, let number = ownZramDevice() else { return }
        Zram.compact(number)
    }

    /// After unsync: asd's device, when it has one.
    func removeOwnZram() throws(ASDError) {
        guard settings.zram != nil else { return }
        if let number = ownZramDevice() { try removeZram(number) } else { try? FileOps.unlink(zramRecordPath) }
    }

    func runZramCommand(_ argv: [FilePath]) throws(ASDError) {
        let result: ProcessResult
        do throws(SubprocessFailure) {
            result = try Subprocess.execute(argv)
        } catch {
            throw .missingTool(name: argv[0].description, package: argv[0].description == "mkfs.btrfs" ? "btrfs-progs" : "e2fsprogs")
        }
        if !result.status.isSuccess {
            throw .command(argv: argv.map(\.description), status: result.status.description, stderr: result.standardError)
        }
    }
}

/// `$DAEMON_FILE.zram`: "device=N", "diskseq=S", "boot=ID", one a line.
struct ZramRecord: Equatable {
    var device: Int
    var sequence: UInt64
    var boot: String

    var text: String { "device=\(device)\ndiskseq=\(sequence)\nboot=\(boot)\n" }

    init(device: Int, sequence: UInt64, boot: String) {
        self.device = device
        self.sequence = sequence
        self.boot = boot
    }

    /// "key=value" lines.
    static func fields(of text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    init?(text: String) {
        let fields = Self.fields(of: text)
        guard let device = fields["device"].flatMap({ Int($0) }), let sequence = fields["diskseq"].flatMap({ UInt64($0) }),
              let boot = fields["boot"], !boot.isEmpty else { return nil }
        self.init(device: device, sequence: sequence, boot: boot)
    }
}
