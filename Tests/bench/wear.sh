#!/usr/bin/env bash
# Wear benchmark: bytes written to the block device by a resync (doc/DESIGN.md §6.3).
#
#   sudo Tests/bench/wear.sh [--upstream /path/to/anything-sync-daemon] [--fs "ext4 btrfs xfs"] [--runs N]
#
# For each file system, a 1 GiB image is loop-mounted inside a private mount
# namespace (unshare -m --propagation private); nothing is mounted on the host
# and the loop devices are detached at the end. For each implementation (ours,
# upstream when given, and `rsync -a --inplace --no-whole-file` as the tools that
# write only changed blocks but in place do; --modify-window=-1 so that a change within the
# second of the copy is seen) and each workload, a fresh target is
# synced into tmpfs, changed, and written back twice:
#   rrd: 40 files of 2 MB, 2 bytes rewritten in place per file (a round-robin database)
#   log: 40 files of 512 KiB, one 110-byte line appended per file
# "first" is the first resync after sync (files still shared with the hard-link
# snapshot), "steady" the next one. Measured: sectors written (7th field of
# /sys/block/loopN/stat) between a `sync` before and a `sync` after the resync.
# Each cycle runs N times (default 3) on a fresh target; the table shows the median
# and, in brackets, the largest figure (btrfs's own background commits make it noisy).
# Environment: ASD_BINARY=/path/to/asd (else .build/release/asd, built by `make build`).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
say() { printf '%s\n' "$*" >&2; }
die() { say "wear.sh: $*"; exit 1; }

# ---------------------------------------------------------------- inner part
sectors() { awk '{ print $7 }' "/sys/block/$1/stat"; }

populate() { # populate WORKLOAD DIR
    mkdir -p "$2"
    local i
    for ((i = 0; i < 40; i++)); do
        if [[ $1 == rrd ]]; then
            head -c 2000000 /dev/urandom >"$2/db$i.rrd"
        else
            yes 'Nov 30 08:00:00 host daemon[1234]: an ordinary log line of about the usual length, nothing to see' |
                head -c 524288 >"$2/app$i.log"
        fi
    done
}

mutate() { # mutate WORKLOAD DIR ROUND
    python3 - "$@" <<'PY'
import os, random, sys
workload, root, rnd = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(rnd)
for name in sorted(n for n in os.listdir(root) if not n.startswith(".")):
    path = os.path.join(root, name)
    if workload == "rrd":
        with open(path, "r+b") as f:
            f.seek(rng.randrange(0, os.path.getsize(path) - 2))
            f.write(bytes([rng.randrange(256), rng.randrange(256)]))
    else:
        with open(path, "ab") as f:
            f.write((f"Nov 30 08:{rnd:02d}:00 host daemon[1234]: round {rnd} " + "x" * 110)[:109].encode() + b"\n")
PY
}

measure() { # measure DEV COMMAND... -> prints KiB written by COMMAND
    sync
    local before after
    before=$(sectors "$1")
    local dev=$1
    shift
    "$@" >>"$W/log" 2>&1 || say "  FAILED: $*"
    sync
    after=$(sectors "$dev")
    echo $(((after - before) / 2))
}

one() { # one FS IMPL WORKLOAD RUN -> prints "FS IMPL WORKLOAD first steady"
    local fs=$1 impl=$2 wl=$3 dir="$MNT/$2-$3-$4" conf first steady
    populate "$wl" "$dir/t"
    if [[ $impl == rsync ]]; then
        local copy="$VOL/$impl-$wl-$4"
        mkdir -p "$copy" && cp -a "$dir/t/." "$copy/"
        mutate "$wl" "$copy" 1
        first=$(measure "$DEV" rsync -a --inplace --no-whole-file --modify-window=-1 "$copy/" "$dir/t/")
        mutate "$wl" "$copy" 2
        steady=$(measure "$DEV" rsync -a --inplace --no-whole-file --modify-window=-1 "$copy/" "$dir/t/")
        rm -rf "$copy"
    else
        conf="$W/$fs-$impl-$wl.conf"
        printf 'WHATTOSYNC=(%q)\nVOLATILE=%q\n' "$dir/t" "$VOL" >"$conf"
        local bin=$ASD
        [[ $impl == upstream ]] && bin=$UPSTREAM
        export ASDCONF=$conf DAEMON_FILE="/run/wear-$fs-$impl-$wl"
        "$bin" sync >>"$W/log" 2>&1 || say "  FAILED: $impl sync on $fs"
        mutate "$wl" "$dir/t" 1
        first=$(measure "$DEV" "$bin" resync)
        mutate "$wl" "$dir/t" 2
        steady=$(measure "$DEV" "$bin" resync)
        # What was written back must be the tmpfs content: checked after unsync.
        (cd "$dir/t" && md5sum -- *) >"$W/expect"
        "$bin" unsync >>"$W/log" 2>&1 || say "  FAILED: $impl unsync on $fs"
        (cd "$dir/t" && md5sum --quiet -c "$W/expect") >&2 || say "  FAILED: $impl on $fs: wrong content after unsync"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$fs" "$impl" "$wl" "$first" "$steady"
}

inner() {
    mount -t tmpfs -o size=64m,mode=0755 wear-run /run || die "cannot mount tmpfs on /run"
    local fs img
    for fs in $FSLIST; do
        img="$W/$fs.img"
        truncate -s 1G "$img"
        case $fs in
            ext4) mkfs.ext4 -q -F "$img" ;;
            btrfs) mkfs.btrfs -q -f "$img" >/dev/null ;;
            xfs) mkfs.xfs -q -f -m reflink=1 "$img" ;;
        esac || die "mkfs.$fs failed (apt-get install e2fsprogs btrfs-progs xfsprogs)"
        LOOP=$(losetup -f --show "$img") || die "no free loop device"
        DEV=$(basename "$LOOP")
        MNT="$W/mnt-$fs" VOL="$W/vol-$fs"
        mkdir -p "$MNT" "$VOL"
        mount "$LOOP" "$MNT" && mount -t tmpfs -o size=1g wear-volatile "$VOL" || { losetup -d "$LOOP"; die "cannot mount $fs"; }
        say "$(date +%T) $fs on $LOOP"
        for ((run = 1; run <= RUNS; run++)); do
            for impl in $IMPLS; do
                for wl in rrd log; do
                    one "$fs" "$impl" "$wl" "$run" >>"$W/results.tsv"
                    say "  $(tail -n 1 "$W/results.tsv")"
                done
            done
        done
        umount "$VOL"; umount "$MNT"
        losetup -d "$LOOP"
        rm -f "$img"
    done
}

if [[ ${1:-} == --inner ]]; then inner; exit 0; fi

# ---------------------------------------------------------------- outer part
UPSTREAM="" FSLIST="ext4 btrfs xfs" RUNS=3
while (($#)); do
    case $1 in
        --upstream) UPSTREAM=$(realpath -e "${2:?}") || die "--upstream: no such file"; shift 2 ;;
        --fs) FSLIST=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
((EUID == 0)) || die "must run as root"
for tool in losetup rsync python3 unshare; do command -v $tool >/dev/null || die "needs $tool"; done
ASD=${ASD_BINARY:-$REPO/.build/release/asd}
[[ -n ${ASD_BINARY:-} ]] || make -C "$REPO" build >&2 || die "cannot build asd"
ASD=$(realpath -e "$ASD") || die "no asd binary"
IMPLS="ours rsync"
[[ -n $UPSTREAM ]] && IMPLS="ours upstream rsync"
W=$(mktemp -d /var/tmp/asd-wear-XXXXXX) || die "cannot create a work directory"
trap 'rm -rf "$W"' EXIT
: >"$W/results.tsv"
export W FSLIST IMPLS ASD UPSTREAM RUNS
unshare -m --propagation private -- bash "$HERE/wear.sh" --inner || say "wear.sh: the measuring part stopped early"
# Loop devices of ours that a failure left attached.
losetup -j "$W/ext4.img" -j "$W/btrfs.img" -j "$W/xfs.img" 2>/dev/null | cut -d: -f1 | xargs -r losetup -d

echo "KiB written to the device per resync: first after sync / steady, median of $RUNS run(s) [largest]"
printf '%-6s %-9s %26s %26s\n' fs impl rrd log
python3 - "$W/results.tsv" <<'PY'
import statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    fs, impl, wl, first, steady = line.rstrip("\n").split("\t")
    key = (fs, impl)
    if key not in rows:
        rows[key] = {}
        order.append(key)
    rows[key].setdefault(wl, []).append((int(first), int(steady)))
def cell(values):
    if not values:
        return "-"
    firsts, steadies = [v[0] for v in values], [v[1] for v in values]
    return f"{statistics.median_low(firsts)} [{max(firsts)}] / {statistics.median_low(steadies)} [{max(steadies)}]"
for key in order:
    print(f"{key[0]:<6} {key[1]:<9} {cell(rows[key].get('rrd')):>26} {cell(rows[key].get('log')):>26}")
PY
echo
echo "Targets: steady <= 800 KiB on ext4 and xfs, <= 1600 KiB on btrfs; first within the same on xfs and btrfs."
