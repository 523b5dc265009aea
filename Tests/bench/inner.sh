# The inner part of Tests/bench/run.sh, sourced by it inside the private mount
# namespace (`run.sh --inner`): the measured sync/resync/unsync cycles.
# shellcheck shell=bash
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
