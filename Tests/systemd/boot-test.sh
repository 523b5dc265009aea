#!/bin/bash
# Boot test: asd's whole life under a real systemd, in a Debian bookworm container.
#
# Debootstraps a minimal Debian with systemd (cached in $ASD_ROOTFS_CACHE), installs asd
# with `make install DESTDIR=<root>`, boots it with systemd-nspawn and checks: asd.service
# active and the target on tmpfs after boot, the hourly timer active, asd-resync writing
# to disk, a clean shutdown writing back and cleaning up, a power loss (SIGKILL of the
# whole container) keeping the last resync, and the next boot making a crash archive.
#
# Run as root:  Tests/systemd/boot-test.sh      (or `make boot-test`)
# Environment:
#   ASD_ROOTFS_CACHE   cached root file system (default /var/cache/asd-test/rootfs-bookworm.tar.zst)
#   ASD_DEBIAN_MIRROR  Debian mirror for debootstrap (default: the host's apt mirror)
#   ASD_BOOT_TIMEOUT   seconds to wait for a boot or a shutdown (default 180)
#   ASD_KEEP_WORKDIR=1 keep the container root afterwards, for inspection
#   ASD_BOOT_TEST_BINARY  install this file as /usr/bin/asd instead of the built one
#                      (e.g. upstream's script, to check this test against the reference)
# Output: one PASS/FAIL line per check, then `boot-test: N passed, M failed`.
set -u -o pipefail

SUITE=bookworm
# pv: only so that the reference implementation can run here (ASD_BOOT_TEST_BINARY).
PACKAGES=systemd,systemd-sysv,dbus,rsync,zstd,tar,util-linux,procps,pv
CACHE=${ASD_ROOTFS_CACHE:-/var/cache/asd-test/rootfs-$SUITE.tar.zst}
BOOT_TIMEOUT=${ASD_BOOT_TIMEOUT:-180}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

TARGET=/var/lib/asdtest               # the directory asd keeps in tmpfs
PARENT=${TARGET%/*}
BASE=${TARGET##*/}

passed=0
failed=0
NSPAWN_PID=
INIT_PID=

log() { printf 'boot-test: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

# check DESCRIPTION COMMAND...: runs COMMAND, prints PASS or FAIL.
check() {
    local description=$1
    shift
    if "$@"; then
        printf 'PASS  %s\n' "$description"
        passed=$((passed + 1))
    else
        printf 'FAIL  %s\n' "$description"
        failed=$((failed + 1))
    fi
}

# Mirror: ASD_DEBIAN_MIRROR, else the first http(s) Debian URI the host's apt uses.
debian_mirror() {
    if [ -n "${ASD_DEBIAN_MIRROR:-}" ]; then
        echo "$ASD_DEBIAN_MIRROR"
        return
    fi
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' | grep -E '/debian/?$' | head -n1)
    [ -n "$uri" ] || uri=$(grep -hsE '^deb +https?://[^ ]+/debian/? ' /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list | awk '{ print $2 }' | head -n1)
    echo "${uri:-http://deb.debian.org/debian}"
}

# Builds the cached root file system when missing or made with another package list.
ensure_cache() {
    local stamp="$SUITE $PACKAGES"
    if [ -f "$CACHE" ] && [ "$(cat "$CACHE.info" 2>/dev/null)" = "$stamp" ]; then
        return
    fi
    mkdir -p "$(dirname "$CACHE")"
    exec 9>"$CACHE.lock"
    flock 9
    if [ -f "$CACHE" ] && [ "$(cat "$CACHE.info" 2>/dev/null)" = "$stamp" ]; then
        exec 9>&-
        return
    fi
    local mirror bootstrap
    mirror=$(debian_mirror)
    bootstrap="$WORK/bootstrap"
    log "debootstrap $SUITE from $mirror (cached afterwards in $CACHE)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$bootstrap" "$mirror" \
        >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$bootstrap"/var/cache/apt/archives/*.deb "$bootstrap"/var/lib/apt/lists/*_* 
    tar -C "$bootstrap" --numeric-owner --xattrs --acls -cf - . | zstd -q -T0 -o "$CACHE.tmp" ||
        die "could not write $CACHE.tmp"
    mv -f "$CACHE.tmp" "$CACHE"
    echo "$stamp" >"$CACHE.info"
    rm -rf "$bootstrap"
    exec 9>&-
}

# --- container control ---------------------------------------------------------------

# inside COMMAND...: runs COMMAND inside the running container (all its namespaces).
inside() { timeout 300 nsenter -t "$INIT_PID" -a "$@"; }

boot() {
    local log=$1 i
    systemd-nspawn --register=no --keep-unit --quiet --private-network --console=pipe \
        -D "$ROOT" -b </dev/null >"$log" 2>&1 &
    NSPAWN_PID=$!
    INIT_PID=
    for ((i = 0; i < BOOT_TIMEOUT * 5; i++)); do
        # The container's PID 1 is the child of nspawn named exactly "systemd"; nspawn's own
        # short-lived helper children (named systemd-nspawn) must not be mistaken for it.
        INIT_PID=$(pgrep -x -P "$NSPAWN_PID" systemd | head -n1)
        [ -n "$INIT_PID" ] && break
        kill -0 "$NSPAWN_PID" 2>/dev/null || break
        sleep 0.2
    done
    if [ -z "$INIT_PID" ]; then
        tail -n 30 "$log" >&2
        die "systemd-nspawn did not start a container (see above)"
    fi
    # is-system-running --wait needs the system bus; retry until systemd answers.
    local state=
    for ((i = 0; i < BOOT_TIMEOUT; i++)); do
        kill -0 "$INIT_PID" 2>/dev/null || INIT_PID=$(pgrep -x -P "$NSPAWN_PID" systemd | head -n1)
        state=$(timeout "$BOOT_TIMEOUT" nsenter -t "$INIT_PID" -a systemctl is-system-running --wait 2>/dev/null)
        case $state in running | degraded | maintenance | stopping) break ;; esac
        sleep 1
    done
    BOOT_STATE=$state
}

# Clean shutdown: SIGRTMIN+4 asks systemd for poweroff. Returns 1 on timeout.
clean_poweroff() {
    local i
    kill -s RTMIN+4 "$INIT_PID"
    for ((i = 0; i < BOOT_TIMEOUT * 5; i++)); do
        kill -0 "$NSPAWN_PID" 2>/dev/null || { wait "$NSPAWN_PID" 2>/dev/null; NSPAWN_PID=; return 0; }
        sleep 0.2
    done
    return 1
}

# Power loss: SIGKILL the container's init (the kernel then kills every process of its
# PID namespace) and nspawn itself, and wait until none of them is left. The container's
# mounts (tmpfs copies) vanish with it; the host's page cache does not, so this cannot
# show a missing fsync (that needs a VM or a dm-flakey device).
power_loss() {
    local pidns i
    pidns=$(readlink "/proc/$INIT_PID/ns/pid")
    kill -s KILL "$INIT_PID" "$NSPAWN_PID" 2>/dev/null
    wait "$NSPAWN_PID" 2>/dev/null
    NSPAWN_PID=
    for ((i = 0; i < 100; i++)); do
        left=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] && echo "${p#/proc/}"; done)
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    log "processes of the killed container still alive: $left"
    return 1
}

cleanup() {
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        [ -n "$INIT_PID" ] && kill -s KILL "$INIT_PID" 2>/dev/null
        kill -s KILL "$NSPAWN_PID" 2>/dev/null
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    if [ "${ASD_KEEP_WORKDIR:-0}" = 1 ]; then
        log "kept $WORK"
    elif [ -n "${WORK:-}" ]; then
        rm -rf --one-file-system "$WORK"
    fi
}

# --- helpers for the checks ----------------------------------------------------------

# Sorted relative file list of a directory on the host (the container's disk).
disk_files() { (cd "$1" && find . -mindepth 1 | sort); }
same_files() { [ "$(disk_files "$1")" = "$(printf '%s\n' "${@:2}" | sort)" ]; }
file_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
unit_is() { [ "$(inside systemctl is-active "$1" 2>/dev/null)" = "$2" ]; }
target_on_tmpfs() { [ "$(inside findmnt -n -o FSTYPE -M "$TARGET" 2>/dev/null)" = tmpfs ]; }
no_backup_dirs() { ! compgen -G "$ROOT$PARENT/.$BASE-backup_asd" >/dev/null && ! compgen -G "$ROOT$PARENT/.$BASE-backup_asd-old" >/dev/null; }
archives() { compgen -G "$ROOT$PARENT/.$BASE-backup_asd-crashrecovery-*.tar.zstd"; }
journal_of() { journalctl -D "$ROOT/var/log/journal" -o cat --no-pager "${@/#/--unit=}" 2>/dev/null; }
no_colour_in_journal() { ! journal_of asd.service asd-resync.service | grep -q $'\e\\['; }
state_is() { [ "$BOOT_STATE" = "$1" ]; }
# Names are matched as path suffixes: the archive's top directory is asd's business.
archive_listing() {
    local archive
    archive=$(archives | tail -n1)
    [ -n "$archive" ] && zstd -dc "$archive" | tar -t | sed 's|/$||'
}
archive_holds() {
    local listing name
    listing=$(archive_listing) || return 1
    for name in "$@"; do grep -qE "(^|/)$name\$" <<<"$listing" || return 1; done
}
archive_lacks() {
    local listing
    listing=$(archive_listing) || return 1
    ! grep -qE "(^|/)$1\$" <<<"$listing"
}
# wait_for_file PATH CONTENT SECONDS
wait_for_file() {
    local i
    for ((i = 0; i < $3 * 2; i++)); do
        file_is "$1" "$2" && return 0
        sleep 0.5
    done
    return 1
}
asd_parse_runs() { inside /usr/bin/asd parse >/dev/null 2>&1; }
asd_runs_in_container() { inside /usr/bin/asd >/dev/null 2>&1; }
no_swift_runtime_needed() {
    ! inside sh -c 'command -v swift' >/dev/null 2>&1 &&
        ! inside ldd /usr/bin/asd 2>/dev/null | grep -qE 'libswift|libFoundation|not found'
}
timer_scheduled() {
    local next
    next=$(inside systemctl show asd-resync.timer -p NextElapseUSecMonotonic --value 2>/dev/null)
    [ -n "$next" ] && [ "$next" != infinity ] && [ "$next" != 0 ]
}
timer_hourly() {
    local timers
    timers=$(inside systemctl show asd-resync.timer -p TimersMonotonic --value 2>/dev/null)
    grep -q 'OnActiveUSec=1h ' <<<"$timers" && grep -q 'OnUnitActiveUSec=1h ' <<<"$timers"
}
show_asd_journal() {
    log "journal of asd.service and asd-resync.service (boot $1):"
    journalctl -D "$ROOT/var/log/journal" -b --no-pager -o short-monotonic \
        -u asd.service -u asd-resync.service -u asd-resync.timer 2>/dev/null | tail -n 40 >&2
}

# --- main ----------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "must be run as root"
for tool in debootstrap systemd-nspawn systemctl journalctl nsenter zstd tar make flock; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install debootstrap systemd-container zstd)"
done
mkdir -p /var/tmp
WORK=$(mktemp -d /var/tmp/asd-boot-test.XXXXXX) || die "mktemp failed"
ROOT="$WORK/root"
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
ensure_cache
log "unpacking $CACHE"
mkdir "$ROOT"
zstd -dc "$CACHE" | tar -C "$ROOT" --numeric-owner --xattrs --acls -xf - || die "could not unpack $CACHE"

log "building and installing asd"
make -C "$REPO" >"$WORK/make.log" 2>&1 || { tail -n 30 "$WORK/make.log" >&2; die "make failed"; }
make -C "$REPO" install DESTDIR="$ROOT" PREFIX=/usr >>"$WORK/make.log" 2>&1 ||
    { tail -n 30 "$WORK/make.log" >&2; die "make install failed"; }
if [ -n "${ASD_BOOT_TEST_BINARY:-}" ]; then
    log "using $ASD_BOOT_TEST_BINARY as /usr/bin/asd"
    install -m 0755 "$ASD_BOOT_TEST_BINARY" "$ROOT/usr/bin/asd" || die "could not install $ASD_BOOT_TEST_BINARY"
fi

cat >"$ROOT/etc/asd.conf" <<EOF
# asd boot test
WHATTOSYNC=('$TARGET')
VOLATILE="/tmp"
USE_OVERLAYFS="no"
USE_BACKUPS="yes"
BACKUP_LIMIT=5
EOF
mkdir -p "$ROOT$TARGET/sub"
echo seed1 >"$ROOT$TARGET/seed1"
echo seed2 >"$ROOT$TARGET/seed2"
echo deep >"$ROOT$TARGET/sub/deep"
chown 65534:65534 "$ROOT$TARGET/sub/deep"
systemd-machine-id-setup --root="$ROOT" >/dev/null 2>&1 || die "systemd-machine-id-setup failed"
systemctl --root="$ROOT" enable asd.service >/dev/null 2>&1 || die "systemctl --root enable asd.service failed"
check "make install put the units where systemd finds them" \
    test -f "$ROOT/usr/lib/systemd/system/asd.service" -a -L "$ROOT/etc/systemd/system/multi-user.target.wants/asd.service"
check "units pass systemd-analyze verify in the container root" \
    systemd-analyze verify --man=no --root="$ROOT" asd.service asd-resync.service asd-resync.timer

# Boot 1: sync at boot, resync on demand, clean shutdown.
log "boot 1: sync, resync, clean shutdown"
boot "$WORK/boot1.log"
check "boot 1: the installed /usr/bin/asd runs in the container" asd_runs_in_container
check "boot 1: asd needs no Swift toolchain or runtime libraries" no_swift_runtime_needed
check "boot 1: system is running (not degraded: $BOOT_STATE)" state_is running
check "boot 1: asd.service is active" unit_is asd.service active
check "boot 1: $TARGET is a tmpfs mount" target_on_tmpfs
check "boot 1: asd-resync.timer is active" unit_is asd-resync.timer active
check "boot 1: asd-resync.timer has a next elapse" timer_scheduled
check "boot 1: asd-resync.timer fires an hour after start, then hourly" timer_hourly
check "boot 1: the target's files are visible in the container" \
    test "$(inside cat "$TARGET/seed1" 2>/dev/null)" = seed1
inside sh -c "echo one >$TARGET/new1"
check "boot 1: a write goes to tmpfs, not yet to disk" test ! -e "$ROOT$TARGET/new1"
check "boot 1: systemctl start asd-resync.service succeeds" inside systemctl start asd-resync.service
check "boot 1: after resync the new file is on disk" file_is "$ROOT$TARGET/new1" one
inside sh -c "echo two >$TARGET/new2; rm -f $TARGET/seed2"
check "boot 1: clean poweroff finishes in time" clean_poweroff
check "boot 1: shutdown wrote back the last changes" file_is "$ROOT$TARGET/new2" two
check "boot 1: the disk holds exactly the expected files" \
    same_files "$ROOT$TARGET" ./seed1 ./sub ./sub/deep ./new1 ./new2
check "boot 1: file owners are kept" test "$(stat -c %u:%g "$ROOT$TARGET/sub/deep")" = 65534:65534
check "boot 1: no backup dirs left after a clean shutdown" no_backup_dirs
check "boot 1: no crash archive after a clean shutdown" eval '! archives >/dev/null'
check "boot 1: the journal has no colour codes" no_colour_in_journal
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
    same_files "$ROOT$TARGET" ./seed1 ./sub ./sub/deep ./new1 ./new2 ./new3
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

log "took $((SECONDS - started))s"
echo "boot-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
