import Testing
import ASDTestSupport

/// Bash functions the `asd watch` scenarios share (doc/DESIGN.md §12). Every
/// wait is a bounded poll on the state it waits for, never a fixed sleep.
enum WatchSupport {
    static let functions = #"""
        # watch_start SOURCE [WRAPPER...]: starts the watcher in the background (its
        # pid in $OUT/watch.pid) and waits for its first write-back (what changed
        # before it ran), which ends with the write-back record.
        watch_start() {
            local source=$1 i; shift
            rm -f "$DAEMON_FILE.last-writeback"
            ASD_WATCH_SOURCE=$source "$@" "$ASD_BIN" watch >>"$OUT/watch.log" 2>&1 &
            echo $! >"$OUT/watch.pid"
            trap 'kill -KILL $(cat "$OUT/watch.pid") 2>/dev/null || true' EXIT
            for i in $(seq 1200); do [ -e "$DAEMON_FILE.last-writeback" ] && return 0; sleep 0.05; done
            echo "the watcher's first write-back did not happen within 60 s" >&2
            cat "$OUT/watch.log" >&2
            return 1
        }
        # watch_stop: SIGTERM, then its exit status must be 0.
        watch_stop() {
            local pid status=0
            pid=$(cat "$OUT/watch.pid")
            kill -TERM "$pid"
            poll_until 120 eval '! kill -0 "$pid" 2>/dev/null' || { kill -KILL "$pid"; return 1; }
            wait "$pid" || status=$?
            [ "$status" = 0 ] || { echo "the watcher exited with $status" >&2; cat "$OUT/watch.log" >&2; return 1; }
        }
        # tree_state DIR: type, mode, owner, mtime, link target and content (files)
        # of every entry but the running marker, sorted (directory sizes differ
        # between file systems).
        tree_state() {
            (
                cd -- "$1" || exit 1
                find . -path ./.flagged -prune -o -printf '%y %m %U %G %T@ %p -> %l\n' | sort
                find . -type f ! -path ./.flagged -print0 | sort -z | xargs -0r sha256sum
            )
        }
        # wait_on_disk TARGET DISK_COPY [LABEL]: polls (at most 60 s) until the disk
        # copy equals what the target shows; notes how long that took.
        wait_on_disk() {
            local i start=$(date +%s.%N)
            for i in $(seq 600); do
                if [ "$(tree_state "$1")" == "$(tree_state "$2")" ]; then
                    awk -v a="$start" -v b="$(date +%s.%N)" -v l="${3:-wait}" 'BEGIN { printf "%s %.2f\n", l, b - a }' >>"$OUT/latency"
                    return 0
                fi
                sleep 0.1
            done
            echo "$2 did not become equal to $1 within 60 s:" >&2
            diff <(tree_state "$1") <(tree_state "$2") >&2
            cat "$OUT/watch.log" >&2
            return 1
        }
        # poll_until SECONDS COMMAND...: bounded poll on a condition.
        poll_until() {
            local limit=$1 i; shift
            for i in $(seq $((limit * 20))); do "$@" && return 0; sleep 0.05; done
            echo "timed out after $limit s waiting for: $*" >&2
            return 1
        }
        # wait_held_child TRACER [NUMBER...]: polls until the watcher under strace (pid
        # TRACER) has a write-back child inside one of the system calls NUMBER (default
        # syncfs(2)), held there by strace's delay; sets $asd_pid (the watcher) and $child.
        wait_held_child() {
            local tracer=$1 numbers=" ${*:2} "
            [ "$numbers" != "  " ] || numbers=" \#(syncfsNumber) "
            asd_pid="" child=""
            until [ -n "$child" ] && [[ $numbers == *" $(cut -d' ' -f1 /proc/$child/syscall 2>/dev/null) "* ]]; do
                asd_pid=$(pgrep -P $tracer -x asd || true)
                child=$([ -n "$asd_pid" ] && pgrep -P $asd_pid -x asd || true)
                kill -0 $tracer
                sleep 0.01
            done
        }
        # no_leftovers TARGET_PARENT BASE: no staging mount, temp directory or capture.
        no_leftovers() {
            ! mountpoint -q "$DAEMON_FILE.stage" || { echo "staging mount left" >&2; return 1; }
            [ ! -e "$1/.$2-backup_asd-tmp" ] || { echo "temp directory left" >&2; return 1; }
            ! ls -A "$VOLATILE" | grep -q '^\.capture-' || { echo "capture left" >&2; return 1; }
        }
        """#

    /// strace, which holds a write-back inside a system call (a test without it fails).
    static func strace() throws -> String {
        guard let path = Executable.find("strace") else {
            throw HarnessError("strace is needed to hold the write-back; install it (apt-get install strace).")
        }
        return path
    }

    /// exit_group(2)'s number, as /proc/PID/syscall shows it.
    static var exitGroupNumber: Int {
        #if arch(x86_64)
        return 231
        #elseif arch(arm64)
        return 94
        #else
        return -1
        #endif
    }

    /// syncfs(2)'s number, as /proc/PID/syscall shows it.
    static var syncfsNumber: Int {
        #if arch(x86_64)
        return 306
        #elseif arch(arm64)
        return 267
        #else
        return -1
        #endif
    }
}
