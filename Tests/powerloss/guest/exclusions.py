"""RAM_ONLY and DISK_ONLY in the plain and overlay targets of every round
(doc/DESIGN.md §2, "RAM_ONLY and DISK_ONLY").

- DISK_ONLY `disk/`: an application writes files there during the run, each fsynced
  with its directory before the round log records it (its "intent" is recorded
  first). After every cut, before and after asd's recovery, each recorded file is
  on disk whole, the three files made at build time too, and nothing else is there
  but a file whose write was cut short (intended, not yet recorded).
- RAM_ONLY `*.rcache` and `/scratch/`: the application rewrites files of both in RAM
  at every change round. The disk must keep exactly what it had before sync
  (`pre.rcache`, `scratch/old`), after a cut and after unsync; the running view must
  not show those (overlay mode: not through the lower layer).

The round's other checks (S_R/S_K states, crash archives) see neither: `states` and
`managed` leave them out, so an archive that holds them fails as "should not exist"."""
import hashlib
import os

from common import fsync_dir, say, scan

DISK_DIR, SCRATCH = "disk", "scratch"
PRE = {"pre.rcache": b"on disk before sync\n", "scratch/old": b"old scratch file\n"}


def config_lines(target):
    return "DISK_ONLY=('%s/%s')\nRAM_ONLY=('*.rcache' '/%s/')\n" % (target, DISK_DIR, SCRATCH)


def excluded(rel):
    top = rel.split("/", 1)[0]
    return top in (DISK_DIR, SCRATCH) or rel.endswith(".rcache")


def managed(tree):
    """A scan without what RAM_ONLY and DISK_ONLY keep out."""
    return {rel: e for rel, e in tree.items() if not excluded(rel)}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def build(root, rng):
    """Before sync: the DISK_ONLY directory with three files, and the RAM_ONLY paths
    that are on disk already."""
    os.makedirs(os.path.join(root, DISK_DIR))
    os.makedirs(os.path.join(root, SCRATCH))
    for n in range(3):
        with open(os.path.join(root, DISK_DIR, "base%d" % n), "wb") as f:
            f.write(rng.randbytes(rng.randint(1, 64 << 10)))
    for rel, data in PRE.items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)


def record_base(log, roots):
    log.add(op="disk-base", files={root: {"base%d" % n: sha(open(os.path.join(root, DISK_DIR, "base%d" % n), "rb").read())
                                          for n in range(3)} for root in roots})


def after_sync(log, root):
    """The running view must not show the RAM_ONLY paths on disk."""
    seen = [rel for rel in PRE if os.path.lexists(os.path.join(root, rel))]
    if seen:
        log.add(op="ramonly-visible", root=root, paths=seen)


def change(log, root, i, rng):
    """One change round of the application: RAM-only files rewritten, two files
    written under DISK_ONLY with fsync."""
    os.makedirs(os.path.join(root, SCRATCH), exist_ok=True)
    for rel in ("%s/tile%d" % (SCRATCH, i % 2), "top.rcache", "%s/x%d.rcache" % (SCRATCH, i)):
        with open(os.path.join(root, rel), "wb") as f:
            f.write(rng.randbytes(rng.randint(1, 16 << 10)))
    for n in range(2):
        name = "w%d-%d" % (i, n)
        data = rng.randbytes(rng.randint(1, 128 << 10))
        log.add(op="disk-intent", root=root, name=name)
        path = os.path.join(root, DISK_DIR, name)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(os.path.dirname(path))
        log.add(op="disk-written", root=root, name=name, sha=sha(data))


def check(records, root, when):
    """None, or (what, path, detail) of the first failure; `when` names the moment."""
    for r in records:
        if r["op"] == "ramonly-visible" and r["root"] == root:
            return ("RAM_ONLY", root, "the running view showed %s, which are on disk only" % r["paths"])
    tree = scan(root, skip_top=())
    ram = {rel: e for rel, e in tree.items() if excluded(rel) and rel.split("/", 1)[0] != DISK_DIR}
    want = {rel: sha(data) for rel, data in PRE.items()}
    got = {rel: e["h"] for rel, e in ram.items() if e["t"] == "f"}
    if got != want or any(e["t"] != "d" for rel, e in ram.items() if rel not in want):
        return ("RAM_ONLY", root, "%s the disk holds %s; it must keep exactly %s" % (when, sorted(ram), sorted(want)))
    written = {r["name"]: r["sha"] for r in records if r["op"] == "disk-written" and r["root"] == root}
    for r in records:
        if r["op"] == "disk-base":
            written.update(r["files"].get(root, {}))
    intended = {r["name"] for r in records if r["op"] == "disk-intent" and r["root"] == root}
    disk = {rel.split("/", 1)[1]: e for rel, e in tree.items() if rel.startswith(DISK_DIR + "/")}
    for name, digest in sorted(written.items()):
        if name not in disk or disk[name]["h"] != digest:
            have = "missing" if name not in disk else "content %s.. %dB" % (disk[name]["h"][:12], disk[name]["s"])
            return ("DISK_ONLY", os.path.join(root, DISK_DIR, name), "%s: %s, fsynced as %s.." % (when, have, digest[:12]))
    extra = sorted(set(disk) - set(written) - intended)
    if extra:
        return ("DISK_ONLY", os.path.join(root, DISK_DIR, extra[0]), "%s: unknown entry" % when)
    say("%s %s: DISK_ONLY %d fsynced files whole (%d entries), RAM_ONLY on disk as before sync (%d entries)" % (
        root, when, len(written), len(disk), len(ram)))
    return None
