#!/usr/bin/env bash
# Wear of continuous write-back (RESYNC_DELAY, doc/DESIGN.md §12): bytes written
# to the block device per hour by `asd watch` under the RRD workload of wear.sh
# (40 files of 2 MB, 2 bytes rewritten in place per file, once a minute), on
# each file system at once, next to upstream's hourly resync (~78 MB/hour).
#
#   sudo Tests/bench/watch-wear.sh [--seconds 3600] [--delay 60] [--fs "ext4 xfs btrfs"]
#
# Per file system: a 1 GiB loop image and a tmpfs VOLATILE inside a private mount
# namespace; asd sync, then `asd watch` (RESYNC_DELAY=--delay); after its first
# write-back the workload runs for --seconds; the figure is the sectors written
# to the loop device (7th field of /sys/block/loopN/stat) from then until the
# last change is written back, scaled to one hour, plus the number of write-backs.
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

one_fs() { # one_fs FS: prints "FS KiB-per-hour writebacks seconds"
    local fs=$1 dir=$WORK/$1 loop i start end s0 s1
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
    until [[ -e $DAEMON_FILE.last-writeback ]]; do sleep 1; done
    sync
    s0=$(awk '{ print $7 }' "/sys/block/${loop#/dev/}/stat")
    start=$(date +%s)
    for ((round = 1; $(date +%s) - start < SECONDS_TOTAL; round++)); do
        python3 -c '
import os, random, sys
rng = random.Random(int(sys.argv[2]))
for name in sorted(os.listdir(sys.argv[1])):
    if name.endswith(".rrd"):
        with open(os.path.join(sys.argv[1], name), "r+b") as f:
            f.seek(rng.randrange(0, 2000000 - 2)); f.write(rng.randbytes(2))
' "$dir/mnt/t" "$round"
        sleep 60
    done
    # The last round's changes reach the disk within DELAY (plus one write-back).
    sleep $((DELAY + 10))
    sync
    s1=$(awk '{ print $7 }' "/sys/block/${loop#/dev/}/stat")
    end=$(date +%s)
    kill -TERM $watcher; wait $watcher
    local writebacks
    # $DAEMON_FILE.metrics: v1 <success> <attempt> <duration> <bytes> <successes> <failures> ...
    writebacks=$(awk '$1 == "v1" { s += $6 } END { print s + 0 }' "$DAEMON_FILE.metrics" 2>/dev/null)
    "$ASD" unsync >/dev/null
    umount "$dir/vol" "$dir/mnt"; losetup -d "$loop"
    awk -v fs="$fs" -v s="$((s1 - s0))" -v t="$((end - start))" -v w="$writebacks" -v r="$((round - 1))" \
        'BEGIN { printf "%-6s %10.0f KiB/hour  (%d KiB in %d s, %d rounds, write-backs counted: %s)\n", fs, s * 512 / 1024 * 3600 / t, s * 512 / 1024, t, r, w }'
}

printf 'asd watch, RESYNC_DELAY=%s, RRD workload (40 x 2 MB, 2 bytes per file per minute), %s s; upstream hourly resync ~78 MB/hour\n' "$DELAY" "$SECONDS_TOTAL"
for fs in $FILESYSTEMS; do one_fs "$fs" >"$WORK/$fs.result" 2>"$WORK/$fs.err" & done
wait
for fs in $FILESYSTEMS; do cat "$WORK/$fs.result" "$WORK/$fs.err"; done
rm -rf "$WORK"
