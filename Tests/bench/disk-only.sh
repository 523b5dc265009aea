#!/bin/bash
# RAM cost of DISK_ONLY (doc/DESIGN.md §2): a target holding a 1 GiB directory under
# DISK_ONLY is synced; prints how much the VOLATILE tmpfs grew, and checks that a write
# under the directory is on the disk copy at once. Runs in a private mount namespace
# with its own tmpfs, config and daemon file; nothing is mounted on the host.
# Usage: sudo Tests/bench/disk-only.sh [path/to/asd]   (default: .build/debug/asd)
set -euo pipefail
asd=$(realpath "${1:-.build/debug/asd}")
work=$(mktemp -d /var/tmp/asd-bench-diskonly-XXXXXX)
trap 'rm -rf "$work"' EXIT
exec unshare -m --propagation private bash -euo pipefail -c '
asd=$1; work=$2
mkdir -p "$work/vol" "$work/t/data" "$work/t/small"
mount -t tmpfs -o size=256m tmpfs "$work/vol"
for i in $(seq 1 16); do head -c 64M /dev/urandom >"$work/t/data/part$i"; done
for i in $(seq 1 100); do printf "%s" "$i" >"$work/t/small/f$i"; done
cat >"$work/asd.conf" <<CONF
WHATTOSYNC=("$work/t")
VOLATILE="$work/vol"
USE_BACKUPS="no"
DISK_ONLY=("$work/t/data")
CONF
export ASDCONF="$work/asd.conf" DAEMON_FILE="$work/daemon"
before=$(df --output=used -B1 "$work/vol" | tail -1)
"$asd" sync >/dev/null
after=$(df --output=used -B1 "$work/vol" | tail -1)
printf x >"$work/t/data/written"
test -e "$work/.t-backup_asd/data/written" || { echo "FAIL: write under DISK_ONLY not on the disk copy"; exit 1; }
echo "DISK_ONLY directory: $(du -sb "$work/.t-backup_asd/data" | cut -f1) bytes on disk"
echo "tmpfs growth at sync: $((after - before)) bytes (target: < 1 MiB)"
"$asd" unsync >/dev/null
umount "$work/vol"
' bash "$asd" "$work"
