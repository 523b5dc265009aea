import Foundation
import Testing

/// USE_ZRAM in the test sandbox. zram devices are global (not namespaced):
/// a scenario only ever removes the device its own asd recorded in
/// `$DAEMON_FILE.zram` (same diskseq), on any exit of its script.
enum ZramSupport {
    static var available: Bool { FileManager.default.fileExists(atPath: "/sys/class/zram-control/hot_add") }

    /// Bash functions, installed as the first step of a zram scenario:
    /// `zram_alive FILE` is true while the device a record names still
    /// exists as made; `zram_keep` copies the current record to FILE (also
    /// kept for the cleanup); the EXIT trap unmounts, resets and removes
    /// every device a kept record names that is still alive (holding asd's
    /// machine-wide zram lock, as asd does).
    static let library = #"""
        zram_alive() {
            local n s
            [[ -f $1 ]] || return 1
            n=$(sed -n 's/^device=//p' "$1"); s=$(sed -n 's/^diskseq=//p' "$1")
            [[ -n $n && -e /sys/block/zram$n && $(cat "/sys/block/zram$n/diskseq") == "$s" ]]
        }
        zram_keep() { if [[ -f $DAEMON_FILE.zram ]]; then cp "$DAEMON_FILE.zram" "$1"; cp "$1" "$SANDBOX/zram-rec.$RANDOM$RANDOM"; fi; }
        zram_cleanup() {
            local rec n
            cp "$DAEMON_FILE.zram" "$SANDBOX/zram-rec.last" 2>/dev/null || true
            for rec in "$SANDBOX"/zram-rec.*; do
                zram_alive "$rec" || continue
                n=$(sed -n 's/^device=//p' "$rec")
                { findmnt -rn -o TARGET -S "/dev/zram$n" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
                # Under asd's machine-wide lock, as asd resets and removes: between the two
                # the device is unsized, and an asd looking for an abandoned one must not see it.
                flock /run/asd-zram-lock sh -c 'for _ in $(seq 100); do echo 1 >"/sys/block/zram$1/reset" 2>/dev/null && break; sleep 0.05; done
                    echo "$1" >/sys/class/zram-control/hot_remove' sh "$n" || true
            done
            return 0
        }
        trap zram_cleanup EXIT
        """#

    /// Fails under ASD_REQUIRE_PRIVILEGED=1 when the kernel has no zram.
    static func check() throws {
        if !available { throw HarnessError("the zram module is missing (modprobe zram); USE_ZRAM cannot be tested") }
    }
}

/// The zram suites, one test at a time: zram devices, the machine-wide lock and
/// the intent file are shared by every asd on the machine, so a test's asd may
/// clean up what another test's killed asd left before that test looks.
@Suite(.serialized) enum ZramSuites {}

extension Trait where Self == ConditionTrait {
    /// Root, unshare and the zram module; with ASD_REQUIRE_PRIVILEGED=1 the test runs and fails without them.
    static var zram: Self {
        .enabled(
            if: (Privilege.available && ZramSupport.available) || Privilege.required,
            "needs root, unshare(1) and the zram module; CI sets ASD_REQUIRE_PRIVILEGED=1 to fail instead of skipping"
        )
    }
}

extension Scenario {
    /// A new sandbox keeping `$DATA/t` on a 32 MiB zram device, and its scenario
    /// with the zram helpers (fails where zram is missing, as `ZramSupport.check`).
    static func onSmallZram() throws -> Scenario {
        try ZramSupport.check()
        let sandbox = try Sandbox()
        try sandbox.writeConfig(targets: ["$DATA/t"], extra: "USE_ZRAM=yes\nZRAM_SIZE=32M")
        return Scenario(sandbox).withZram()
    }

    /// The zram helpers (and the cleanup trap) of `ZramSupport.library`.
    func withZram() -> Scenario { shell(ZramSupport.library) }

    /// Fails unless the device recorded in `record` is gone.
    func expectZramGone(_ record: String, sourceLocation: SourceLocation = #_sourceLocation) -> Scenario {
        expect("! zram_alive \"\(record)\"", "the zram device of \(record) is still there: $(cat \"\(record)\")",
               sourceLocation: sourceLocation)
            .expectAbsent("$DAEMON_FILE.zram", sourceLocation: sourceLocation)
    }
}
