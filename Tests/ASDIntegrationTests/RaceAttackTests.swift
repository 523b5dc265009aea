import Foundation
import Testing

/// doc/DESIGN.md §7: the target's owner attacks asd while it works. An unprivileged
/// uid (no account needed: `setpriv --reuid`) owns the target `$DATA/home/t` and its
/// parent `$DATA/home` (like /home/alice/.cache); `RaceAttacker` runs as that uid and,
/// woken by inotify, swaps directories and files for symlinks to root-only decoys and
/// plants symlinks under the names asd uses, in a tight loop, while asd runs phase after
/// phase. Afterwards the decoys must be unchanged (content, mode, owner, mtime, xattrs),
/// no mount may sit on them, the secret must appear nowhere in the target, its copies,
/// VOLATILE or the crash archives, and every archive must be root's, mode 0600.
/// asd's own failures (the attacker breaks its tree) are allowed and counted.
///
/// Phases: `ASD_RACE_PHASES` (comma-separated, or `all`) selects them; the default is
/// every phase (the copier's walks are descriptor-relative: doc/DESIGN.md §7).
/// `ASD_RACE_ROUNDS` (default 6) repeats each phase.
@Suite(.privileged, .serialized)
struct RaceAttackTests {
    enum Phase: String, CaseIterable, CustomTestStringConvertible {
        /// The attacker plants asd's per-user directories in a world-writable VOLATILE.
        case volatile
        /// Attacks during `asd sync` (snapshot, fill, binds).
        case sync
        /// Attacks the tmpfs copy (through the target) during `asd resync`.
        case resync
        /// Attacks during `asd unsync` (write-back, removal of copies and snapshot).
        case unsync
        /// sync killed at a random moment, reboot, attacks during the next sync's recovery
        /// (snapshot to archive), its new snapshot and its rollback (VOLATILE is too small).
        case recovery
        /// Attacks during `asd clean` (archives replaced by symlinks, planted old-style directories).
        case clean
        /// Overlay mode: attacks during sync (the snapshot becomes the overlay's lower layer),
        /// resync and unsync; after each sync and resync the target (the overlay) must show
        /// none of the decoys' content. (The attacker seldom wins the snapshot-to-mount window
        /// by inotify alone: `OverlayLowerTests.snapshotSwappedBeforeTheMountIsRefused`
        /// holds it open with strace.)
        case overlay

        var testDescription: String { rawValue }
    }

    static let environment = ProcessInfo.processInfo.environment
    static let rounds = Int(environment["ASD_RACE_ROUNDS"] ?? "") ?? 6
    static let uid = 47_011

    static var phases: [Phase] {
        guard let list = environment["ASD_RACE_PHASES"], !list.isEmpty else {
            return Phase.allCases
        }
        if list == "all" { return Phase.allCases }
        return list.split(separator: ",").compactMap { Phase(rawValue: String($0)) }
    }

    @Test(arguments: phases)
    func attackerGainsNothing(_ phase: Phase) async throws {
        let sandbox = try Sandbox()
        try RaceAttacker.program.write(toFile: sandbox.root + "/attacker.py", atomically: false, encoding: .utf8)
        // In the rsync pass: USE_RSYNC="yes", the setting an administrator uses (the
        // attacker owns the tree, so asd must not let rsync walk it).
        let rsync = TestEngine.current == .rsync ? "\nUSE_RSYNC=\"yes\"" : ""
        try sandbox.writeConfig(targets: ["$DATA/home/t"], overlay: phase == .overlay, backups: true, extra: "BACKUP_LIMIT=50" + rsync)
        let result = try await Scenario(sandbox, timeoutSeconds: 900)
            .shell(Self.setup(modes: phase == .volatile ? "volatile" : "tree"))
            .shell(Self.body(phase))
            .shell(Self.finish)
            .capture("cat \"$SANDBOX/attack.stats\"; cat \"$SANDBOX/outcomes\"", as: "report")
            .capture("cd \"$SANDBOX/leaks\" && for f in *; do [[ -e $f ]] && echo \"== $f\" && head -c 1500 \"$f\"; done; true", as: "leaks")
            .run()
        result.expectNoFailures()
        let leaks = try result.command("leaks").stdout
        #expect(leaks.isEmpty, "phase \(phase): the attacker got through:\n\(leaks)")
        let report = try result.command("report").stdout
        print("race \(phase): \(report.split(separator: "\n").joined(separator: "; "))")
        // The attack must have happened, or the test proves nothing.
        let swaps = report.split(separator: " ").first { $0.hasPrefix("swaps=") }.flatMap { Int($0.dropFirst(6)) } ?? 0
        let plants = report.split(separator: " ").first { $0.hasPrefix("plants=") }.flatMap { Int($0.dropFirst(7)) } ?? 0
        #expect(swaps + plants > 0, "the attacker did nothing: \(report)")
        if phase == .recovery {
            // Recoveries must have happened (and made archives) for the phase to mean anything.
            #expect(!report.contains("archives=0\n"), "no crash archive was made: \(report)")
        }
    }

    /// Decoys, the user's tree, a world-writable VOLATILE, the attacker (inactive).
    static func setup(modes: String) -> String {
        """
        uid=\(uid)
        export ATTACK_MODES=\(modes)
        export T="$DATA/home/t" P="$DATA/home" D="$SANDBOX/decoy"
        secret="SECRET-$RANDOM$RANDOM-root-only"
        # The decoy directory has the names of the user's tree (x/y/g1, z, f1...), so a
        # walk that follows a swapped directory finds files to copy, chown or delete.
        mkdir -p "$D/dir/x/y" "$D/dir/z" "$D/dir/sub" "$SANDBOX/leaks"
        for f in "$D/file" "$D"/dir/{f1,f2,f3,top,x/y/g1,x/y/g2,x/y/g3,sub/deep}; do printf '%s\\n' "$secret" >"$f"; chmod 0600 "$f"; done
        setfattr -n user.secret -v "$secret" "$D/file"
        setfattr -n user.secret -v "$secret" "$D/dir"
        find "$D/dir" -type d -exec chmod 0750 {} +
        chmod 0711 "$D"
        find "$D" -mindepth 1 -exec touch -h -d @1500000000.5 {} +
        printf '%s' "$secret" >"$SANDBOX/secret"
        chmod 0600 "$SANDBOX/secret"
        decoys() {
            (cd "$D" && find . -printf '%p %y %m %U %G %s %T@\\n' | sort
             find . -type f -exec sha256sum {} + | sort
             getfattr -R -h -d -m - --absolute-names . 2>/dev/null)
        }
        decoys >"$SANDBOX/decoys.before"
        mkdir -p "$T"
        for d in a b c d e f g h; do
            mkdir -p "$T/$d/x/y" "$T/$d/z"
            for f in 1 2 3; do printf 'user data %s\\n' "$d$f" >"$T/$d/f$f"; printf 'deep\\n' >"$T/$d/x/y/g$f"; done
            # Enough files that walking a directory takes a moment: the window a swap needs.
            for f in $(seq 40); do printf 'filler %s\\n' "$f" >"$T/$d/n$f"; printf 'filler\\n' >"$T/$d/x/n$f"; done
        done
        printf 'top\\n' >"$T/top"
        chown -R "$uid:$uid" "$P"
        chmod 0755 "$P" "$T"
        chmod 1777 "$VOLATILE"
        inst="asd-$(realpath "$ASDCONF" | sha256sum | cut -b -16)"
        export FLAG="$SANDBOX/attack.on" STOP="$SANDBOX/attack.stop"
        touch "$SANDBOX/attack.stats" && chown "$uid" "$SANDBOX/attack.stats"
        setpriv --reuid="$uid" --regid="$uid" --clear-groups -- python3 "$SANDBOX/attacker.py" \\
            "$T" "$P" "$VOLATILE" "$inst" "$D/file" "$D/dir" "$FLAG" "$STOP" "$SANDBOX/attack.stats" \\
            "$ATTACK_MODES" >"$SANDBOX/attacker.log" 2>&1 &
        # (Not on the script's output: if the script fails, the harness must not wait for it.)
        attacker=$!
        on() { touch "$FLAG"; sleep 0.05; }
        off() { rm -f "$FLAG"; sleep 0.05; }
        # run LABEL ARGS: asd with the outcome tallied; never aborts the script.
        run() {
            local label=$1 rc=0
            shift
            "$ASD_BIN" "$@" >"$SANDBOX/last.out" 2>&1 || rc=$?
            cat "$SANDBOX/last.out" >>"$SANDBOX/all.out"
            echo "$label $rc" >>"$SANDBOX/outcomes.raw"
            if [[ $rc != 0 ]]; then { echo "== $label: $rc"; tail -n 3 "$SANDBOX/last.out"; } >>"$SANDBOX/failures.log"; fi
        }
        # crash: sync killed after a random delay, then what a reboot leaves, with a
        # VOLATILE too small for the tree: the next sync recovers (archive), makes the
        # snapshot and then stops before the copier (no room), so the recovery phases
        # test recovery, snapshot and rollback without the copier.
        crash() {
            mount -o remount,size=256m "$VOLATILE"
            # What the attacker left at asd's names beside the target makes sync refuse
            # (by design); remove it, as the error says to, so that there is a snapshot
            # for the recovery under attack to archive.
            for name in "$P/.t-backup_asd" "$P/.t-backup_asd-old" "$P/.t-backup_asd-old.partial"; do
                if [[ -L $name || ( -e $name && ! -d $name ) ]]; then rm -f -- "$name"; fi
            done
            "$ASD_BIN" sync >/dev/null 2>&1 &
            local pid=$!
            # Every other round sync runs to its end, so there is always a snapshot to archive.
            if (( round % 2 )); then sleep "0.$((RANDOM % 4))$((RANDOM % 10))"; kill -9 "$pid" 2>/dev/null || true; fi
            wait "$pid" 2>/dev/null || true
            asd_reboot
            chmod 1777 "$VOLATILE"
            mount -o remount,size=64k "$VOLATILE"
        }
        """
    }

    static func body(_ phase: Phase) -> String {
        let loop = "for round in $(seq \(rounds)); do\n"
        switch phase {
        case .volatile:
            return loop + "on; run sync sync; off; run unsync unsync\ndone"
        case .sync:
            // In the rsync pass (USE_RSYNC="yes" on the attacker's tree) every sync that
            // copied must have kept rsync off it and said so. A sync that found the target
            // still synced (the previous unsync failed under attack) copies nothing.
            // (The attacker may make every sync fail first; RsyncTrustTests shows the rule.)
            let kept = TestEngine.current == .rsync ? """

                if [[ "$(tail -n 1 "$SANDBOX/outcomes.raw")" == "sync 0" ]] \\
                    && ! grep -q "is copied with asd's built-in copier, not rsync" "$SANDBOX/last.out" \\
                    && ! grep -q "is already served from its tmpfs copy" "$SANDBOX/last.out"; then
                    { echo "round $round:"; cat "$SANDBOX/last.out"; } >>"$SANDBOX/leaks/rsync-on-user-tree"
                fi
                """ : ""
            return loop + "on; run sync sync; off\(kept)\nrun unsync unsync\ndone"
        case .resync:
            return "run sync sync\n" + loop + "on; run resync resync; off\ndone\nrun unsync unsync"
        case .unsync:
            return loop + "run sync sync; on; run unsync unsync; off\ndone"
        case .recovery:
            // Until a recovery under attack has made an archive (else the phase proves
            // nothing), at least `rounds` times and at most three times that.
            return """
                round=0
                while :; do
                    round=$((round + 1))
                    crash; on; run recovery sync; off
                    made=$(find "$P" -maxdepth 1 -type f -user 0 -name '.t-backup_asd-crashrecovery-*.tar.zstd' | wc -l)
                    if (( round >= \(rounds) && made > 0 )) || (( round >= 3 * \(rounds) )); then break; fi
                done
                mount -o remount,size=256m "$VOLATILE"
                """
        case .overlay:
            // What the target shows, looked at through the overlay's mount point (in asd's
            // root-only directories, so the attacker cannot swap it for a symlink to the decoy
            // as it can the target itself); grep -r follows no symlink inside.
            let look = """
                copy="$VOLATILE/$inst-$uid$T"
                if mountpoint -q "$copy" && grep -r -a -l -F -f "$SANDBOX/secret" "$copy" >"$SANDBOX/found" 2>/dev/null; then
                    { echo "round $round, after $(tail -n 1 "$SANDBOX/outcomes.raw"):"; cat "$SANDBOX/found"
                      grep -F "$copy " /proc/self/mountinfo || true; } >>"$SANDBOX/leaks/secret-through-target"
                fi
                """
            return loop + "on; run sync sync; off\n\(look)\non; run resync resync; off\n\(look)\non; run unsync unsync; off\ndone"
        case .clean:
            return loop + """
                crash; run recovery sync
                mkdir -p "$P/.t-backup_asd-crashrecovery-2019010$round/in/deeper"
                chown -R "$uid:$uid" "$P/.t-backup_asd-crashrecovery-2019010$round"
                chmod 0 "$P/.t-backup_asd-crashrecovery-2019010$round/in/deeper"
                on; run clean clean; off
                done
                mount -o remount,size=256m "$VOLATILE"
                """
        }
    }

    /// Stops the attacker, puts everything back, and looks for what leaked.
    static let finish = """
        off
        touch "$STOP"
        wait "$attacker" || true
        run final-unsync unsync
        decoys >"$SANDBOX/decoys.after"
        if ! diff "$SANDBOX/decoys.before" "$SANDBOX/decoys.after" >"$SANDBOX/leaks/decoys-changed"; then :; else rm "$SANDBOX/leaks/decoys-changed"; fi
        findmnt -rn -o TARGET | grep -F "$D" >"$SANDBOX/leaks/mounts-on-decoys" || rm "$SANDBOX/leaks/mounts-on-decoys"
        grep -r -a -l -F -f "$SANDBOX/secret" "$DATA" "$VOLATILE" >"$SANDBOX/leaks/secret-in-files" 2>/dev/null || rm "$SANDBOX/leaks/secret-in-files"
        getfattr -R -h -d -m - --absolute-names "$DATA" "$VOLATILE" 2>/dev/null | grep -F -f "$SANDBOX/secret" >"$SANDBOX/leaks/secret-in-xattrs" || rm "$SANDBOX/leaks/secret-in-xattrs"
        shopt -s nullglob
        for archive in "$P"/.t-backup_asd-crashrecovery-*.tar.zstd; do
            [[ -f "$archive" && ! -L "$archive" ]] || continue
            [[ "$(stat -c '%u %a' "$archive")" == "0 600" ]] || echo "$archive: $(stat -c '%U %a' "$archive")" >>"$SANDBOX/leaks/archive-not-root-0600"
            if zstd -dc "$archive" 2>/dev/null | grep -a -F -f "$SANDBOX/secret" >/dev/null; then echo "$archive" >>"$SANDBOX/leaks/secret-in-archive"; fi
        done
        { echo "archives=$(find "$P" -maxdepth 1 -type f -name '.t-backup_asd-crashrecovery-*.tar.zstd' | wc -l)"
          sort "$SANDBOX/outcomes.raw" | uniq -c | tr '\\n' ' '; } >"$SANDBOX/outcomes"
        echo >>"$SANDBOX/outcomes"
        cat "$SANDBOX/failures.log" 2>/dev/null | tail -n 12 >>"$SANDBOX/outcomes" || true
        """
}
