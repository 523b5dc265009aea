#!/bin/bash
# zram boot test: asd with USE_ZRAM=yes beside Debian's zram-tools, under a real systemd
# on a real kernel. A container cannot do this (its /sys is read-only, and zram devices
# and swap are the host's, global), so the machine is a QEMU guest (TCG when /dev/kvm
# hangs) with Debian's kernel, the power-loss rig's (Tests/powerloss): the host's zram
# devices are never touched.
#
# The guest's root is the boot test's cached Debian (boot-test-lib.sh) with zram-tools,
# bc (and readline), kmod and the .deb of `make deb` installed by dpkg in a chroot (no service can
# start there: no systemd runs in it, and policy-rc.d says no), /etc/asd.conf with
# USE_ZRAM=yes, and two units of checks (zram-guest/): zramswap's zram0 is swap before
# asd starts (asd.service is ordered after zramswap.service) and stays swap through
# asd's start, `systemctl stop asd`, a new start and the shutdown; asd's data is on a
# device of its own, and that device is gone after every stop and at shutdown.
#
# Run as root:  Tests/systemd/zram-boot-test.sh   (`make boot-test` runs it after boot-test.sh)
# Needs qemu-system-x86, busybox-static, kmod (depmod) and what boot-test.sh needs.
# Environment: ASD_DEB, ASD_ROOTFS_CACHE, ASD_DEBIAN_MIRROR, ASD_KEEP_WORKDIR=1 as for
# boot-test.sh; ASD_ZRAM_BOOT_TIMEOUT (seconds for the whole boot, default 600);
# ASD_POWERLOSS_ACCEL=tcg|kvm skips the KVM probe.
# Output: one PASS/FAIL line per check, then `zram-boot-test: N passed, M failed`.
set -u -o pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PKG=anything-sync-daemon
TIMEOUT=${ASD_ZRAM_BOOT_TIMEOUT:-600}
passed=0
failed=0
NSPAWN_PID=
LOOPDEV=
# shellcheck source=Tests/systemd/boot-test-lib.sh
. "$REPO/Tests/systemd/boot-test-lib.sh"

[ "$(id -u)" = 0 ] || die "must be run as root"
for tool in debootstrap qemu-system-x86_64 busybox depmod chroot zstd tar flock mkfs.ext4 dpkg-deb apt-get systemctl python3; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install qemu-system-x86 busybox-static kmod debootstrap)"
done
DEB=${ASD_DEB:-$(ls -t "$REPO"/.build/deb/${PKG}_*.deb 2>/dev/null | head -n1)}
[ -f "$DEB" ] || die "no package: run 'make deb' first (or set ASD_DEB)"
mkdir -p /var/tmp
WORK=$(mktemp -d /var/tmp/asd-zram-boot-test.XXXXXX) || die "mktemp failed"
ROOT="$WORK/root"
trap cleanup EXIT
trap 'exit 130' INT TERM
started=$SECONDS

ensure_cache
mkdir "$ROOT" "$WORK/debs"
zstd -dc "$CACHE" | tar -C "$ROOT" --numeric-owner --xattrs --acls -xf - || die "could not unpack $CACHE"
chmod 0777 "$WORK/debs" # apt-get download drops privileges to _apt
(cd "$WORK/debs" && apt-get download -q zram-tools bc libreadline8 readline-common kmod libkmod2 >"$WORK/download.log" 2>&1) ||
    { cat "$WORK/download.log" >&2; die "apt-get download of zram-tools and its dependencies failed (apt-get update?)"; }
cp "$WORK"/debs/*.deb "$DEB" "$ROOT/var/tmp/"
# Nothing may start in the chroot: policy-rc.d refuses, and without /run/systemd/system
# the maintainer scripts do not try.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
[ ! -e "$ROOT/run/systemd/system" ] || die "$ROOT/run/systemd/system exists: the chroot would look like a running systemd"
chroot "$ROOT" sh -c 'dpkg -i /var/tmp/*.deb' >"$WORK/dpkg.log" 2>&1 || { tail -n 30 "$WORK/dpkg.log" >&2; die "dpkg -i in the chroot failed"; }
rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT"/var/tmp/*.deb

mkdir -p "$ROOT/var/lib/asdzram" "$ROOT/opt/zt"
echo seed >"$ROOT/var/lib/asdzram/seed"
printf '%s\n' "WHATTOSYNC=('/var/lib/asdzram')" 'USE_ZRAM="yes"' >"$ROOT/etc/asd.conf"
install -m 0755 "$REPO/Tests/systemd/zram-guest/zt-check" "$ROOT/opt/zt/zt-check"
install -m 0644 "$REPO"/Tests/systemd/zram-guest/zt-*.service "$ROOT/etc/systemd/system/"
systemd-machine-id-setup --root="$ROOT" >/dev/null 2>&1 || die "systemd-machine-id-setup failed"
systemctl --root="$ROOT" enable zramswap.service asd.service zt-run.service zt-final.service >/dev/null 2>&1 ||
    die "systemctl --root enable failed"

log "booting the guest (systemd, zramswap, asd with USE_ZRAM=yes)"
python3 "$REPO/Tests/systemd/zram-vm.py" "$WORK" "$ROOT" "$TIMEOUT"
status=$?
MARKS="$WORK/zram.marks.log"
while read -r _ verdict text; do
    case $verdict in
    PASS) printf 'PASS  %s\n' "$text"; passed=$((passed + 1)) ;;
    FAIL) printf 'FAIL  %s\n' "$text"; failed=$((failed + 1)) ;;
    esac
done < <(tr -d '\r' <"$MARKS" 2>/dev/null | grep '^ZT ')
check "the guest powered itself off in time (${TIMEOUT}s)" test "$status" = 0
check "the checks while asd ran were all made" grep -q '^ZT end run' "$MARKS"
check "the checks at shutdown were all made (after asd's stop, before zramswap's)" grep -q '^ZT end shutdown' "$MARKS"
if [ "$failed" != 0 ]; then
    log "console of the guest (tail):"
    tr -d '\r' <"$WORK/zram.console.log" | tail -n 60 >&2
fi
log "took $((SECONDS - started))s"
echo "zram-boot-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
