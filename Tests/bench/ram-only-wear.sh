#!/usr/bin/env bash
# Wear of a RAM_ONLY cache (doc/DESIGN.md §2, "RAM_ONLY and DISK_ONLY"): an hour of the
# RRD workload plus a cache directory rewritten every minute, in ACCELERATED time: 60
# rounds of one "minute" of changes (every RRD file gets 2 bytes rewritten in place, as
# one rrdtool update does; every cache file is rewritten whole), each followed at once
# by `asd resync`. Three targets on one loop-mounted 1 GiB ext4, measured one after the
# other:
#   rrd            the RRD files alone (the baseline)
#   rrd+cache      the same plus cache/ (200 files of 16 KiB), RAM_ONLY=('cache/')
#   rrd+cache-no   the same without RAM_ONLY (what the cache costs when written back)
#   rrd-again      the baseline once more (how much the device figure varies by itself)
# Printed per target: KiB written to the device over the hour (7th field of
# /sys/block/loopN/stat, `sync` before and after each resync), and for both cache targets the
# write-back's system calls that change a file system and name a path under cache/
# (`strace -f -y` of every resync: open for writing, write, rename, unlink, chmod,
# setxattr...), which must be 0 under RAM_ONLY (and is not without it: the count works).
#
#   sudo Tests/bench/ram-only-wear.sh [--rsync] [--rounds N]
#
# Runs in a private mount namespace (its own /run, VOLATILE tmpfs, config, daemon
# file); the loop device is detached at the end. ASD_BINARY=/path/to/asd, else
# .build/release/asd (`make`). Needs strace, losetup, mkfs.ext4, python3.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
say() { printf '%s\n' "$*" >&2; }
die() { say "ram-only-wear.sh: $*"; exit 1; }

minute() { # minute DIR ROUND WITH_CACHE: one minute of changes
    python3 - "$@" <<'PY'
import os, random, sys
root, rnd, cache = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
rng = random.Random(rnd)
for i in range(40):
    with open(os.path.join(root, "db%d.rrd" % i), "r+b") as f:
        f.seek(rng.randrange(0, 2000000 - 2))
        f.write(bytes([rng.randrange(256), rng.randrange(256)]))
if cache:
    os.makedirs(os.path.join(root, "cache"), exist_ok=True)
    for i in range(200):
        with open(os.path.join(root, "cache", "entry%03d" % i), "wb") as f:
            f.write(rng.randbytes(16384))
PY
}

one() { # one NAME CACHE(0/1) RAMONLY(0/1) -> "NAME KiB cache-syscalls"
    local name=$1 cache=$2 ramonly=$3 dir="$MNT/$1" r kib=0 before after calls=0
    mkdir -p "$dir/t"
    for ((r = 0; r < 40; r++)); do head -c 2000000 /dev/urandom >"$dir/t/db$r.rrd"; done
    {
        printf 'WHATTOSYNC=(%q)\nVOLATILE=%q\nUSE_BACKUPS="no"\n' "$dir/t" "$VOL"
        [[ $ENGINE == rsync ]] && printf 'USE_RSYNC="always"\n'
        ((ramonly)) && printf "RAM_ONLY=('cache/')\n"
    } >"$W/$name.conf"
    export ASDCONF="$W/$name.conf" DAEMON_FILE="/run/asd-wear-$name"
    "$ASD" sync >>"$W/log" 2>&1 || die "sync of $name failed (see $W/log)"
    for ((r = 1; r <= ROUNDS; r++)); do
        minute "$dir/t" "$r" "$cache"
        sync
        before=$(awk '{ print $7 }' "/sys/block/$DEV/stat")
        if ((cache)); then
            strace -f -y -qq -o "$W/trace" -e trace="$WRITING" "$ASD" resync >>"$W/log" 2>&1 || die "resync of $name failed"
            # Opens for reading and the stats that decide what the filter leaves out do not count.
            calls=$((calls + $(grep -e '/cache/' -e '/cache>' -e '"cache"' "$W/trace" |
                grep -v -e '^[0-9]* openat(' -e '^[0-9]* +++' | tee -a "$W/cache-calls-$name" | wc -l) +
                $(grep -e '/cache/' -e '/cache>' -e '"cache"' "$W/trace" | grep '^[0-9]* openat(' |
                    grep -c -e O_WRONLY -e O_RDWR -e O_CREAT)))
        else
            "$ASD" resync >>"$W/log" 2>&1 || die "resync of $name failed"
        fi
        sync
        after=$(awk '{ print $7 }' "/sys/block/$DEV/stat")
        kib=$((kib + (after - before) / 2))
    done
    if ((cache)); then
        local disk="$MNT/$name/.t-backup_asd"
        if ((ramonly)); then
            [[ ! -e $disk/cache ]] || die "$name: cache/ reached the disk copy"
        else
            [[ -e $disk/cache/entry199 ]] || die "$name: cache/ was not written back"
        fi
    fi
    "$ASD" unsync >>"$W/log" 2>&1 || die "unsync of $name failed"
    printf '%s\t%s\t%s\n' "$name" "$kib" "$( ((cache)) && echo "$calls" || echo -)"
}

inner() {
    mount -t tmpfs -o size=64m,mode=0755 wear-run /run || die "cannot mount tmpfs on /run"
    truncate -s 1G "$W/ext4.img" && mkfs.ext4 -q -F "$W/ext4.img" || die "mkfs.ext4 failed"
    LOOP=$(losetup -f --show "$W/ext4.img") || die "no free loop device"
    DEV=$(basename "$LOOP") MNT="$W/mnt" VOL="$W/vol"
    mkdir -p "$MNT" "$VOL"
    mount "$LOOP" "$MNT" && mount -t tmpfs -o size=512m wear-volatile "$VOL" || { losetup -d "$LOOP"; die "cannot mount"; }
    one rrd 0 0
    one rrd+cache 1 1
    one rrd+cache-no 1 0
    one rrd-again 0 0
    umount "$VOL" "$MNT"
    losetup -d "$LOOP"
}

if [[ ${1:-} == --inner ]]; then inner; exit; fi

ENGINE=builtin ROUNDS=60
# The system calls that change a file system; any of them naming a path under cache/ counts.
WRITING=openat,mkdirat,renameat,renameat2,unlinkat,linkat,symlinkat,mknodat,fchownat,fchmodat,utimensat,write,pwrite64
WRITING+=,pwritev,pwritev2,copy_file_range,fchmod,fchown,fsetxattr,lsetxattr,fremovexattr,ftruncate,fallocate,ioctl
while (($#)); do
    case $1 in
        --rsync) ENGINE=rsync; shift ;;
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
((EUID == 0)) || die "must run as root"
for tool in losetup strace mkfs.ext4 python3 unshare; do command -v $tool >/dev/null || die "needs $tool"; done
ASD=${ASD_BINARY:-$REPO/.build/release/asd}
[[ -n ${ASD_BINARY:-} ]] || make -C "$REPO" build >&2 || die "cannot build asd"
ASD=$(realpath -e "$ASD") || die "no asd binary"
W=$(mktemp -d /var/tmp/asd-ramonly-wear-XXXXXX) || die "cannot create a work directory"
trap 'losetup -j "$W/ext4.img" | cut -d: -f1 | xargs -r losetup -d; rm -rf "$W"' EXIT
export W ASD ENGINE ROUNDS WRITING
unshare -m --propagation private -- bash "$HERE/ram-only-wear.sh" --inner >"$W/results.tsv" || die "the measuring part failed: $(tail -5 "$W/log" 2>/dev/null)"
echo "RAM_ONLY cache wear, $ENGINE engine, $ROUNDS accelerated minutes (one resync after each), ext4 on a loop device"
printf '%-14s %16s %28s\n' target "KiB written" "write-back calls on cache/"
while IFS=$'\t' read -r name kib calls; do printf '%-14s %16s %28s\n' "$name" "$kib" "$calls"; done <"$W/results.tsv"
awk -F'\t' '$1 == "rrd" { base = $2 } $1 == "rrd-again" { again = $2 } $1 == "rrd+cache" { ours = $2 }
    END { printf "cache under RAM_ONLY: %+d KiB against the RRD files alone; the baseline itself varied by %+d KiB\n", ours - base, again - base }' "$W/results.tsv"
if [[ -s $W/cache-calls-rrd+cache ]]; then echo "write-back calls naming cache/ under RAM_ONLY (first 5):"; head -5 "$W/cache-calls-rrd+cache"; fi
