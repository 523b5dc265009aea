#!/usr/bin/env bash
# Benchmark asd (and optionally upstream's anything-sync-daemon) on reproducible trees.
#
#   sudo Tests/bench/run.sh [--upstream /path/to/anything-sync-daemon] [--runs N] [--quick]
#
# --upstream PATH  also measure that executable (e.g. upstream's bash script with
#                  @VERSION@ substituted), interleaved with ours, and print ratios.
# --runs N         runs per measure; the table shows medians (default 5).
# --quick          1 run on small trees: a smoke test of the script itself.
# --only ours|rsync|upstream   measure just one of them ("ours" is the built-in
#                  copier, "rsync" the same binary with USE_RSYNC=yes).
# --no-rsync       do not measure the USE_RSYNC engine.
# --keep           keep the work directory (/var/tmp/asd-bench-*) for inspection.
#
# Environment: ASD_BINARY=/path/to/asd skips `make build`.
#
# Everything that mounts runs inside a private mount namespace (unshare -m
# --propagation private) with its own tmpfs on /run and on VOLATILE; the disk side
# lives in /var/tmp/asd-bench-XXXXXX on the root filesystem so that write-back costs
# are real. The host's /etc/asd.conf and /run/asd are never used. Progress goes to
# stderr, the table to stdout.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3)
BENCH_PY="$HERE/bench.py"

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# ---------------------------------------------------------------- inner part
# Runs inside the private mount namespace; BENCH, RUNS, IMPLS, ... come from the
# environment set by the outer part below.
inner() {
    mount -t tmpfs -o size=64m,mode=0755 asd-bench-run /run || die "cannot mount tmpfs on /run in the namespace"
    mkdir -p /run/bench-daemon "$BENCH/volatile"
    local run scen impl
    for ((run = 1; run <= RUNS; run++)); do
        for scen in A-full A-overlay B-full B-overlay; do
            for impl in $IMPLS; do
                cycle "$impl" "$scen" "$run"
            done
        done
    done
    reset_state A-full
}

# Unmount everything below $BENCH (deepest first, repeated for stacked mounts).
unmount_all() {
    local i mp
    for ((i = 0; i < 10; i++)); do
        mapfile -t mps < <(awk -v b="$BENCH/" 'index($5, b) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
        ((${#mps[@]} == 0)) && return 0
        for mp in "${mps[@]}"; do umount -l "$mp" 2>/dev/null; done
    done
    say "  warning: could not unmount everything below $BENCH"
}

# Bring the namespace and the disk tree of a scenario back to the pristine state.
reset_state() {
    local scen=$1 t=${1%%-*}
    unmount_all
    mount -t tmpfs -o "size=$VOLSIZE,mode=0755" asd-bench-volatile "$BENCH/volatile" || die "cannot mount VOLATILE tmpfs"
    rm -rf /run/bench-daemon/* /run/asd-*
    # Leftovers of a failed run next to the target (disk copy, snapshot, archives).
    find "$BENCH/disk/$t" -mindepth 1 -maxdepth 1 ! -name tree -exec rm -rf {} + 2>/dev/null
    rsync -a --delete "$BENCH/pristine/$t/" "$BENCH/disk/$t/tree/" || die "cannot reset tree $t"
}

dev_bytes_written() {
    [[ -n $DEVSTAT ]] || { echo -; return; }
    awk '{ printf "%.0f\n", $7 * 512 }' "$DEVSTAT"
}

# timed IMPL SCEN OP RUN WEAR -> appends a TSV line to results; sets LAST_STATUS.
timed() {
    local impl=$1 scen=$2 op=$3 run=$4 wear=$5 bin conf line code sec maxrss hwm wb cpu dev0 dev1 devb=-
    conf="$BENCH/conf/$scen.conf"
    [[ $impl == rsync ]] && conf="$BENCH/conf/$scen-rsync.conf"
    if [[ $impl == upstream ]]; then bin=$UPSTREAM; else bin=$OURS; fi
    local log="$BENCH/logs/$impl-$scen-$op-$run.log"
    sync
    [[ $wear == 1 ]] && dev0=$(dev_bytes_written)
    line=$(TERM=${TERM:-xterm} "$PY" "$BENCH_PY" measure --timeout "$OP_TIMEOUT" --log "$log" -- \
        env ASDCONF="$conf" DAEMON_FILE="/run/bench-daemon/$scen" "$bin" "$op")
    IFS=$'\t' read -r code sec maxrss hwm wb cpu <<<"$line"
    if [[ $wear == 1 ]]; then
        sync
        dev1=$(dev_bytes_written)
        [[ $dev0 =~ ^[0-9]+$ && $dev1 =~ ^[0-9]+$ ]] && devb=$((dev1 - dev0))
    fi
    LAST_SEC=$sec
    if [[ $code == 0 ]]; then
        LAST_STATUS=ok
    else
        LAST_STATUS=fail
        say "  FAILED: $impl $op ($scen, run $run) exited with status $code; last lines of $log:"
        tail -n 5 "$log" | sed 's/^/    | /' >&2
        ((KEEP)) || say "    (rerun with --keep to keep the logs)"
    fi
    LAST_LINE="$impl	$scen	$op	$run	STATUS	$sec	$maxrss	$hwm	$wb	$devb	$cpu"
}

record() { # record STATUS (after optional post-checks)
    printf '%s\n' "${LAST_LINE/STATUS/$1}" >>"$BENCH/results.tsv"
}

check_fail() {
    say "  FAILED: $*"
    LAST_STATUS=fail
}

cycle() {
    local impl=$1 scen=$2 run=$3 t=${2%%-*} tree backup progress
    tree="$BENCH/disk/$t/tree"
    backup="$BENCH/disk/$t/.tree-backup_asd"
    progress="run $run/$RUNS $scen $impl:"
    say "$(date +%T) $progress resetting tree"
    reset_state "$scen"

    if [[ $scen == A-full ]]; then
        timed "$impl" "$scen" parse "$run" 0
        record "$LAST_STATUS"
        progress+=" parse ${LAST_SEC}s"
    fi

    timed "$impl" "$scen" sync "$run" 0
    if [[ $LAST_STATUS == ok ]]; then
        mountpoint -q "$tree" || check_fail "$impl sync ($scen): $tree is not a mount point afterwards"
        [[ -d $backup ]] || check_fail "$impl sync ($scen): no disk copy $backup afterwards"
    fi
    record "$LAST_STATUS"
    progress+=" sync ${LAST_SEC}s"
    if [[ $LAST_STATUS != ok ]]; then
        say "  $impl $scen: sync failed, skipping resync/unsync of this cycle"
        printf '%s\t%s\t%s\t%s\tskipped\n' "$impl" "$scen" resync "$run" "$impl" "$scen" unsync "$run" >>"$BENCH/results.tsv"
        say "$progress"
        return
    fi

    "$PY" "$BENCH_PY" mutate --root "$tree" --seed 1001 --fraction 0.01 --manifest "$BENCH/m1.json" >/dev/null ||
        die "cannot change files in $tree"
    timed "$impl" "$scen" resync "$run" 1
    if [[ $LAST_STATUS == ok ]]; then
        msg=$("$PY" "$BENCH_PY" verify --root "$backup" --manifest "$BENCH/m1.json") ||
            check_fail "$impl resync ($scen) did not write the changes back: $msg"
    fi
    record "$LAST_STATUS"
    progress+=" resync ${LAST_SEC}s"

    "$PY" "$BENCH_PY" mutate --root "$tree" --seed 1002 --fraction 0.01 --manifest "$BENCH/m2.json" \
        --exclude-manifest "$BENCH/m1.json" >/dev/null ||
        die "cannot change files in $tree"
    timed "$impl" "$scen" unsync "$run" 0
    if [[ $LAST_STATUS == ok ]]; then
        ! mountpoint -q "$tree" || check_fail "$impl unsync ($scen): $tree is still a mount point"
        [[ ! -e $backup ]] || check_fail "$impl unsync ($scen): $backup still exists"
        msg=$("$PY" "$BENCH_PY" verify --root "$tree" --manifest "$BENCH/m2.json") ||
            check_fail "$impl unsync ($scen) lost changes: $msg"
        msg=$("$PY" "$BENCH_PY" verify --root "$tree" --manifest "$BENCH/m1.json") ||
            check_fail "$impl unsync ($scen) lost earlier changes: $msg"
    fi
    record "$LAST_STATUS"
    progress+=" unsync ${LAST_SEC}s"
    say "$progress"
}

if [[ ${1:-} == --inner ]]; then
    inner
    exit 0
fi
# Never fall through into the outer part from the inner one (bash abandons a
# whole top-level command on some expansion errors).
[[ ${1:-} == --inner ]] && exit 1

# ---------------------------------------------------------------- outer part
UPSTREAM=""
RUNS=5
QUICK=0
KEEP=0
ONLY=""
NO_RSYNC=0
while (($#)); do
    case $1 in
        --upstream) UPSTREAM=${2:?--upstream needs a path}; shift 2 ;;
        --upstream=*) UPSTREAM=${1#*=}; shift ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --quick) QUICK=1; shift ;;
        --keep) KEEP=1; shift ;;
        --only) ONLY=${2:?--only needs ours, rsync or upstream}; shift 2 ;;
        --no-rsync) NO_RSYNC=1; shift ;;
        -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer, not '$RUNS'"
((QUICK)) && RUNS=1
((EUID == 0)) || die "must run as root (it mounts inside a private mount namespace): sudo $0 $*"
[[ -z $ONLY || $ONLY == ours || $ONLY == rsync || $ONLY == upstream ]] || die "--only takes 'ours', 'rsync' or 'upstream'"
[[ $ONLY == upstream && -z $UPSTREAM ]] && die "--only upstream needs --upstream PATH"

for tool in rsync tar zstd unshare findmnt mountpoint flock awk; do
    command -v "$tool" >/dev/null || die "needs '$tool' (apt-get install rsync tar zstd util-linux gawk)"
done
[[ -n $PY && -x $PY ]] || die "needs python3"

IMPLS=""
[[ -z $ONLY || $ONLY == ours ]] && IMPLS="ours"
[[ ( -z $ONLY && $NO_RSYNC == 0 ) || $ONLY == rsync ]] && IMPLS="$IMPLS rsync"
if [[ -n $UPSTREAM && $ONLY != ours ]]; then
    UPSTREAM=$(realpath -e "$UPSTREAM") || die "--upstream: no such file"
    [[ -x $UPSTREAM ]] || die "--upstream: $UPSTREAM is not executable"
    if ! command -v pv >/dev/null; then
        say "upstream needs pv; installing it"
        apt-get install -y -qq pv >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pv >/dev/null; } ||
            die "cannot install pv, which upstream's script requires"
    fi
    IMPLS="$IMPLS upstream"
fi

START=$SECONDS
OURS=""
if [[ $IMPLS == *ours* || $IMPLS == *rsync* ]]; then
    if [[ -n ${ASD_BINARY:-} ]]; then
        OURS=$(realpath -e "$ASD_BINARY") || die "ASD_BINARY=$ASD_BINARY does not exist"
    else
        # The binary `make install` ships: release, Swift stdlib linked statically.
        say "building release asd (make -C $REPO build)"
        if make -C "$REPO" build >&2; then
            OURS="$REPO/.build/release/asd"
        else
            say "run.sh: building asd FAILED; its measures are reported as failed"
        fi
    fi
    [[ -n $OURS ]] || OURS=/bin/false
fi

BENCH=$(mktemp -d /var/tmp/asd-bench-XXXXXX) || die "cannot create a work directory in /var/tmp"
cleanup() {
    if ((KEEP)); then
        say "work directory kept: $BENCH"
    else
        say "removing the work directory $BENCH"
        rm -rf "$BENCH"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
FSTYPE=$(findmnt -n -o FSTYPE -T "$BENCH")
[[ $FSTYPE == tmpfs ]] && say "warning: /var/tmp is tmpfs here, so write-back costs are not real disk costs"
DEVSTAT=""
src=$(findmnt -n -o SOURCE -T "$BENCH" | sed 's/\[.*//')
if [[ $src == /dev/* ]]; then
    kname=$(basename "$(realpath "$src")")
    [[ -r /sys/class/block/$kname/stat ]] && DEVSTAT=/sys/class/block/$kname/stat
fi

if ((QUICK)); then
    A_ARGS=(--files 2000 --dirs 20 --big-count 2 --big-size $((2 << 20)))
    B_ARGS=(--files 10000 --dirs 100)
    VOLSIZE=512m
else
    A_ARGS=(--files 20000 --dirs 100 --big-count 10 --big-size $((20 << 20)))
    B_ARGS=(--files 100000 --dirs 1000)
    VOLSIZE=3g
fi
mkdir -p "$BENCH"/{pristine,disk/A,disk/B,conf,logs}
say "generating trees in $BENCH (seeded, reproducible)"
"$PY" "$BENCH_PY" generate --root "$BENCH/pristine/A" --seed 42 "${A_ARGS[@]}" || die "cannot generate tree A"
"$PY" "$BENCH_PY" generate --root "$BENCH/pristine/B" --seed 43 "${B_ARGS[@]}" || die "cannot generate tree B"
for t in A B; do mkdir "$BENCH/disk/$t/tree"; done
for scen in A-full A-overlay B-full B-overlay; do
    overlay=no
    [[ $scen == *overlay ]] && overlay=yes
    cat >"$BENCH/conf/$scen.conf" <<EOF
# asd benchmark config ($scen)
WHATTOSYNC=('$BENCH/disk/${scen%%-*}/tree')
VOLATILE="$BENCH/volatile"
USE_OVERLAYFS="$overlay"
USE_BACKUPS="yes"
BACKUP_LIMIT=5
EOF
    sed 's/^# asd benchmark config .*/&, rsync engine/' "$BENCH/conf/$scen.conf" >"$BENCH/conf/$scen-rsync.conf"
    echo 'USE_RSYNC="always"' >>"$BENCH/conf/$scen-rsync.conf"
done
: >"$BENCH/results.tsv"
say "measuring: $IMPLS; $RUNS run(s); disk side on $FSTYPE ${DEVSTAT:+($DEVSTAT)}"

export KEEP BENCH RUNS IMPLS OURS UPSTREAM VOLSIZE DEVSTAT PY BENCH_PY OP_TIMEOUT=900
unshare -m --propagation private -- bash "$HERE/run.sh" --inner
rc=$?
((rc == 0)) || say "run.sh: the measuring part stopped early (status $rc); the table shows what was measured"

ELAPSED=$((SECONDS - START))
echo "asd benchmark: $RUNS run(s) per measure$( ((QUICK)) && echo ' (--quick: small trees)'), medians; $(nproc) CPUs; disk side: $FSTYPE; took ${ELAPSED}s"
[[ $IMPLS == *ours* || $IMPLS == *rsync* ]] && echo "ours: $OURS (the rsync column: USE_RSYNC=yes, $(rsync --version | head -n 1))"
[[ $IMPLS == *upstream* ]] && echo "upstream: $UPSTREAM"
echo
"$PY" "$BENCH_PY" report --results "$BENCH/results.tsv"
cat <<'EOF'

Notes:
- Times are wall-clock of the whole command, medians over the runs; runs of ours
  (built-in copier, then USE_RSYNC=yes) and upstream are interleaved, each on a
  freshly reset identical tree; `sync` is
  called before every timed command so earlier dirty pages are not charged to it.
  Page caches are not dropped (that is global and would disturb the machine), so
  both sides read a warm tree.
- Tree A: 20,000 files of 0-8 KiB in 100 dirs + 10 files of 20 MiB; tree B: 100,000
  files of 0-8 KiB in 1,000 dirs. "1% changed": the content of 1% of the non-empty
  small files is rewritten in place (same size, new bytes, new mtime), chosen by a
  fixed seed; unsync follows a second 1% change (disjoint from the first).
- parse is measured on tree A (full-mode config) before its sync, i.e. while not
  running; both sides walk the tree to report its size.
- After each resync the changed files are checked in the disk copy, after each
  unsync in the target; a command that exits 0 but fails these checks counts as failed.
- Wear (task I/O): write_bytes - cancelled_write_bytes from /proc/<pid>/io of the
  benchmark's wrapper after it has waited for the command, which the kernel sums
  over the whole process tree (rsync/tar children included); it counts the pages
  the commands dirtied on disk (file data, and the directory and inode blocks
  touched by creates, renames, deletes and metadata changes; tmpfs is excluded),
  but not the journal written later by the kernel's journal thread.
  Wear (device): sectors-written delta of the disk holding the work directory
  around the command, with `sync` before and after; it includes metadata and the
  journal, and also anything else writing to that disk meanwhile (noisy on a busy
  machine).
- upstream does not flush its writes; ours returns only after they are durable,
  so ours' resync/unsync times include the flush and upstream's do not.
- CPU time: user + system seconds of the command and all its descendants (from
  wait4); kernel threads (writeback, journal) are not included.
- Peak RSS: "process tree" is wait4's ru_maxrss (the largest single process among
  the command and its descendants, e.g. rsync for upstream); "asd process only" is
  VmHWM of the asd process itself, sampled every 5 ms (not meaningful for
  upstream's bash script). Both are the maximum over sync/resync/unsync on tree B.
EOF
exit 0
