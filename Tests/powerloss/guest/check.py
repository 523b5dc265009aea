"""The checks at the next boot after a power cut: `asd sync` (recovers), then
`asd unsync`; then every entry of each target must be what the last successful
write-back (S_R) or the one in progress (S_K) had there, attribute by attribute;
no debris beside or inside the targets, nothing mounted, and every crash archive
extracts to the sync-time state."""
import glob
import os
import subprocess
import tempfile

import exclusions
import live
from common import RoundLog, asd, configs, mark, say, scan

ATTRS = (("t", "type"), ("h", "content"), ("s", "size"), ("m", "mode"), ("o", "owner"), ("x", "xattrs"))


def short(e):
    if e is None:
        return "absent"
    if e["t"] == "f":
        return "file %s.. %dB mode %o" % (e["h"][:12], e["s"], e["m"])
    return {"d": "dir", "l": "symlink -> %s" % e["h"], "p": "fifo"}.get(e["t"], e["t"])


def compare_allowed(disk, allowed):
    """First bad entry: disk state vs. the states S_R, S_K, attribute by attribute
    (a resync cut short may have changed a file's mode but not its content yet)."""
    for rel in sorted(set(disk) | set().union(*allowed)):
        have = disk.get(rel)
        options = [s.get(rel) for s in allowed]
        if have is None:
            if None not in options:
                return rel, "missing; the last completed write-back had %s" % short(options[0])
            continue
        real = [o for o in options if o is not None]
        if not real:
            return rel, "should not exist (debris or a resurrected entry): %s" % short(have)
        for key, name in ATTRS:
            if have.get(key) not in [o.get(key) for o in real]:
                zero = " (ZERO-LENGTH)" if have["t"] == "f" and have["s"] == 0 else ""
                return rel, "%s is %s%s, expected %s" % (
                    name, short(have) if key in "hst" else have.get(key), zero,
                    " or ".join(short(o) if key in "hst" else str(o.get(key)) for o in real))
    return None


def compare_exact(have, want):
    bad = compare_allowed(have, [want])
    return bad


def mounts_under(prefixes):
    bad = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if any(point.startswith(p) for p in prefixes):
                bad.append(point)
    return bad


def archives_of(target):
    parent, base = os.path.split(target)
    return sorted(glob.glob(os.path.join(parent, ".%s-backup_asd-crashrecovery-*.tar.zstd" % base)))


def extract(archive):
    """The archive's single top directory, extracted to a fresh tmpfs directory."""
    where = tempfile.mkdtemp(dir="/tmp")
    cmd = "zstd -dc '%s' | tar --xattrs --xattrs-include='*' --acls --numeric-owner -x -C '%s'" % (archive, where)
    subprocess.run(["sh", "-c", cmd], check=True)
    tops = os.listdir(where)
    if len(tops) != 1:
        raise RuntimeError("archive %s holds %d top entries: %s" % (archive, len(tops), tops))
    return os.path.join(where, tops[0])


def check(round_no):
    """Returns None, or (what, path, detail) of the first failure."""
    records = RoundLog(round_no).records()
    states = {r["i"]: r["trees"] for r in records if r["op"] == "state"}
    oks = [r["i"] for r in records if r["op"] == "ok"]
    if 0 not in states:
        return ("round log", "r%d.log" % round_no, "no sync-time state recorded")
    R = max(oks) if oks else 0
    K = max(states)
    unsync_started = any(r.get("unsync") for r in records if r["op"] == "state")
    say("check round %d: last completed write-back S%d, last one started S%d" % (round_no, R, K))
    mark("check-begin r%d" % round_no)
    for _, target, _ in configs(round_no):
        bad = exclusions.check(records, target, "after the cut")
        if bad:
            return bad
    for conf, _, _ in configs(round_no):
        asd("sync", conf)
    for conf, _, _ in configs(round_no):
        asd("unsync", conf)
    bad_live = live.check(round_no)
    if bad_live:
        return bad_live
    mark("check-asd-done r%d" % round_no)
    left = mounts_under(["/srv/", "/volatile/", "/run/"])
    if left:
        return ("mounts", left[0], "still mounted after unsync: %s" % " ".join(left))
    # The lock stays, and so do the metrics' counters (`$DAEMON_FILE.metrics`), which
    # are meant to outlive unsync (doc/DESIGN.md §10).
    daemon = [p for p in glob.glob("/run/asd-*") if not p.endswith(("-lock", ".metrics"))]
    if daemon:
        return ("daemon file", daemon[0], "left after unsync")
    for conf, target, _ in configs(round_no):
        bad = exclusions.check(records, target, "after unsync")
        if bad:
            return bad
        disk = exclusions.managed(scan(target, skip_top=()))
        bad = compare_allowed(disk, [states[R][target], states[K][target]])
        if bad:
            return ("target", os.path.join(target, bad[0]), bad[1])
        parent, base = os.path.split(target)
        for name in os.listdir(parent):
            if name in ("plain", "overlay") or (name.startswith(".%s-backup_asd-crashrecovery-" % base)
                                                and name.endswith(".tar.zstd")):
                continue
            if name.startswith(".%s" % base):
                return ("debris", os.path.join(parent, name), "left beside the target")
        found = archives_of(target)
        # Killed between a completed sync and the start of unsync: the snapshot was
        # on disk (flushed with the round log's "ok"), so recovery must archive it.
        must = 0 in oks and not unsync_started
        say("%s: %d entries on disk, %d crash archive(s)" % (target, len(disk), len(found)))
        if must and not found:
            return ("archive", target, "no crash archive although asd was killed while running")
        for n, archive in enumerate(found):
            got = scan(extract(archive), skip_top=())
            bad = compare_exact(got, states[0][target])
            # A later archive may come from a completed recovery boot's own sync.
            if bad and n > 0 and compare_exact(got, disk) is None:
                bad = None
            if bad:
                return ("archive", "%s: %s" % (os.path.basename(archive), bad[0]), bad[1])
    return None
