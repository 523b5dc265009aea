# Functions of Tests/systemd/boot-test.sh (sourced by it): logging and checks, the cached
# root file system, container control (boot, clean poweroff, power loss), and the
# helpers the checks use. They read the main script's variables (ROOT, WORK, TARGET...).

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

# The cached root file system (also the zram boot test's, zram-boot-test.sh).
SUITE=bookworm
# pv: only so that the reference implementation can run here (ASD_BOOT_TEST_BINARY).
# prometheus-node-exporter and curl: asd's metrics as node_exporter serves them.
PACKAGES=systemd,systemd-sysv,dbus,rsync,zstd,tar,util-linux,procps,pv,prometheus-node-exporter,curl
CACHE=${ASD_ROOTFS_CACHE:-/var/cache/asd-test/rootfs-$SUITE.tar.zst}

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
    [ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
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
no_colour_in_journal() { ! output_has $'\e\\[' journal_of asd.service asd-resync.service; }
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
        ! output_has 'libswift|libFoundation|not found' inside ldd /usr/bin/asd
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


# --- the package and the separate file system -----------------------------------------

# inside_apt ARGS...: apt-get in the container, without network or questions.
inside_apt() { inside env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 "$@"; }
installed_version() { inside dpkg-query -W -f='${Status} ${Version}' "$PKG" 2>/dev/null; }
package_installed() { [ "$(installed_version)" = "install ok installed $DEB_VERSION" ]; }
package_gone() { ! output_has 'installed' inside dpkg-query -W -f='${Status}' "$PKG"; }
unit_file_state_is() { [ "$(inside systemctl show -p UnitFileState --value "$1" 2>/dev/null)" = "$2" ]; }
# output_has PATTERN COMMAND...: COMMAND's output (captured first: `grep -q` in a pipe
# would end the writer early, and pipefail would count its SIGPIPE) matches PATTERN.
output_has() {
    local pattern=$1 output
    shift
    output=$("$@" 2>&1)
    grep -qE -- "$pattern" <<<"$output"
}
requires_mounts_for() {
    local paths
    paths=$(inside systemctl show -p RequiresMountsFor --value asd.service 2>/dev/null)
    [[ " $paths " == *" $1 "* ]]
}
generator_link_ok() { [ "$(inside readlink -f /lib/systemd/system-generators/asd-generator)" = /usr/bin/asd ]; }
sep_is_ext4() { [ "$(inside findmnt -n -o FSTYPE -M "$SEPMOUNT" 2>/dev/null)" = ext4 ]; }
sep_target_on_tmpfs() { [ "$(inside findmnt -n -o FSTYPE -M "$SEPTARGET" 2>/dev/null)" = tmpfs ]; }

# The separate file system's target as a directory on the host, dumped with debugfs
# while the container is down (the image is never mounted on the host).
sep_dump() {
    local dir="$WORK/sepdump.$1"
    rm -rf "$dir" && mkdir -p "$dir" && debugfs -R "rdump /data $dir" "$SEPIMG" >/dev/null 2>&1 && echo "$dir/data"
}

# `asd parse --json` inside; jq checks on the host.
PARSE_JSON=
parse_json_runs() { PARSE_JSON=$(inside asd parse --json 2>/dev/null) && jq -e . >/dev/null <<<"$PARSE_JSON"; }
json() { jq -e "$1" >/dev/null 2>&1 <<<"$PARSE_JSON"; }

# stop_before_unmount UNIT: in the journal of the last boot, did asd.service's stop
# finish before the unmount of mount UNIT began? Shows both lines on stderr.
stop_before_unmount() {
    local journal stop unmount
    journal=$(journalctl -D "$ROOT/var/log/journal" -b -o short-monotonic --no-pager \
        UNIT=asd.service + UNIT="$1" 2>/dev/null)
    stop=$(grep -n -m1 -E ' Stopped (asd\.service|Anything-sync-daemon: directories)' <<<"$journal")
    unmount=$(grep -n -m1 -E " Unmounting $1" <<<"$journal")
    log "  asd stopped:   ${stop#*:}"
    log "  unmount began: ${unmount#*:}"
    [ -n "$stop" ] && [ -n "$unmount" ] && [ "${stop%%:*}" -lt "${unmount%%:*}" ]
}
# The opposite, and only when both lines are there (a missing line proves nothing).
unmount_before_stop() {
    ! stop_before_unmount "$1" &&
        output_has "^Unmounting $1" journalctl -D "$ROOT/var/log/journal" -b -o cat --no-pager UNIT="$1" &&
        output_has "^Stopped asd.service" journalctl -D "$ROOT/var/log/journal" -b -o cat --no-pager UNIT=asd.service
}

# ASD_BOOT_TEST_BINARY over the package's /usr/bin/asd (the generator link then runs it too).
use_test_binary() {
    [ -n "${ASD_BOOT_TEST_BINARY:-}" ] || return 0
    log "using $ASD_BOOT_TEST_BINARY as /usr/bin/asd"
    install -m 0755 "$ASD_BOOT_TEST_BINARY" "$ROOT/usr/bin/asd" || die "could not install $ASD_BOOT_TEST_BINARY"
}
