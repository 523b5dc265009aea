#!/bin/bash
# Boot test: asd's whole life under a real systemd, in a Debian bookworm container,
# installed the way Debian users install it: from the package.
#
# Debootstraps a minimal Debian with systemd (cached in $ASD_ROOTFS_CACHE), boots it with
# systemd-nspawn and, inside it: installs the .deb built by `make deb` (apt install
# ./x.deb), configures and enables asd, upgrades the package over itself while asd runs,
# and at the end purges it. Between these it checks: both targets on tmpfs after boot,
# the hourly timer, asd-resync writing to disk, `asd parse --json`, a clean shutdown
# writing back and cleaning up, a power loss (SIGKILL of the whole container) keeping the
# last resync, and the next boot making a crash archive.
#
# One target lives on a file system of its own: an ext4 image on a loop device, mounted
# from the container's /etc/fstab with `nofail` (so local-fs.target does not wait for it,
# like a network share or a disk mounted late). The asd-generator's RequiresMountsFor=
# must make asd's final write-back finish before that file system is unmounted; the
# journal shows the order. A last boot with the generator masked shows that the same
# check detects the wrong order.
#
# Run as root:  Tests/systemd/boot-test.sh      (or `make boot-test`, which runs `make deb`)
# Environment:
#   ASD_ROOTFS_CACHE   cached root file system (default /var/cache/asd-test/rootfs-bookworm.tar.zst)
#   ASD_DEBIAN_MIRROR  Debian mirror for debootstrap (default: the host's apt mirror)
#   ASD_BOOT_TIMEOUT   seconds to wait for a boot or a shutdown (default 180)
#   ASD_KEEP_WORKDIR=1 keep the container root afterwards, for inspection
#   ASD_DEB            the package to install (default: the newest .build/deb/anything-sync-daemon_*.deb)
#   ASD_BOOT_TEST_BINARY  install this file as /usr/bin/asd over the package's
#                      (e.g. upstream's script, to check this test against the reference)
# Output: one PASS/FAIL line per check, then `boot-test: N passed, M failed`.
set -u -o pipefail

BOOT_TIMEOUT=${ASD_BOOT_TIMEOUT:-180}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

TARGET=/var/lib/asdtest               # the directory asd keeps in tmpfs
PARENT=${TARGET%/*}
BASE=${TARGET##*/}
SEPMOUNT=/srv/sep                     # a file system of its own (ext4 on a loop device)
SEPUNIT=srv-sep.mount
SEPTARGET=$SEPMOUNT/data              # the second target, on it
SEPNODE=/var/lib/asd-test-sep.dev     # the loop device's node in the container
VOLMOUNT=/srv/vol                     # VOLATILE: a tmpfs of its own, also from fstab
VOLUNIT=srv-vol.mount
PKG=anything-sync-daemon

passed=0
failed=0
NSPAWN_PID=
INIT_PID=
LOOPDEV=

# shellcheck source=Tests/systemd/boot-test-lib.sh
. "$REPO/Tests/systemd/boot-test-lib.sh"; . "$REPO/Tests/systemd/boot-test-sleep-metrics.sh"; . "$REPO/Tests/systemd/boot-test-watch.sh"

# --- main ----------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "must be run as root"
for tool in debootstrap systemd-nspawn systemctl journalctl nsenter zstd tar flock jq losetup mkfs.ext4 debugfs dpkg-deb; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install debootstrap systemd-container zstd jq e2fsprogs)"
done
DEB=${ASD_DEB:-$(ls -t "$REPO"/.build/deb/${PKG}_*.deb 2>/dev/null | head -n1)}
[ -f "$DEB" ] || die "no package: run 'make deb' first (or set ASD_DEB)"
DEB_VERSION=$(dpkg-deb -f "$DEB" Version)
mkdir -p /var/tmp
WORK=$(mktemp -d /var/tmp/asd-boot-test.XXXXXX) || die "mktemp failed"
ROOT="$WORK/root"
SEPIMG="$WORK/sep.img"
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
ensure_cache
log "unpacking $CACHE"
mkdir "$ROOT"
zstd -dc "$CACHE" | tar -C "$ROOT" --numeric-owner --xattrs --acls -xf - || die "could not unpack $CACHE"

# The separate file system: an ext4 image made from a seed directory, on a loop device
# that the container gets (--bind) and mounts from its fstab.
mkdir -p "$WORK/sepseed/data/sub"
echo sep1 >"$WORK/sepseed/data/sep1"
echo sepdeep >"$WORK/sepseed/data/sub/sepdeep"
truncate -s 64M "$SEPIMG" && mkfs.ext4 -q -F -d "$WORK/sepseed" "$SEPIMG" || die "mkfs.ext4 failed"
LOOPDEV=$(losetup --find --show "$SEPIMG") || die "losetup failed"
# systemd-fstab-generator ignores /dev/... entries in a container ("Running in a
# container, ignoring fstab device entry"), so the fstab line names a node of the
# loop device outside /dev.
mknod "$ROOT$SEPNODE" b $((0x$(stat -c %t "$LOOPDEV"))) $((0x$(stat -c %T "$LOOPDEV"))) ||
    die "mknod $ROOT$SEPNODE failed"
mkdir -p "$ROOT$SEPMOUNT"
mkdir -p "$ROOT$VOLMOUNT"
printf '%s\n' "$SEPNODE $SEPMOUNT ext4 nofail 0 0" "tmpfs $VOLMOUNT tmpfs nofail,size=64m 0 0" >>"$ROOT/etc/fstab"

mkdir -p "$ROOT$TARGET/sub"
echo seed1 >"$ROOT$TARGET/seed1"
echo seed2 >"$ROOT$TARGET/seed2"
echo deep >"$ROOT$TARGET/sub/deep"
chown 65534:65534 "$ROOT$TARGET/sub/deep"
cp "$DEB" "$ROOT/var/tmp/$PKG.deb"
systemd-machine-id-setup --root="$ROOT" >/dev/null 2>&1 || die "systemd-machine-id-setup failed"

# Boot 1: install the package, configure, enable, upgrade while running, clean shutdown.
log "boot 1: install the package, enable, upgrade while running, clean shutdown"
boot "$WORK/boot1.log"
check "boot 1: system is running (not degraded: $BOOT_STATE)" state_is running
check "boot 1: $SEPMOUNT is mounted from fstab (ext4)" sep_is_ext4
check "boot 1: apt install ./$PKG.deb succeeds without network" \
    eval 'inside_apt install "/var/tmp/$PKG.deb" >"$WORK/apt-install.log" 2>&1'
check "boot 1: the package is installed ($DEB_VERSION)" package_installed
use_test_binary
check "boot 1: asd needs no Swift toolchain or runtime libraries" no_swift_runtime_needed
check "boot 1: /etc/asd.conf is a conffile" output_has " /etc/asd.conf " inside dpkg-query -W -f='${Conffiles}' "$PKG"
check "boot 1: anything-sync-daemon is a link to asd" test "$(inside readlink -f /usr/bin/anything-sync-daemon)" = /usr/bin/asd
check "boot 1: the generator is a link to asd" generator_link_ok
check "boot 1: man page and completions are installed" \
    inside test -f /usr/share/man/man1/asd.1.gz -a -f /usr/share/bash-completion/completions/asd -a -f /usr/share/zsh/site-functions/_asd
check "boot 1: asd.service is neither enabled nor started by the install" \
    eval 'unit_file_state_is asd.service disabled && unit_is asd.service inactive'
check "boot 1: asd parse on the fresh install says what to do" \
    output_has "No directories are configured yet" inside asd parse
check "boot 1: units pass systemd-analyze verify" inside systemd-analyze verify --man=no asd.service asd-resync.service asd-resync.timer asd-sleep.service asd-watch.service
# A config the generator cannot parse: no drop-in, a message, and systemd carries on.
printf '%s\n' '# broken' 'WHATTOSYNC=($(touch /run/generator-ran-code))' >"$ROOT/etc/asd.conf"
check "boot 1: with a broken config, daemon-reload still succeeds" inside systemctl daemon-reload
check "boot 1: ... the generator wrote no drop-in and ran no code" \
    eval '! inside test -e /run/systemd/generator/asd.service.d/asd-mounts.conf -o -e /run/generator-ran-code'
# Under systemd it reports to the kernel log; a container's /dev/kmsg is /dev/null, so
# there it falls back to stderr: run it as systemd does, and read that.
generator_says_why() {
    local output
    output=$(inside env SYSTEMD_SCOPE=system /lib/systemd/system-generators/asd-generator /run/asd-generator-test 2>&1) &&
        grep -q "^asd-generator: /etc/asd.conf:2: command substitution" <<<"$output" &&
        ! inside test -e /run/asd-generator-test/asd.service.d
}
check "boot 1: ... and says why, exits 0, writes nothing (run as systemd runs it)" generator_says_why
cat >"$ROOT/etc/asd.conf" <<CONF
# asd boot test
WHATTOSYNC=('$TARGET' '$SEPTARGET')
VOLATILE="$VOLMOUNT"
USE_OVERLAYFS="no"
USE_BACKUPS="yes"
BACKUP_LIMIT=5
CONF
inside systemctl daemon-reload
check "boot 1: after daemon-reload the generator orders asd.service after $SEPTARGET" requires_mounts_for "$SEPTARGET"
check "boot 1: ... and after $TARGET and VOLATILE ($VOLMOUNT)" eval 'requires_mounts_for "$TARGET" && requires_mounts_for "$VOLMOUNT"'
check "boot 1: systemctl enable --now asd.service succeeds" inside systemctl enable --now asd.service
check "boot 1: asd.service is active" unit_is asd.service active
check "boot 1: $TARGET is a tmpfs mount" target_on_tmpfs
check "boot 1: $SEPTARGET is a tmpfs mount" sep_target_on_tmpfs
check "boot 1: asd-resync.timer is active" unit_is asd-resync.timer active
check "boot 1: asd-resync.timer has a next elapse" timer_scheduled
check "boot 1: asd-resync.timer fires an hour after start, then hourly" timer_hourly
check "boot 1: the target's files are visible in the container" \
    test "$(inside cat "$TARGET/seed1" 2>/dev/null)" = seed1
inside sh -c "echo one >$TARGET/new1; echo sepone >$SEPTARGET/sepnew1"
check "boot 1: a write goes to tmpfs, not yet to disk" test ! -e "$ROOT$TARGET/new1"
check "boot 1: systemctl start asd-resync.service succeeds" inside systemctl start asd-resync.service
check "boot 1: after resync the new file is on disk" file_is "$ROOT$TARGET/new1" one
journal_sleep_metrics_checks
check "boot 1: asd parse --json gives JSON" parse_json_runs
check "boot 1: parse --json: asd.service active and enabled" \
    json '.systemd.service.activeState == "active" and .systemd.service.unitFileState == "enabled"'
check "boot 1: parse --json: the timer's next run is within the hour" \
    json '.systemd.timer.activeState == "active" and .systemd.timer.nextRun > now and .systemd.timer.nextRun <= now + 3700'
check "boot 1: parse --json: both targets running, written back in the last minute" \
    json '[.targets[] | select(.state == "running" and .lastWriteBack >= now - 60)] | length == 2'
check "boot 1: parse --json: RAM used and VOLATILE free space" \
    json '.targets[0].ramBytes > 0 and .volatile.fsType == "tmpfs" and .volatile.freeBytes > 0 and .engine == "built-in"'
check "boot 1: parse shows the units' state under systemd" \
    output_has "Systemd resync timer is currently active \(static\); next write-back" inside asd parse

# Upgrade while running: the package installed over itself.
inside sh -c "echo beforeupgrade >$TARGET/upgrade"
check "boot 1: apt reinstall of the package while asd runs succeeds" \
    eval 'inside_apt install --reinstall "/var/tmp/$PKG.deb" >"$WORK/apt-reinstall.log" 2>&1'
use_test_binary
check "boot 1: after the upgrade asd.service is still active, targets still in tmpfs" \
    eval 'unit_is asd.service active && target_on_tmpfs && sep_target_on_tmpfs'
check "boot 1: the upgrade lost nothing in RAM" test "$(inside cat "$TARGET/upgrade" 2>/dev/null)" = beforeupgrade
check "boot 1: the upgrade kept the edited /etc/asd.conf" grep -q "'$SEPTARGET'" "$ROOT/etc/asd.conf"
check "boot 1: resync after the upgrade succeeds" inside systemctl start asd-resync.service
check "boot 1: ... and wrote the file from before the upgrade" file_is "$ROOT$TARGET/upgrade" beforeupgrade
inside sh -c "echo two >$TARGET/new2; rm -f $TARGET/seed2; echo septwo >$SEPTARGET/sepnew2"
check "boot 1: clean poweroff finishes in time" clean_poweroff
check "boot 1: shutdown wrote back the last changes" file_is "$ROOT$TARGET/new2" two
check "boot 1: the disk holds exactly the expected files" \
    same_files "$ROOT$TARGET" ./seed1 ./sub ./sub/deep ./new1 ./new2 ./upgrade
check "boot 1: file owners are kept" test "$(stat -c %u:%g "$ROOT$TARGET/sub/deep")" = 65534:65534
check "boot 1: no backup dirs left after a clean shutdown" no_backup_dirs
check "boot 1: no crash archive after a clean shutdown" eval '! archives >/dev/null'
check "boot 1: the journal has no colour codes" no_colour_in_journal
SEPDIR=$(sep_dump 1)
check "boot 1: shutdown wrote the last change back to the separate file system" file_is "$SEPDIR/sepnew2" septwo
check "boot 1: the separate file system holds exactly the expected files" \
    same_files "$SEPDIR" ./sep1 ./sub ./sub/sepdeep ./sepnew1 ./sepnew2
check "boot 1: the journal shows asd's stop finished before $SEPMOUNT's unmount began" stop_before_unmount "$SEPUNIT"
check "boot 1: the journal shows asd's stop finished before $VOLMOUNT's (VOLATILE) unmount began" stop_before_unmount "$VOLUNIT"
[ "$failed" = 0 ] || show_asd_journal 1

# Boot 2: resync, more changes, then power loss.
log "boot 2: resync, then power loss"
boot "$WORK/boot2.log"
check "boot 2: asd.service is active" unit_is asd.service active
check "boot 2: $TARGET is a tmpfs mount" target_on_tmpfs
inside sh -c "echo three >$TARGET/new3"
check "boot 2: systemctl start asd-resync.service succeeds" inside systemctl start asd-resync.service
inside sh -c "echo four >$TARGET/new4; echo changed >$TARGET/new1"
check "boot 2: every process of the killed container is gone" power_loss
check "boot 2: the last resync is on disk" file_is "$ROOT$TARGET/new3" three
check "boot 2: changes after the last resync are lost (it was a power loss)" \
    eval "[ ! -e '$ROOT$TARGET/new4' ] && [ \"\$(cat '$ROOT$TARGET/new1')\" = one ]"
check "boot 2: no temp files inside the target" \
    same_files "$ROOT$TARGET" ./seed1 ./sub ./sub/deep ./new1 ./new2 ./new3 ./upgrade
check "boot 2: the disk copy dir is left (ungraceful state)" test -d "$ROOT$PARENT/.$BASE-backup_asd"
failed_before=$failed

# Boot 3: recovery; the timer runs every few seconds here, to see it drive a resync.
log "boot 3: recovery after power loss, timer-driven resync"
mkdir -p "$ROOT/etc/systemd/system/asd-resync.timer.d"
# One empty assignment resets all of the timer's triggers (a second would drop the first).
printf '[Timer]\nOnActiveSec=\nOnActiveSec=5s\nOnUnitActiveSec=5s\nAccuracySec=1s\n' \
    >"$ROOT/etc/systemd/system/asd-resync.timer.d/boot-test.conf"
boot "$WORK/boot3.log"
check "boot 3: asd.service is active" unit_is asd.service active
check "boot 3: $TARGET is a tmpfs mount again" target_on_tmpfs
check "boot 3: a crash archive was made" eval 'archives >/dev/null'
check "boot 3: the archive holds the state at boot 2's sync" archive_holds seed1 sub/deep new1 new2
check "boot 3: the archive lacks what came after that sync" archive_lacks new3
check "boot 3: the target holds the last resync" test "$(inside cat "$TARGET/new3" 2>/dev/null)" = three
check "boot 3: asd parse runs" asd_parse_runs
inside sh -c "echo five >$TARGET/new5"
check "boot 3: asd-resync.timer writes back by itself" wait_for_file "$ROOT$TARGET/new5" five 40
check "boot 3: clean poweroff finishes in time" clean_poweroff
check "boot 3: no backup dirs left after a clean shutdown" no_backup_dirs
check "boot 3: the target is a plain directory with the data" file_is "$ROOT$TARGET/new3" three
[ "$failed" = "$failed_before" ] || show_asd_journal 3
rm -rf "$ROOT/etc/systemd/system/asd-resync.timer.d"
watch_boot
failed_before=$failed

# Boot 4: the generator masked (systemd.generator(7): a link to /dev/null). Without its
# RequiresMountsFor=, nothing orders asd.service against the nofail mount of VOLATILE:
# at shutdown its unmount runs alongside asd's final write-back, and the same journal
# check must see it begin before asd's stop finished. (The ext4 file system of the
# second target stays ordered even so: asd's own bind mounts below it are ordered
# before local-fs.target, which asd.service is ordered after; the generator is what
# makes asd wait for it at boot.)
log "boot 4: generator masked"
mkdir -p "$ROOT/etc/systemd/system-generators"
ln -sf /dev/null "$ROOT/etc/systemd/system-generators/asd-generator"
boot "$WORK/boot4.log"
check "boot 4: without the generator asd.service lacks RequiresMountsFor=$VOLMOUNT" eval '! requires_mounts_for "$VOLMOUNT"'
# Nothing made asd wait for the mounts at boot either: start it now if it lost that race.
unit_is asd.service active || inside systemctl restart asd.service
check "boot 4: asd.service is active" unit_is asd.service active
check "boot 4: $TARGET is a tmpfs mount" target_on_tmpfs
inside sh -c "echo sepfour >$SEPTARGET/sepnew4"
check "boot 4: clean poweroff finishes in time" clean_poweroff
check "boot 4 (generator masked): the journal check sees $VOLMOUNT's unmount begin before asd's stop finished" \
    unmount_before_stop "$VOLUNIT"
if stop_before_unmount "$SEPUNIT"; then
    log "note: without the generator asd's stop still finished before $SEPMOUNT's unmount (above)"
else
    log "note: without the generator $SEPMOUNT's unmount began before asd's stop finished (above)"
fi
# Even when VOLATILE is unmounted first, the tmpfs copy lives on in the bind mount at
# the target, and asd writes back what that shows.
check "boot 4 (generator masked): the last change to $SEPTARGET still reached the disk" \
    file_is "$(sep_dump 4)/sepnew4" sepfour
rm -f "$ROOT/etc/systemd/system-generators/asd-generator"
show_asd_journal 4

# Boot 5: purge while asd runs: asd writes back first, the conffile goes, user data stays.
log "boot 5: apt purge while asd runs"
boot "$WORK/boot5.log"
check "boot 5: asd.service is active" unit_is asd.service active
inside sh -c "echo six >$TARGET/new6; echo sepsix >$SEPTARGET/sepnew6"
check "boot 5: apt purge succeeds" eval 'inside_apt purge "$PKG" >"$WORK/apt-purge.log" 2>&1'
check "boot 5: the package is gone" package_gone
check "boot 5: /etc/asd.conf (the conffile) is gone" test ! -e "$ROOT/etc/asd.conf"
check "boot 5: the binary, its links and the units are gone" eval '! inside test -e /usr/bin/asd -o -L /usr/bin/anything-sync-daemon -o -L /lib/systemd/system-generators/asd-generator -o -e /lib/systemd/system/asd.service'
check "boot 5: nothing of asd is mounted any more" eval '! target_on_tmpfs && ! sep_target_on_tmpfs && ! inside test -e /run/asd'
check "boot 5: the removal wrote back the last change" file_is "$ROOT$TARGET/new6" six
check "boot 5: user data untouched: the target holds all its files" \
    same_files "$ROOT$TARGET" ./seed1 ./sub ./sub/deep ./new1 ./new2 ./new3 ./new5 ./new6 ./new7 ./new8 ./upgrade
check "boot 5: user data untouched: the crash archive is kept" eval 'archives >/dev/null'
check "boot 5: no backup dirs left" no_backup_dirs
check "boot 5: clean poweroff finishes in time" clean_poweroff
SEPDIR=$(sep_dump 5)
check "boot 5: the separate file system holds its data and the last change" \
    eval 'file_is "$SEPDIR/sepnew6" sepsix && file_is "$SEPDIR/sep1" sep1'

log "took $((SECONDS - started))s"
echo "boot-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
