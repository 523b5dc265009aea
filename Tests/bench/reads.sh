#!/usr/bin/env bash
# Read benchmark: what a resync reads from the disk copy (block records, doc/DESIGN.md).
#
#   sudo Tests/bench/reads.sh [--fs "ext4 btrfs xfs"] [--rounds N]
#
# For each file system a 3 GiB image is loop-mounted inside a private mount
# namespace (nothing is mounted on the host; the loop device is detached at
# the end). Two workloads, each synced into a tmpfs VOLATILE and written back
# N+1 times (default N = 3); before every resync a few bytes change and the
# page cache is dropped (echo 3 > /proc/sys/vm/drop_caches: the whole
# machine's, as after hours of other work):
#   big: one file of 1 GiB, 3 bytes rewritten at a random offset
#   rrd: 40 files of 2 MB, 2 bytes rewritten per file
# Measured per resync: KiB read from and written to the device (3rd and 7th
# fields of /sys/block/loopN/stat, `sync` before and after), wall and CPU
# time (user + system) of `asd resync`. The first resync after sync has no
# records yet; the table shows it, then the median [largest] of the others.
# Also printed: the size of the record file, and the CPU time per GiB of the
# block checksum alone (Tests/bench/hashbench.c, compiled with -O2).
# Environment: ASD_BINARY=/path/to/asd (else .build/release/asd, built by `make build`).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
say() { printf '%s\n' "$*" >&2; }
die() { say "reads.sh: $*"; exit 1; }

# ---------------------------------------------------------------- inner part
field() { awk -v f="$2" '{ print $f }' "/sys/block/$1/stat"; }

change() { # change WORKLOAD DIR ROUND
    python3 - "$@" <<'PY'
import os, random, sys
workload, root, rnd = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(rnd)
for name in sorted(os.listdir(root)):
    path = os.path.join(root, name)
    if name.startswith(".") or not os.path.isfile(path):
        continue
    width = 3 if workload == "big" else 2
    with open(path, "r+b") as f:
        f.seek(rng.randrange(0, os.path.getsize(path) - width))
        f.write(bytes(rng.randrange(256) for _ in range(width)))
PY
}

resync() { # resync FS WORKLOAD ROUND -> appends a result line
    sync
    echo 3 >/proc/sys/vm/drop_caches
    local r0 w0 r1 w1 start end cpu
    r0=$(field "$DEV" 3) w0=$(field "$DEV" 7)
    start=$(date +%s.%N)
    /usr/bin/time -o "$W/time" -f '%U %S' "$ASD" resync >>"$W/log" 2>&1
    cpu=$(tail -n 1 "$W/time")
    end=$(date +%s.%N)
    sync
    r1=$(field "$DEV" 3) w1=$(field "$DEV" 7)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" $(((r1 - r0) / 2)) $(((w1 - w0) / 2)) \
        "$(echo "$end - $start" | bc)" "$(echo "$cpu" | awk '{ print $1 + $2 }')" >>"$W/results.tsv"
    say "  $(tail -n 1 "$W/results.tsv")"
}

workload() { # workload FS WORKLOAD
    local fs=$1 wl=$2 dir="$MNT/$2/t" round
    mkdir -p "$dir"
    if [[ $wl == big ]]; then
        head -c 1G /dev/urandom >"$dir/big"
    else
        for ((round = 0; round < 40; round++)); do head -c 2000000 /dev/urandom >"$dir/db$round.rrd"; done
    fi
    export ASDCONF="$W/$fs-$wl.conf" DAEMON_FILE="/run/reads-$fs-$wl"
    printf 'WHATTOSYNC=(%q)\nVOLATILE=%q\nUSE_RSYNC=no\n' "$dir" "$VOL" >"$ASDCONF"
    "$ASD" sync >>"$W/log" 2>&1 || die "sync of $wl on $fs failed (see $W/log)"
    for ((round = 0; round <= ROUNDS; round++)); do
        change "$wl" "$dir" "$round"
        resync "$fs" "$wl" "$round"
    done
    du -b "$VOL"/.*:block-records/*/records | awk -v fs="$fs" -v wl="$wl" '{ printf "%s\t%s\t%d\n", fs, wl, $1 }' >>"$W/records.tsv"
    (cd "$dir" && md5sum -- *) >"$W/expect"
    "$ASD" unsync >>"$W/log" 2>&1 || die "unsync of $wl on $fs failed"
    (cd "$dir" && md5sum --quiet -c "$W/expect") >&2 || die "$wl on $fs: wrong content after unsync"
    rm -rf "$MNT/$wl"
}

inner() {
    mount -t tmpfs -o size=64m,mode=0755 reads-run /run || die "cannot mount tmpfs on /run"
    local fs img
    for fs in $FSLIST; do
        img="$W/$fs.img" MNT="$W/mnt-$fs" VOL="$W/vol-$fs"
        declare -A options=([ext4]="-q -F" [btrfs]="-q -f" [xfs]="-q -f -m reflink=1")
        truncate -s 3G "$img" && "mkfs.$fs" ${options[$fs]} "$img" >/dev/null ||
            die "mkfs.$fs failed (apt-get install e2fsprogs btrfs-progs xfsprogs)"
        LOOP=$(losetup -f --show "$img") || die "no free loop device"
        DEV=$(basename "$LOOP")
        mkdir -p "$MNT" "$VOL"
        mount "$LOOP" "$MNT" && mount -t tmpfs -o size=1200m reads-volatile "$VOL" || { losetup -d "$LOOP"; die "cannot mount $fs"; }
        say "$(date +%T) $fs on $LOOP"
        workload "$fs" big
        workload "$fs" rrd
        umount "$VOL"; umount "$MNT"
        losetup -d "$LOOP"
        rm -f "$img"
    done
}

if [[ ${1:-} == --inner ]]; then inner; exit 0; fi

# ---------------------------------------------------------------- outer part
FSLIST="ext4" ROUNDS=3
while (($#)); do
    case $1 in
        --fs) FSLIST=${2:?}; shift 2 ;;
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
((EUID == 0)) || die "must run as root"
for tool in losetup python3 unshare bc /usr/bin/time cc; do command -v $tool >/dev/null || die "needs $tool"; done
ASD=${ASD_BINARY:-$REPO/.build/release/asd}
[[ -n ${ASD_BINARY:-} ]] || make -C "$REPO" build >&2 || die "cannot build asd"
ASD=$(realpath -e "$ASD") || die "no asd binary"
W=$(mktemp -d /var/tmp/asd-reads-XXXXXX) || die "cannot create a work directory"
trap 'rm -rf "$W"' EXIT
: >"$W/results.tsv"; : >"$W/records.tsv"
export W FSLIST ROUNDS ASD
unshare -m --propagation private -- bash "$HERE/reads.sh" --inner || say "reads.sh: the measuring part stopped early"
losetup -j "$W/ext4.img" -j "$W/btrfs.img" -j "$W/xfs.img" 2>/dev/null | cut -d: -f1 | xargs -r losetup -d

echo "Per resync, cold page cache: KiB read from the device, KiB written, wall s, CPU s (user+system)"
echo "first = no records yet; then the median [largest] of $ROUNDS resyncs with records"
python3 - "$W/results.tsv" "$W/records.tsv" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    fs, wl, rnd, *values = line.split("\t")
    rows.setdefault((fs, wl), []).append((int(rnd), [float(v) for v in values]))
names = ["read KiB", "written KiB", "wall s", "CPU s"]
print(f"{'fs':<6} {'load':<5} {'':<8} " + " ".join(f"{n:>20}" for n in names))
for (fs, wl), runs in rows.items():
    runs.sort()
    first = runs[0][1]
    print(f"{fs:<6} {wl:<5} {'first':<8} " + " ".join(f"{v:>20.2f}" for v in first))
    later = [v for r, v in runs[1:]]
    if later:
        cells = [f"{statistics.median_low(c):.2f} [{max(c):.2f}]" for c in zip(*later)]
        print(f"{fs:<6} {wl:<5} {'records':<8} " + " ".join(f"{c:>20}" for c in cells))
for line in open(sys.argv[2]):
    fs, wl, size = line.split()
    print(f"record file of {wl} on {fs}: {int(size) / 1024:.1f} KiB")
PY
cc -O2 -o "$W/hashbench" -I "$REPO/Sources/CASDBlockHash/include" "$HERE/hashbench.c" "$REPO/Sources/CASDBlockHash/asd_block_hash.c" &&
    "$W/hashbench"
echo
echo "Targets: with records, read < 1024 KiB per resync for both loads, big < 0.3 s; written as before records."
