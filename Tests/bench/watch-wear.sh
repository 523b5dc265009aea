#!/usr/bin/env bash
# Wear of continuous write-back (RESYNC_DELAY, doc/DESIGN.md §12): bytes written
# to the block device per hour by `asd watch` under the RRD workload of wear.sh
# (40 files of 2 MB, 2 bytes rewritten in place per file, once a minute), on
# each file system at once, next to upstream's hourly resync (~78 MB/hour).
#
#   sudo Tests/bench/watch-wear.sh [--seconds 3600] [--delay 60] [--fs "ext4 xfs btrfs"]
#
# Per file system: a 1 GiB loop image and a tmpfs VOLATILE inside a private mount
# namespace; asd sync, then `asd watch` (RESYNC_DELAY=--delay). Measured as the
# sectors written to the loop device (7th field of /sys/block/loopN/stat), with a
# `sync` before each reading:
#   warm-up: the first workload round and its write-back. Every file is still
#     hard-linked with the sync snapshot then (doc/DESIGN.md §6.3): without
#     reflinks (ext4) each changed file is written whole, once per sync (boot).
#   steady: the workload for --seconds after that, until its last change is
#     written back; scaled to one hour, with the write-backs it took (from the
#     metrics file) and the KiB per write-back.
# Environment: ASD_BINARY (else .build/release/asd, built by `make`).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ASD=${ASD_BINARY:-$REPO/.build/release/asd}
SECONDS_TOTAL=3600 DELAY=60 FILESYSTEMS="ext4 xfs btrfs"
die() { printf 'watch-wear.sh: %s\n' "$*" >&2; exit 1; }

if [[ ${1:-} != --inner ]]; then
    while (($#)); do
        case $1 in
        --seconds) SECONDS_TOTAL=$2; shift 2 ;;
        --delay) DELAY=$2; shift 2 ;;
        --fs) FILESYSTEMS=$2; shift 2 ;;
        *) die "unknown option $1" ;;
        esac
    done
    [[ $(id -u) == 0 ]] || die "run as root"
    [[ -x $ASD ]] || die "no asd binary at $ASD (run make)"
    exec unshare -m --propagation private "$0" --inner "$SECONDS_TOTAL" "$DELAY" "$FILESYSTEMS"
fi
SECONDS_TOTAL=$2 DELAY=$3 FILESYSTEMS=$4
WORK=$(mktemp -d /var/tmp/asd-watch-wear-XXXXXX)
mount -t tmpfs -o size=64m,mode=0755 watch-wear-run /run || die "cannot mount tmpfs on /run"

one_fs() { # one_fs FS: prints the figures of FS
    local fs=$1 dir=$WORK/$1 loop i start end s0 s1 s2 round
    mkdir -p "$dir/mnt" "$dir/vol" "$dir/run"
    truncate -s 1G "$dir/img"
    case $fs in
    ext4) mkfs.ext4 -q -F "$dir/img" ;;
    btrfs) mkfs.btrfs -q -f "$dir/img" >/dev/null ;;
    xfs) mkfs.xfs -q -f -m reflink=1 "$dir/img" ;;
    esac || die "mkfs.$fs failed"
    loop=$(losetup -f --show "$dir/img") || die "no free loop device"
    mount "$loop" "$dir/mnt" && mount -t tmpfs -o size=512m watch-wear-vol "$dir/vol" || die "cannot mount $fs"
    mkdir -p "$dir/mnt/t"
    for ((i = 0; i < 40; i++)); do head -c 2000000 /dev/urandom >"$dir/mnt/t/db$i.rrd"; done
    printf 'WHATTOSYNC=(%q)\nVOLATILE=%q\nRESYNC_DELAY=%s\n' "$dir/mnt/t" "$dir/vol" "$DELAY" >"$dir/asd.conf"
    export ASDCONF=$dir/asd.conf DAEMON_FILE=$dir/run/asd
    "$ASD" sync >/dev/null || die "sync on $fs failed"
    "$ASD" watch >"$dir/watch.log" 2>&1 &
    local watcher=$!
    # The watcher's first write-back (every target is due once at start) writes nothing.
    until (($(writebacks) > 0)); do sleep 1; done
    sync
    s0=$(sectors "$loop")
    local before w0 w1
    before=$(writebacks)
    mutate "$dir/mnt/t" 1
    until (($(writebacks) > before)); do sleep 1; done
    sync
    s1=$(sectors "$loop") w0=$(writebacks)
    start=$(date +%s)
    for ((round = 2; $(date +%s) - start < SECONDS_TOTAL; round++)); do
        mutate "$dir/mnt/t" "$round"
        sleep 60
    done
    # The last round's changes reach the disk within DELAY (plus one write-back).
    sleep $((DELAY + 10))
    sync
    s2=$(sectors "$loop") w1=$(writebacks)
    end=$(date +%s)
    kill -TERM $watcher; wait $watcher
    "$ASD" unsync >/dev/null
    umount "$dir/vol" "$dir/mnt"; losetup -d "$loop"
    awk -v fs="$fs" -v warm="$((s1 - s0))" -v s="$((s2 - s1))" -v t="$((end - start))" -v w="$((w1 - w0))" \
        -v r="$((round - 2))" 'BEGIN {
        printf "%-6s warm-up %6.0f KiB | steady %7.0f KiB/hour (%.0f KiB in %d s, %d rounds, %d write-backs, %.0f KiB per write-back)\n",
            fs, warm / 2, s / 2 * 3600 / t, s / 2, t, r, w, (w > 0 ? s / 2 / w : 0) }'
}

sectors() { awk '{ print $7 }' "/sys/block/${1#/dev/}/stat"; }

# Successful write-backs so far ($DAEMON_FILE.metrics: v1 <success> <attempt> <duration> <bytes> <successes> ...).
writebacks() { awk '$1 == "v1" { s += $6 } END { print s + 0 }' "$DAEMON_FILE.metrics" 2>/dev/null || echo 0; }

mutate() { # mutate DIR ROUND: 2 random bytes rewritten in place in every file
    python3 -c '
import os, random, sys
rng = random.Random(int(sys.argv[2]))
for name in sorted(os.listdir(sys.argv[1])):
    if name.endswith(".rrd"):
        with open(os.path.join(sys.argv[1], name), "r+b") as f:
            f.seek(rng.randrange(0, 2000000 - 2)); f.write(rng.randbytes(2))
' "$1" "$2"
}

printf 'asd watch, RESYNC_DELAY=%s, RRD workload (40 x 2 MB, 2 bytes per file per minute), %s s after the warm-up; upstream hourly resync ~78 MB/hour\n' "$DELAY" "$SECONDS_TOTAL"
for fs in $FILESYSTEMS; do one_fs "$fs" >"$WORK/$fs.result" 2>"$WORK/$fs.err" & done
wait
for fs in $FILESYSTEMS; do cat "$WORK/$fs.result" "$WORK/$fs.err"; done
[[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
