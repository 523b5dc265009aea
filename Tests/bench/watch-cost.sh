#!/usr/bin/env bash
# CPU and memory of `asd watch` (doc/DESIGN.md §12), from /proc/PID/stat and status.
#
#   sudo Tests/bench/watch-cost.sh idle [--seconds 600] [--source fanotify|inotify]
#   sudo Tests/bench/watch-cost.sh busy [--minutes 5] [--files 100000] [--source ...] [--no-holder]
#
# idle: a target of 2,000 files that nothing changes; after the watcher's first
#       write-back, its CPU time (utime + stime) and wake-ups (voluntary context
#       switches) over --seconds, and the CPU per hour that makes.
# busy: a target of --files small files; every minute 1% of them are rewritten
#       (RESYNC_DELAY=10): CPU per write-back (the watcher and its children), the
#       number of write-backs, and peak RSS (VmHWM) of the watcher and of its
#       write-back children. A process keeps a file below the target open, as a
#       browser or daemon would, so every write-back takes the capture path
#       (doc/DESIGN.md §6.5); --no-holder leaves it out (the direct path).
# Inside a private mount namespace; VOLATILE is a tmpfs, the target on /var/tmp.
# Environment: ASD_BINARY (else .build/release/asd, built by `make`).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ASD=${ASD_BINARY:-$HERE/../../.build/release/asd}
die() { printf 'watch-cost.sh: %s\n' "$*" >&2; exit 1; }

if [[ ${1:-} != --inner ]]; then
    [[ $(id -u) == 0 ]] || die "run as root"
    [[ -x $ASD ]] || die "no asd binary at $ASD (run make)"
    exec unshare -m --propagation private "$0" --inner "$@"
fi
shift
MODE=${1:-idle}; shift || true
SECONDS_IDLE=600 MINUTES=5 FILES=100000 SOURCE= HOLDER=yes HOLDING=
while (($#)); do
    case $1 in
    --seconds) SECONDS_IDLE=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --source) SOURCE=$2; shift 2 ;;
    --no-holder) HOLDER=no; shift ;;
    *) die "unknown option $1" ;;
    esac
done
WORK=$(mktemp -d /var/tmp/asd-watch-cost-XXXXXX)
trap 'kill $WATCHER $HOLDING 2>/dev/null; wait 2>/dev/null; "$ASD" unsync >/dev/null 2>&1; umount "$WORK/vol" "$WORK/run" 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/t" "$WORK/vol" "$WORK/run"
mount -t tmpfs -o size=2g cost-vol "$WORK/vol" && mount -t tmpfs cost-run "$WORK/run" || die "cannot mount tmpfs"
clock_ticks=$(getconf CLK_TCK)
cpu() { awk -v hz="$clock_ticks" '{ printf "%.3f", ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat"; }
own_cpu() { awk -v hz="$clock_ticks" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
status_field() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
# Wake-ups of every thread: voluntary and involuntary context switches.
wakeups() { cat /proc/$1/task/*/status | awk '/ctxt_switches:/ { s += $2 } END { print s + 0 }'; }

count=$([[ $MODE == busy ]] && echo "$FILES" || echo 2000)
python3 - "$WORK/t" "$count" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    d = os.path.join(root, "d%03d" % (i % 1000))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%d" % i), "wb") as f:
        f.write(os.urandom(512 + i % 1536))
PY
delay=$([[ $MODE == busy ]] && echo 10 || echo 60)
printf 'WHATTOSYNC=(%q)\nVOLATILE=%q\nRESYNC_DELAY=%s\nUSE_BACKUPS=no\n' "$WORK/t" "$WORK/vol" "$delay" >"$WORK/asd.conf"
export ASDCONF=$WORK/asd.conf DAEMON_FILE=$WORK/run/asd
"$ASD" sync >/dev/null || die "sync failed"
if [[ $MODE == busy && $HOLDER == yes ]]; then
    sleep 100000 <"$WORK/t/d000/f0" &
    HOLDING=$!
fi
ASD_WATCH_SOURCE=$SOURCE "$ASD" watch >"$WORK/watch.log" 2>&1 &
WATCHER=$!
until [[ -e $DAEMON_FILE.last-writeback ]]; do sleep 1; done
sleep 30   # the first write-back's worker threads end
source_used=$(grep -o '(fanotify)\|(inotify)\|(scan)' "$WORK/watch.log" | head -1)
c0=$(cpu $WATCHER) o0=$(own_cpu $WATCHER) w0=$(wakeups $WATCHER)
# The write-back children's peak: their VmHWM, sampled every 50 ms while they live
# (VmHWM only grows, so a sample late in a child's life holds its peak).
(max=0; while kill -0 $WATCHER 2>/dev/null; do
    for child in $(pgrep -P $WATCHER); do
        hwm=$(status_field "$child" VmHWM)
        [[ -n $hwm ]] && ((hwm > max)) && { max=$hwm; echo "$max" >"$WORK/child-hwm"; }
    done
    sleep 0.05
done) &
if [[ $MODE == idle ]]; then
    sleep "$SECONDS_IDLE"
    c1=$(cpu $WATCHER) w1=$(wakeups $WATCHER) threads=$(ls /proc/$WATCHER/task | wc -l)
    awk -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" -v s="$SECONDS_IDLE" -v w=$((w1 - w0)) -v src="$source_used" \
        -v th="$threads" -v rss="$(status_field $WATCHER VmRSS)" \
        'BEGIN { printf "idle %s: %.3f s CPU in %d s (%.3f s/hour), %d wake-ups (all %d threads), RSS %.1f MiB\n", src, c, s, c * 3600 / s, w, th, rss / 1024 }'
else
    for ((minute = 1; minute <= MINUTES; minute++)); do
        python3 - "$WORK/t" "$FILES" "$minute" <<'PY'
import os, random, sys
root, count, rnd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(rnd)
for i in rng.sample(range(count), count // 100):
    with open(os.path.join(root, "d%03d" % (i % 1000), "f%d" % i), "r+b") as f:
        f.write(os.urandom(64))
PY
        sleep 60
    done
    sleep 20
    c1=$(cpu $WATCHER) o1=$(own_cpu $WATCHER) child_hwm=$(cat "$WORK/child-hwm" 2>/dev/null || echo 0)
    writebacks=$(awk '$1 == "v1" { s += $6 } END { print s + 0 }' "$DAEMON_FILE.metrics")
    awk -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" -v n="$writebacks" -v rss="$(status_field $WATCHER VmHWM)" -v now="$(status_field $WATCHER VmRSS)" \
        -v files="$FILES" -v src="$source_used" -v child="$child_hwm" -v holder="$HOLDER" -v own="$(awk -v a="$o0" -v b="$o1" 'BEGIN { print b - a }')" \
        'BEGIN { printf "busy %s, a file held open: %s, %d files, 1%% changed per minute: %.3f s CPU for %d write-backs, %.3f s per write-back (%.3f s of it in the watcher itself), peak RSS %.1f MiB (write-back child %.1f MiB), RSS between write-backs %.1f MiB\n", src, holder, files, c, n - 1, c / (n > 1 ? n - 1 : 1), own / (n > 1 ? n - 1 : 1), rss / 1024, child / 1024, now / 1024 }'
    # For comparison: asd resync alone, after the same change, and its peak RSS.
    kill -TERM $WATCHER; wait $WATCHER
    python3 - "$WORK/t" "$FILES" 99 <<'PY'
import os, random, sys
root, count, rnd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in random.Random(rnd).sample(range(count), count // 100):
    with open(os.path.join(root, "d%03d" % (i % 1000), "f%d" % i), "r+b") as f:
        f.write(os.urandom(64))
PY
    python3 -c 'import resource, subprocess, sys, time
t = time.time(); subprocess.run([sys.argv[1], "resync"], stdout=subprocess.DEVNULL, check=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("asd resync alone, same change: %.3f s CPU, %.1f s, peak RSS %.1f MiB" % (u.ru_utime + u.ru_stime, time.time() - t, u.ru_maxrss / 1024))' "$ASD"
fi
