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

if [[ ${1:-} == --inner ]]; then
    # shellcheck source=inner.sh
    source "$HERE/inner.sh"
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
