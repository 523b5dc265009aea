#!/bin/bash
# Compressed RAM (USE_ZRAM): how much RAM a zram device needs per byte of data,
# for each candidate file system, block size and algorithm, on two data sets:
#   logs: ~30 MB of syslog-style text (varied hosts, programs, pids, numbers)
#   rrd:  RRD files from `rrdtool create` and two days of `rrdtool update`
# and how much RAM deleting half of the logs returns (discard, fstrim) within 60 s.
#
#   sudo Tests/bench/zram.sh [--quick] [--times [--runs=N] [--scale=K] [--backups] [--baseline=ASD]]
#   (needs rrdtool, e2fsprogs; btrfs-progs optional)
#
# --times: instead of the table, asd's sync, resync and unsync of both data sets with
# USE_ZRAM against plain tmpfs, N runs each (default 5) alternating, their medians
# and ratios, the load average, and what the device's set-up steps cost by themselves
# (ASD_BINARY, else .build/release/asd, else .build/debug/asd; its config, daemon
# file and VOLATILE are in the bench's own directory). --scale=K: each target holds K
# copies of its data set (fixed costs weigh less); --backups: USE_BACKUPS=yes, the
# default (a hard-link snapshot of each target at sync) instead of no; --baseline=ASD:
# another asd binary's USE_ZRAM runs alternate with the others (before/after figures).
#
# Only devices this script made through /sys/class/zram-control/hot_add are
# touched, and each is reset and removed again (also on error or ^C). Mounts are
# made in a private mount namespace. Figures go to stdout, progress to stderr.
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "zram.sh: run as root" >&2; exit 1; }
[[ -w /sys/class/zram-control/hot_add ]] || { echo "zram.sh: no zram-control (modprobe zram)" >&2; exit 1; }
command -v rrdtool >/dev/null || { echo "zram.sh: needs rrdtool (apt-get install -y rrdtool)" >&2; exit 1; }
if [[ "${ZRAM_BENCH_INNER:-}" != 1 ]]; then
    ZRAM_BENCH_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi
QUICK=0; TIMES=0; RUNS=5; SCALE=1; BACKUPS=no; BASELINE=""
for arg in "$@"; do case $arg in
    --quick) QUICK=1 ;; --times) TIMES=1 ;; --runs=*) RUNS=${arg#--runs=} ;; --scale=*) SCALE=${arg#--scale=} ;;
    --backups) BACKUPS=yes ;; --baseline=*) BASELINE=$(realpath "${arg#--baseline=}") ;;
esac; done
WORK=$(mktemp -d /var/tmp/asd-zram-bench.XXXXXX)
DEV=""
cleanup() {
    [[ -n "$DEV" ]] && drop_device
    rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "$*" >&2; }

new_device() { # $1 algorithm, $2 disksize
    local n; n=$(cat /sys/class/zram-control/hot_add)
    DEV=$n
    echo "$1" > "/sys/block/zram$n/comp_algorithm"
    echo "$2" > "/sys/block/zram$n/disksize"
}
drop_device() {
    umount "$WORK/mnt" 2>/dev/null || true
    local i  # udev may still probe the device just closed: EBUSY for a few ms, as asd retries
    for i in $(seq 1000); do { echo 1 > "/sys/block/zram$DEV/reset"; } 2>/dev/null && break; sleep 0.002; done
    echo "$DEV" > /sys/class/zram-control/hot_remove
    DEV=""
}
mem_used() { awk '{print $3}' "/sys/block/zram$DEV/mm_stat"; }

# --- data sets (seeded: the same bytes on every run) ---------------------------
make_logs() {
    python3 - "$1" "$2" <<'EOF'
import random, sys, os
root, total = sys.argv[1], int(sys.argv[2])
r = random.Random(22)
hosts = [f"{p}-{i:02d}" for p in ("web", "db", "cache", "edge", "build") for i in range(8)]
progs = ["sshd", "CRON", "systemd", "kernel", "nginx", "postfix/smtpd", "dhclient", "rsyslogd", "sudo", "dockerd"]
ips = [f"10.{r.randint(0,255)}.{r.randint(0,255)}.{r.randint(1,254)}" for _ in range(300)]
keys = ["".join(r.choice("abcdefABCDEF0123456789+/") for _ in range(43)) for _ in range(6)]
ids = [f"{r.getrandbits(256):064x}" for _ in range(30)]
paths = ["/api/v1/items", "/api/v2/users", "/static/app.js", "/static/app.css", "/login", "/health", "/api/v1/search"]
users = ["root", "deploy", "alice", "bob"]
msgs = [
    lambda: f"Accepted publickey for {r.choice(users)} from {r.choice(ips)} port {r.randint(1024,65535)} ssh2: ED25519 SHA256:{r.choice(keys)}",
    lambda: f"({r.choice(['root','www-data'])}) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    lambda: f"Started session-{r.randint(1,9999)}.scope - Session {r.randint(1,9999)} of User {r.choice(users)}.",
    lambda: f"[{r.uniform(0,99999):11.6f}] {r.choice(['eth0: Link is Up - 1Gbps/Full', 'EXT4-fs (sda1): re-mounted. Quota mode: none.', 'TCP: request_sock_TCP: Possible SYN flooding on port 443.', 'perf: interrupt took too long'])}",
    lambda: f'{r.choice(ips)} - - "GET {r.choice(paths)}/{r.randint(1,5000)}?page={r.randint(1,20)} HTTP/1.1" {r.choice([200,200,200,304,404,500])} {r.randint(0,99999)} "-" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"',
    lambda: f"{r.getrandbits(40):010X}: from=<{r.choice(['noreply','alerts','bob'])}@example.{r.choice(['com','org','net'])}>, size={r.randint(500,90000)}, nrcpt=1 (queue active)",
    lambda: f"DHCPACK of 192.168.{r.randint(0,9)}.{r.randint(2,254)} from 192.168.{r.randint(0,9)}.1",
    lambda: f"pam_unix(sudo:session): session opened for user root(uid=0) by {r.choice(users)}(uid={r.randint(1000,1003)})",
    lambda: f"time=\"2026-12-0{r.randint(1,7)}T{r.randint(0,23):02d}:{r.randint(0,59):02d}:{r.randint(0,59):02d}Z\" level={r.choice(['info','info','warning','error'])} msg=\"container {r.choice(ids)} exited\" code={r.choice([0,0,1,137])}",
]
files = ["syslog", "auth.log", "kern.log", "daemon.log", "mail.log", "nginx/access.log", "user.log", "messages"]
os.makedirs(os.path.join(root, "nginx"), exist_ok=True)
written, n, t = 0, 0, 1733500000
pids = {p: r.randint(300, 99999) for p in progs}
while written < total:
    name = f"{r.choice(files)}{'' if r.random() < 0.5 else '.' + str(r.randint(1, 6))}"
    with open(os.path.join(root, name), "a") as f:
        for _ in range(200):
            t += r.randint(0, 3)
            h = r.choice(hosts); p = r.choice(progs)
            if r.random() < 0.05: pids[p] = r.randint(300, 99999)
            line = f"Dec {7 - (t % 7)} {t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d} {h} {p}[{pids[p]}]: {r.choice(msgs)()}\n"
            f.write(line); written += len(line)
EOF
}
make_rrds() { # $1 dir, $2 files
    local dir=$1 count=$2 start=$(( 1733500000 - 2 * 86400 )) i
    mkdir -p "$dir"
    for ((i = 0; i < count; i++)); do
        rrdtool create "$dir/host$i.rrd" --start "$start" --step 10 \
            DS:load:GAUGE:20:0:U DS:rx:DERIVE:20:0:U DS:users:GAUGE:20:0:U DS:df:GAUGE:20:0:U \
            RRA:AVERAGE:0.5:1:8640 RRA:AVERAGE:0.5:6:10080 RRA:AVERAGE:0.5:60:8784 \
            RRA:MIN:0.5:60:8784 RRA:MAX:0.5:60:8784 RRA:AVERAGE:0.5:1440:3650
        python3 - "$i" "$start" <<'EOF' | xargs -n 2000 rrdtool update "$dir/host$i.rrd"
import random, sys
r = random.Random(int(sys.argv[1])); t = int(sys.argv[2]); rx = 0; load = 0.5; users = 1; df = 10**9
for _ in range(2 * 8640):
    t += 10; load = max(0.0, load + r.choice((-0.01, 0, 0, 0.01))); rx += r.randint(0, 20) * 1000
    if r.random() < 0.001: users = r.randint(0, 4)
    if r.random() < 0.01: df += 4096
    print(f"{t}:{load:.2f}:{rx}:{users}:{df}")
EOF
    done
}
LOGS=$WORK/logs; RRDS=$WORK/rrd
LOG_BYTES=$(( QUICK ? 8000000 : 30000000 )); RRD_FILES=$(( QUICK ? 10 : 40 ))
log "building data sets in $WORK ..."
mkdir -p "$LOGS"; make_logs "$LOGS" "$LOG_BYTES"; make_rrds "$RRDS" "$RRD_FILES"
size_of() { du -sb --apparent-size "$1" | awk '{print $1}'; }
LOGS_SIZE=$(size_of "$LOGS"); RRDS_SIZE=$(size_of "$RRDS")
log "logs: $LOGS_SIZE bytes, rrd: $RRDS_SIZE bytes"
mkdir -p "$WORK/mnt"

# mkfs and mount options per candidate; the device is 256 MiB uncompressed.
format() { # $1 candidate, $2 device
    case $1 in
    ext4-nojournal-4k) mkfs.ext4 -q -F -O ^has_journal -m 0 -b 4096 "$2" ;;
    ext4-inline-4k)    mkfs.ext4 -q -F -O ^has_journal,inline_data -m 0 -b 4096 -I 1024 "$2" ;;
    ext4-tuned)        mkfs.ext4 -q -F -O ^has_journal,^resize_inode -E lazy_itable_init=0,nodiscard -m 0 -b 4096 -N 8192 "$2" ;;
    ext2-4k)           mkfs.ext2 -q -F -m 0 -b 4096 "$2" ;;
    btrfs-zstd1)       mkfs.btrfs -q -f -n 4096 -m single -d single "$2" >/dev/null ;;  # asd's choice
    btrfs-zstd*|btrfs-lzo) mkfs.btrfs -q -f -m single -d single "$2" >/dev/null ;;
    f2fs-compress)     mkfs.f2fs -q -f -O extra_attr,compression "$2" >/dev/null ;;
    esac
}
options() {
    case $1 in
    btrfs-zstd)   echo discard=sync,noatime,compress-force=zstd:3,max_inline=2048 ;;
    btrfs-zstd1)  echo discard=sync,noatime,compress-force=zstd:1,max_inline=2048 ;;
    btrfs-zstd9)  echo discard=sync,noatime,compress-force=zstd:9,max_inline=2048 ;;
    btrfs-lzo)    echo discard=sync,noatime,compress-force=lzo ;;
    f2fs-compress) echo discard,noatime,compress_algorithm=lz4,compress_extension=* ;;
    *)            echo discard,noatime ;;
    esac
}
measure() { # $1 candidate, $2 algorithm, $3 data dir -> sets RESULT="permille base-KiB seconds"
    local cand=$1 alg=$2 data=$3 size base used t0 t1
    new_device "$alg" 256M
    format "$cand" "/dev/zram$DEV" 2>/dev/null
    mount -o "$(options "$cand")" "/dev/zram$DEV" "$WORK/mnt"
    base=$(mem_used)
    t0=$(date +%s.%N); cp -a "$data/." "$WORK/mnt/"; sync -f "$WORK/mnt"; t1=$(date +%s.%N)
    used=$(mem_used); size=$(size_of "$data")
    RESULT="$(( used * 1000 / size )) $(( base / 1024 )) $(echo "$t1 - $t0" | bc)"
}
delete_half() { # after measure on logs: delete every other file, fstrim, wait <= 60 s -> RESULT
    local before after start files i=0 f
    before=$(mem_used); start=$(date +%s)
    mapfile -t files < <(cd "$WORK/mnt" && find . -type f -printf '%s %p\n' | sort -n | cut -d' ' -f2-)
    for f in "${files[@]}"; do (( i++ % 2 )) && rm -f "$WORK/mnt/$f"; done
    sync -f "$WORK/mnt"; fstrim "$WORK/mnt" 2>/dev/null || true; echo 1 > "/sys/block/zram$DEV/compact"
    while (( $(date +%s) - start < 60 )); do
        after=$(mem_used)
        (( (before - after) * 100 / before >= 40 )) && break
        sleep 1
    done
    after=$(mem_used)
    RESULT="$(( (before - after) * 100 / before )) $(( $(date +%s) - start ))"
}

DEV=$(cat /sys/class/zram-control/hot_add); ALGS=$(tr -d '[]' < "/sys/block/zram$DEV/comp_algorithm")
echo "$DEV" > /sys/class/zram-control/hot_remove; DEV=""
printf "%-20s %-8s %10s %10s %8s %14s\n" candidate alg "logs RAM%" "rrd RAM%" "copy s" "del-half ret%"
# 1 KiB blocks are not possible: zram's logical block size is 4 KiB (mkfs: "too small for device").
CANDS="ext4-nojournal-4k ext4-inline-4k ext4-tuned ext2-4k"
command -v mkfs.btrfs >/dev/null && CANDS+=" btrfs-zstd btrfs-zstd1 btrfs-zstd9 btrfs-lzo"
(( QUICK )) && CANDS="ext4-nojournal-4k btrfs-zstd"
(( TIMES )) && CANDS=""  # only the timings
for cand in $CANDS; do
    for alg in $ALGS; do
        [[ ($cand == btrfs-zstd?* || $cand == btrfs-lzo || $cand == ext4-tuned || $cand == ext4-inline-4k || $cand == ext2-4k) && $alg != lz4 ]] && continue
        measure "$cand" "$alg" "$LOGS"; read -r lp _ lt <<<"$RESULT"
        delete_half; read -r ret secs <<<"$RESULT"
        drop_device
        measure "$cand" "$alg" "$RRDS"; read -r rp _ _ <<<"$RESULT"
        drop_device
        printf "%-20s %-8s %9d.%d %9d.%d %8s %10s%% %2ss\n" "$cand" "$alg" $((lp / 10)) $((lp % 10)) $((rp / 10)) $((rp % 10)) "$lt" "$ret" "$secs"
    done
done
printf "data: logs %s bytes in %s files, rrd %s bytes in %s files; RAM%% = mem_used_total / data size\n" \
    "$LOGS_SIZE" "$(find "$LOGS" -type f | wc -l)" "$RRDS_SIZE" "$RRD_FILES"

(( TIMES )) || exit 0
ASD=${ASD_BINARY:-}
for candidate in "$(dirname "$0")/../../.build/release/asd" "$(dirname "$0")/../../.build/debug/asd"; do
    [[ -z $ASD && -x $candidate ]] && ASD=$candidate
done
[[ -n $ASD ]] || { echo "zram.sh --times: build asd first (make) or set ASD_BINARY" >&2; exit 1; }
ASD_NEW=$ASD
mkdir -p "$WORK/vol" "$WORK/run" "$WORK/targets" "$WORK/mnt"
mount -t tmpfs -o size=$(( SCALE > 2 ? SCALE / 2 : 1 ))g,mode=1777 asd-bench "$WORK/vol"
# The daemon file, its config snapshot and records on a tmpfs, as /run is: their fsyncs
# cost nothing there, as on a real system (on the disk they would add to both modes).
mount -t tmpfs -o size=16m,mode=0755 asd-bench-run "$WORK/run"
export ASDCONF=$WORK/asd.conf DAEMON_FILE=$WORK/run/asd
now() { date +%s%N; }
since() { echo $(( ($(now) - $1) / 1000000 )); }
seconds() { local t0; t0=$(now); "$@" >/dev/null; since "$t0"; }
median() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
least() { tr ' ' '\n' <<<"$*" | grep . | sort -n | head -n1; }
printf "\nload average before: %s\n" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "data: %s copies of each set, USE_BACKUPS=%s%s\n" "$SCALE" "$BACKUPS" "${BASELINE:+, baseline (base) $BASELINE}"
printf "%-6s %5s %10s %10s %10s %12s\n" mode run "sync ms" "resync ms" "unsync ms" "RAM (parse)"
MODES="tmpfs zram${BASELINE:+ base}"
declare -A T
# tmpfs and zram runs alternate, so that a busy moment of the machine hits both alike,
# and their order turns each run: the run after a tmpfs one was seen 15-50 ms slower.
read -ra ORDER <<<"$MODES"
for run in $(seq "$RUNS"); do
    for k in "${!ORDER[@]}"; do
        mode=${ORDER[(k + run - 1) % ${#ORDER[@]}]}
        rm -rf "$WORK/targets"; mkdir -p "$WORK/targets/logs" "$WORK/targets/rrd"
        if (( SCALE == 1 )); then cp -a "$LOGS/." "$WORK/targets/logs/"; cp -a "$RRDS/." "$WORK/targets/rrd/"
        else for k in $(seq "$SCALE"); do cp -a "$LOGS" "$WORK/targets/logs/$k"; cp -a "$RRDS" "$WORK/targets/rrd/$k"; done; fi
        printf 'WHATTOSYNC=(%s %s)\nVOLATILE=%s\nUSE_BACKUPS=%s\nUSE_ZRAM=%s\n' "$WORK/targets/logs" "$WORK/targets/rrd" \
            "$WORK/vol" "$BACKUPS" "$([[ $mode != tmpfs ]] && echo yes || echo no)" > "$ASDCONF"
        sync; sleep 1  # the copy just made is flushed, so its writeback does not run during the timed sync
        ASD=$([[ $mode == base ]] && echo "$BASELINE" || echo "$ASD_NEW")
        s=$(seconds "$ASD" sync)
        find "$WORK/targets/logs" -type f | sort | awk "NR <= 20" | while read -r f; do head -c 100000 "$f" >> "$f"; done
        r=$(seconds "$ASD" resync)
        sync  # data still in the page cache is not on the device yet
        ram=$("$ASD" parse --json | python3 -c 'import json,sys; r=json.load(sys.stdin); z=r["zram"]; print(z["ramBytes"] if z else sum(t["ramBytes"] or 0 for t in r["targets"]))')
        u=$(seconds "$ASD" unsync)
        printf "%-6s %5s %10s %10s %10s %12s\n" "$mode" "$run" "$s" "$r" "$u" "$ram"
        T[$mode.sync]+=" $s"; T[$mode.resync]+=" $r"; T[$mode.unsync]+=" $u"
    done
done
printf "load average after: %s\nmedians of %s runs (and the fastest run of each, least disturbed by the load):\n" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$RUNS"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b / (a ? a : 1) }'; }
for step in sync resync unsync; do
    a=$(median "${T[tmpfs.$step]}"); b=$(median "${T[zram.$step]}")
    printf "  %-7s tmpfs %5s ms  zram %5s ms  ratio %s" "$step" "$a" "$b" "$(ratio "$a" "$b")"
    [[ -n $BASELINE ]] && printf "  (base %5s ms, ratio %s)" "$(median "${T[base.$step]}")" "$(ratio "$a" "$(median "${T[base.$step]}")")"
    a=$(least "${T[tmpfs.$step]}"); b=$(least "${T[zram.$step]}")
    printf "; fastest: tmpfs %s zram %s ms, %s" "$a" "$b" "$(ratio "$a" "$b")"
    [[ -n $BASELINE ]] && printf " (base %s ms, %s)" "$(least "${T[base.$step]}")" "$(ratio "$a" "$(least "${T[base.$step]}")")"
    printf "\n"
done
ASD=$ASD_NEW
# What the device costs by itself, the steps asd takes, as asd would size it (VOLATILE's free space).
size=$(( $(df -B1 --output=avail "$WORK/vol" | tail -n1) / 4096 * 4096 ))
fs=ext4; command -v mkfs.btrfs >/dev/null && (( size >= 256 << 20 )) && fs=btrfs
declare -A P
for run in $(seq "$RUNS"); do
    t=$(now); DEV=$(cat /sys/class/zram-control/hot_add); echo "$size" > "/sys/block/zram$DEV/disksize"; P[add]+=" $(since "$t")"
    t=$(now)
    if [[ $fs == btrfs ]]; then mkfs.btrfs -q -f -K -n 4096 -m single -d single "/dev/zram$DEV" >/dev/null
    else mkfs.ext4 -q -F -O ^has_journal -m 0 -E nodiscard,lazy_itable_init=0 "/dev/zram$DEV"; fi
    P[mkfs]+=" $(since "$t")"
    opts=discard; [[ $fs == btrfs ]] && opts=discard=sync,compress-force=zstd:1,max_inline=2048
    t=$(now); mount -t "$fs" -o "$opts" "/dev/zram$DEV" "$WORK/mnt"; P[mount]+=" $(since "$t")"
    t=$(now); umount "$WORK/mnt"; P[umount]+=" $(since "$t")"
    t=$(now); drop_device; P[remove]+=" $(since "$t")"
done
printf "zram set-up alone (%s, %s bytes; medians of %s): hot_add+disksize %s ms, mkfs %s ms, mount %s ms; umount %s ms, reset+hot_remove %s ms\n" \
    "$fs" "$size" "$RUNS" "$(median "${P[add]}")" "$(median "${P[mkfs]}")" "$(median "${P[mount]}")" "$(median "${P[umount]}")" "$(median "${P[remove]}")"
umount "$WORK/vol" "$WORK/run"
