#!/usr/bin/env bash
# Consistent write-back: what it costs (doc/DESIGN.md, "Consistent write-back").
#
#   sudo Tests/bench/consistency.sh [--baseline /path/to/older/asd] [--seconds N] [--runs N] [--only idle|live]
#
# Prints, for asd (ASD_BINARY, default .build/release/asd, built with `make` when
# missing) and optionally a baseline binary:
#  - idle target: median resync time (and CPU time) of a 20,000-file tree with nothing
#    changed, its files modified just before the sync and (second figure) an hour before;
#  - live SQLite writer (Tests/writers/bank.py, WAL, a 64 KiB blob rewritten per commit,
#    about 10 MiB/s; a resync each time it has written CHANGE_MIB, default 10): the
#    writer's longest commit alone and with the resyncs, the change set per resync, the
#    resync times, and (ours) how long the writers were stopped and how many bytes the
#    capture copied into RAM.
# Runs inside a private mount namespace with its own tmpfs on /run and VOLATILE; the
# disk side is /var/tmp/asd-consistency-XXXXXX. Nothing is mounted on the host.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BASELINE=${BASELINE:-} SECONDS_LIVE=${SECONDS_LIVE:-10} RUNS=${RUNS:-5} CHANGE_MIB=${CHANGE_MIB:-10} ONLY=${ONLY:-}
while [[ $# -gt 0 ]]; do
    case $1 in
        --baseline) BASELINE=$2; shift 2 ;;
        --seconds) SECONDS_LIVE=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        *) echo "usage: $0 [--baseline ASD] [--seconds N] [--runs N] [--only idle|live]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) == 0 ]] || { echo "consistency.sh: run as root" >&2; exit 1; }
ASD=${ASD_BINARY:-$REPO/.build/release/asd}
[[ -x $ASD ]] || make -C "$REPO" build >&2

if [[ ${1:-} != --inner ]] && [[ -z ${CONSISTENCY_INNER:-} ]]; then
    WORK=$(mktemp -d /var/tmp/asd-consistency-XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
    export WORK ASD BASELINE SECONDS_LIVE RUNS CHANGE_MIB ONLY REPO CONSISTENCY_INNER=1
    unshare -m --propagation private -- "$0"
    exit
fi

mount -t tmpfs -o size=64m tmpfs /run
BANK=$REPO/Tests/writers/bank.py
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

# setup NAME BINARY: a fresh target, config and tmpfs VOLATILE (512 MiB).
setup() {
    local dir=$WORK/$1
    umount -R "$dir/volatile" 2>/dev/null || true
    rm -rf "$dir"; mkdir -p "$dir/data/t" "$dir/volatile" "$dir/run"
    mount -t tmpfs -o size=512m tmpfs "$dir/volatile"
    printf 'WHATTOSYNC=("%s")\nVOLATILE="%s"\nUSE_BACKUPS="no"\n' "$dir/data/t" "$dir/volatile" >"$dir/asd.conf"
    export ASDCONF=$dir/asd.conf DAEMON_FILE=$dir/run/asd
}

# idle BINARY AGE: median ms of a resync with nothing changed, wall (CPU: user +
# system, less sensitive to other load on the machine); every file and
# directory was last modified AGE seconds ago (0: just now, as right after a burst
# of changes; 3600: a target idle since the previous hourly resync).
idle() {
    setup idle
    python3 - "$WORK/idle/data/t" "$2" <<'PY'
import os, sys, time
root, age = sys.argv[1], int(sys.argv[2])
for d in range(100):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
    for f in range(200):
        with open(f"{root}/d{d}/f{f}", "wb") as out:
            out.write(os.urandom((d * 200 + f) % 8192))
if age:
    then = time.time() - age
    for d in range(100):
        for f in range(200):
            os.utime(f"{root}/d{d}/f{f}", (then, then))
        os.utime(f"{root}/d{d}", (then, then))
    os.utime(root, (then, then))
PY
    # utime sets every ctime to now: let them age past the 10 s margin within which
    # asd counts a file as changed since the last write-back.
    [[ $2 == 0 ]] || sleep 11
    "$1" sync >/dev/null; "$1" resync >/dev/null
    local TIMEFORMAT='%R %U %S'
    for _ in $(seq "$RUNS"); do
        { time "$1" resync >/dev/null; } 2>&1 | awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}'
    done >"$WORK/idle-times"
    echo "$(cut -d' ' -f1 "$WORK/idle-times" | median) ($(cut -d' ' -f2 "$WORK/idle-times" | median))"
    "$1" unsync >/dev/null; umount "$WORK/idle/volatile"
}

# live BINARY: a SQLite writer (WAL) that also rewrites a 64 KiB blob per commit and
# pauses BANK_PAUSE (default 5 ms) after each, about 10 MiB/s; alone for
# SECONDS_LIVE, then again while asd resyncs each time the writer has written
# another CHANGE_MIB (default 10) since the last resync began (wchar in
# /proc/PID/io: the bytes it handed to write(2)). Prints the longest commit alone
# and with resyncs, the resyncs, the mean change set per resync, the median resync
# time, the longest stop and the most bytes a capture copied.
live() {
    setup live
    local t=$WORK/live/data/t
    export BANK_BLOB=65536 BANK_PAUSE=${BANK_PAUSE:-0.005}
    python3 "$BANK" run "$t/bank.db" wal "$WORK/alone" "$SECONDS_LIVE" 2>/dev/null &
    wait $!
    "$1" sync >/dev/null
    python3 "$BANK" run "$t/bank.db" wal "$WORK/with" "$SECONDS_LIVE" & local writer=$!
    : >"$WORK/resyncs"; : >"$WORK/debug"
    local first last now
    first=$(awk '/^wchar/ {print $2}' /proc/$writer/io); last=$first
    while kill -0 $writer 2>/dev/null; do
        now=$(awk '/^wchar/ {print $2}' /proc/$writer/io 2>/dev/null) || break
        if (( now - last < CHANGE_MIB * 1048576 )); then sleep 0.01; continue; fi
        last=$now
        s=$(date +%s%N); DEBUG=1 "$1" resync >>"$WORK/debug" 2>&1; e=$(date +%s%N); ms "$s" "$e" >>"$WORK/resyncs"
    done
    wait $writer
    "$1" unsync >/dev/null; umount "$WORK/live/volatile"
    local stop bytes count
    stop=$(grep -o 'stopped for [0-9]* µs' "$WORK/debug" | awk '{print $3}' | sort -n | tail -1)
    bytes=$(grep -o '[0-9]* bytes copied' "$WORK/debug" | awk '{print $1}' | sort -n | tail -1)
    count=$(wc -l <"$WORK/resyncs")
    printf '%s | %s | %s | %s | %s | %s | %s\n' \
        "$(awk '/longest_ms/ {print $2}' "$WORK/alone")" "$(awk '/longest_ms/ {print $2}' "$WORK/with")" \
        "$count" "$(( count ? (last - first) / count / 1048576 : 0 ))" "$(median <"$WORK/resyncs")" \
        "$(( ${stop:-0} / 1000 ))" "$(( ${bytes:-0} / 1048576 ))"
}

echo "| binary | idle resync ms (CPU ms), just changed / idle 1 h (median of $RUNS) | longest commit alone ms | longest commit with resyncs ms | resyncs in ${SECONDS_LIVE}s | change set per resync MiB | resync ms (median) | longest stop ms | capture MiB (max) |"
echo "|---|---|---|---|---|---|---|---|---|"
for bin in "$ASD" ${BASELINE:+"$BASELINE"}; do
    idle_ms="-"; [[ $ONLY == live ]] || idle_ms="$(idle "$bin" 0) / $(idle "$bin" 3600)"
    live_figures="- | - | - | - | - | - | -"; [[ $ONLY == idle ]] || live_figures=$(live "$bin")
    echo "| $(basename "$(dirname "$(dirname "$bin")")")/$(basename "$bin") | $idle_ms | $live_figures |"
done
