/// The bash side of the harness: `lib.sh`, sourced by every scenario script (and by the
/// command of a power-loss step, which runs in its own bash). Expects SANDBOX, OUT,
/// ASD_BIN and ASD_VOLATILE_SIZE in the environment.
enum ScenarioLibrary {
    static let text = #"""
    # ASDIntegrationTests scenario library (generated; see ScenarioLibrary.swift).

    # Safety: refuse to do anything in the host's mount namespace.
    asd_require_private_namespace() {
        if [[ "$(readlink /proc/self/ns/mnt)" == "$(readlink /proc/1/ns/mnt)" ]]; then
            echo "asd-itest: not inside a private mount namespace; refusing to mount" >&2
            exit 99
        fi
    }

    # asd_fail STEP MESSAGE: record a failed expectation (the script goes on).
    asd_fail() {
        printf '%s\t%s\0' "$1" "$2" >>"$OUT/failures"
    }

    # asd_as LABEL ARGS...: run $ASD_BIN, record status/stdout/stderr under $OUT/asd/LABEL.
    # Never fails the script; a status file is missing only when the run was killed.
    asd_as() {
        local label=$1 rc=0
        shift
        "$ASD_BIN" "$@" >"$OUT/asd/$label.stdout" 2>"$OUT/asd/$label.stderr" || rc=$?
        echo "$rc" >"$OUT/asd/$label.status"
    }

    # asd ARGS...: like asd_as with an automatic label (asd-N); returns asd's status.
    asd() {
        local n
        n=$(find "$OUT/asd" -name 'asd-*.status' | wc -l)
        asd_as "asd-$((n + 1))" "$@"
        return "$(cat "$OUT/asd/asd-$((n + 1)).status")"
    }

    # asd_capture LABEL COMMAND: run bash COMMAND, record like asd_as.
    asd_capture() {
        local label=$1 rc=0
        (eval "$2") >"$OUT/asd/$label.stdout" 2>"$OUT/asd/$label.stderr" || rc=$?
        echo "$rc" >"$OUT/asd/$label.status"
    }

    # asd_manifest ROOT FILE: one NUL-separated record per entry of ROOT (ROOT included):
    # E path type mode uid gid size mtime links linktarget sha256 rdev xattrs.
    # Handles every byte but NUL in names (spaces, newlines, leading dashes, UTF-8).
    asd_manifest() {
        local root=$1 file=$2 kind mode uid gid size mtime links path target sha dev xattrs
        (
            cd -- "$root"
            find . -printf '%y %m %U %G %s %T@ %n\0%p\0%l\0' |
                while IFS=' ' read -r -d '' kind mode uid gid size mtime links &&
                    IFS= read -r -d '' path && IFS= read -r -d '' target; do
                    sha=-
                    dev=-
                    case $kind in
                    f) sha=$(sha256sum <"$path") && sha=${sha%% *} ;;
                    c | b) dev=$(stat -c '%t:%T' -- "$path") ;;
                    esac
                    xattrs=$(getfattr -h -d -m - -e hex --absolute-names -- "$path" 2>/dev/null || true)
                    printf 'E\0%s\0%s\0%s\0%s\0%s\0%s\0%s\0%s\0%s\0%s\0%s\0%s\0' \
                        "$path" "$kind" "$mode" "$uid" "$gid" "$size" "$mtime" "$links" \
                        "$target" "$sha" "$dev" "$xattrs"
                done
        ) >"$file"
    }

    asd_mount_tmpfs() { # asd_mount_tmpfs DIR [SIZE]
        mount -t tmpfs -o "mode=0755${2:+,size=$2}" asd-itest "$1"
    }

    # asd_reboot: what a reboot leaves: drop every mount under the sandbox (deepest
    # first), then fresh empty tmpfs on $VOLATILE, $SANDBOX/run and /run.
    asd_reboot() {
        local mnt
        findmnt -rn -o TARGET | while IFS= read -r mnt; do
            mnt=$(printf '%b' "$mnt")
            case $mnt in "$SANDBOX"/*) echo "$mnt" ;; esac
        done | sort -r | while IFS= read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
        umount -l /run
        asd_mount_tmpfs /run
        asd_mount_tmpfs "$SANDBOX/volatile" "$ASD_VOLATILE_SIZE"
        asd_mount_tmpfs "$SANDBOX/run"
    }

    # asd_powerloss STEP LABEL TRIGGER COMMAND STRICT: run COMMAND (bash) in a child PID
    # and mount namespace; as soon as the bash condition TRIGGER holds, SIGKILL it all,
    # then reboot. Output goes to $OUT/asd/LABEL.*, and LABEL.outcome says "killed" or
    # "finished" (the command ended first; a failed expectation when STRICT is 1).
    asd_powerloss() {
        local step=$1 label=$2 trigger=$3 command=$4 strict=$5 pid deadline outcome=killed
        local done="$OUT/asd/$label.done"
        # The command travels in the environment, so that `pgrep -f` triggers do not
        # match the command line of unshare or bash.
        ASD_POWERLOSS_COMMAND=$command unshare -m --propagation private -p -f --kill-child=SIGKILL \
            --mount-proc -- bash -Eeuo pipefail -c 'trap "touch \"$0\"" EXIT; source "$SANDBOX/lib.sh"
                eval "$ASD_POWERLOSS_COMMAND"' "$done" \
            >"$OUT/asd/$label.stdout" 2>"$OUT/asd/$label.stderr" &
        pid=$!
        deadline=$((SECONDS + 120))
        until eval "$trigger"; do
            if [[ -e $done ]]; then
                outcome=finished
                if [[ $strict == 1 ]]; then
                    asd_fail "$step" "power loss: the command ended before the trigger ($trigger) held"
                fi
                break
            fi
            if ((SECONDS > deadline)); then
                asd_fail "$step" "power loss: trigger ($trigger) did not hold within 120 s"
                break
            fi
            sleep 0.005
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        if [[ $outcome == killed && -e $done ]]; then # it ended while the trigger was evaluated
            outcome=finished
            if [[ $strict == 1 ]]; then
                asd_fail "$step" "power loss: the command ended before the trigger ($trigger) held"
            fi
        fi
        echo "$outcome" >"$OUT/asd/$label.outcome"
        asd_reboot
    }
    """#
}
