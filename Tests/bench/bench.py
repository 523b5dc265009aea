#!/usr/bin/env python3
"""Helpers for Tests/bench/run.sh: reproducible trees, measured runs, the report.

Subcommands (all deterministic for a given seed):
  generate --root DIR --files N --dirs D [--big-count K --big-size BYTES] --seed S
  mutate   --root DIR --seed S --fraction F --manifest FILE
  verify   --root DIR --manifest FILE
  measure  --timeout SEC --log FILE -- CMD ARGS...   (prints one TSV line)
  report   --results FILE [--upstream-label NAME] [--only-ours]
"""

import argparse
import hashlib
import json
import os
import random
import signal
import statistics
import sys
import time

SMALL_MAX = 8 * 1024


# --------------------------------------------------------------------------- trees

def generate(args):
    """Write `files` small files (0..8 KiB) spread over `dirs` directories, plus
    `big_count` files of `big_size` bytes, all from one seeded generator."""
    rng = random.Random(args.seed)
    os.makedirs(args.root, exist_ok=False)
    for d in range(args.dirs):
        os.mkdir(os.path.join(args.root, "d%03d" % d))
    for i in range(args.files):
        path = os.path.join(args.root, "d%03d" % (i % args.dirs), "f%06d" % i)
        with open(path, "wb") as f:
            f.write(rng.randbytes(rng.randrange(0, SMALL_MAX + 1)))
    if args.big_count:
        os.mkdir(os.path.join(args.root, "big"))
        chunk = 1 << 20
        for i in range(args.big_count):
            with open(os.path.join(args.root, "big", "b%02d.bin" % i), "wb") as f:
                left = args.big_size
                while left:
                    n = min(chunk, left)
                    f.write(rng.randbytes(n))
                    left -= n


def small_nonempty_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if 0 < st.st_size <= SMALL_MAX and not os.path.islink(path):
                out.append((os.path.relpath(path, root), st.st_size))
    out.sort()
    return out


def mutate(args):
    """Rewrite the content of `fraction` of the non-empty small files in place
    (same size, new bytes, new mtime); record their new SHA-256 in a manifest."""
    rng = random.Random(args.seed)
    candidates = small_nonempty_files(args.root)
    if args.exclude_manifest:
        # Keep the second change disjoint from the first: rewriting a file again
        # within the same second with the same size is a case rsync's default
        # quick check misses (whole-second mtimes), which is a correctness
        # matter, not what this benchmark measures.
        with open(args.exclude_manifest) as f:
            done = set(json.load(f))
        candidates = [c for c in candidates if c[0] not in done]
    count = max(1, round(len(candidates) * args.fraction))
    chosen = rng.sample(candidates, count)
    manifest = {}
    for rel, size in sorted(chosen):
        data = rng.randbytes(size)
        with open(os.path.join(args.root, rel), "r+b") as f:
            f.write(data)
        manifest[rel] = hashlib.sha256(data).hexdigest()
    with open(args.manifest, "w") as f:
        json.dump(manifest, f)
    print(count)


def verify(args):
    """Exit 1 (naming the first bad files) unless every manifest file under root
    has the recorded content."""
    with open(args.manifest) as f:
        manifest = json.load(f)
    bad = []
    for rel, digest in manifest.items():
        try:
            with open(os.path.join(args.root, rel), "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    bad.append(rel + " (content differs)")
        except OSError as e:
            bad.append("%s (%s)" % (rel, e.strerror))
    if bad:
        print("%d of %d changed files not as expected under %s, e.g. %s"
              % (len(bad), len(manifest), args.root, "; ".join(bad[:3])))
        sys.exit(1)


# --------------------------------------------------------------------------- measure

def read_io():
    """Counters of this process from /proc/self/io. They include every child
    (and grandchild) that has been waited for, because the kernel adds a
    reaped child's I/O accounting to its parent's."""
    vals = {}
    with open("/proc/self/io") as f:
        for line in f:
            k, v = line.split(":")
            vals[k] = int(v)
    return vals


def read_hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def measure(args):
    """Run CMD with output to LOG. Print: exit status, wall seconds, peak RSS of
    the process tree (KiB, from wait4: max over the command and every
    descendant it waited for), peak RSS of the command's own process (KiB,
    VmHWM sampled every 5 ms until it exits), bytes it caused to be written
    to block devices (write_bytes - cancelled_write_bytes of the whole tree),
    CPU seconds (user + system) of the command and its waited-for descendants."""
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    before = read_io()
    log = open(args.log, "ab")
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            devnull = os.open("/dev/null", os.O_RDONLY)
            os.dup2(devnull, 0)
            os.execvp(cmd[0], cmd)
        except Exception as e:  # noqa: BLE001
            os.write(2, ("exec failed: %s\n" % e).encode())
        os._exit(127)
    hwm = 0
    timed_out = False
    while True:
        wpid, status, rusage = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            break
        h = read_hwm(pid)
        if h is not None:
            hwm = max(hwm, h)
        if time.monotonic() - start > args.timeout and not timed_out:
            timed_out = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)
    elapsed = time.monotonic() - start
    after = read_io()
    log.close()
    if timed_out:
        code = 124
    elif os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
    else:
        code = 128 + os.WTERMSIG(status)
    written = ((after["write_bytes"] - before["write_bytes"])
               - (after["cancelled_write_bytes"] - before["cancelled_write_bytes"]))
    cpu = rusage.ru_utime + rusage.ru_stime
    print("%d\t%.6f\t%d\t%d\t%d\t%.6f" % (code, elapsed, rusage.ru_maxrss, hwm, written, cpu))


# --------------------------------------------------------------------------- report

SCEN_TITLES = {
    "A-full": "tree A (20k+10x20MB), full mode",
    "A-overlay": "tree A, overlay mode",
    "B-full": "tree B (100k), full mode",
    "B-overlay": "tree B, overlay mode",
}

# (scenario, op, field, label, target-ratio or None)
ROWS = [
    ("A-full", "parse", "sec", "parse (tree A)", 10.0),
    ("A-full", "sync", "sec", "A full: sync", 3.0),
    ("A-full", "resync", "sec", "A full: resync, 1% changed", 1.5),
    ("A-full", "unsync", "sec", "A full: unsync, 1% changed", 1.5),
    ("A-overlay", "sync", "sec", "A overlay: sync", None),
    ("A-overlay", "resync", "sec", "A overlay: resync, 1% changed", None),
    ("A-overlay", "unsync", "sec", "A overlay: unsync, 1% changed", None),
    ("B-full", "sync", "sec", "B full: sync", None),
    ("B-full", "resync", "sec", "B full: resync, 1% changed", 1.5),
    ("B-full", "unsync", "sec", "B full: unsync, 1% changed", 1.5),
    ("B-overlay", "sync", "sec", "B overlay: sync", None),
    ("B-overlay", "resync", "sec", "B overlay: resync, 1% changed", 5.0),
    ("B-overlay", "unsync", "sec", "B overlay: unsync, 1% changed", None),
    ("A-full", "resync", "wbytes", "wear A full resync (task I/O)", None),
    ("A-full", "resync", "devbytes", "wear A full resync (device)", None),
    ("A-overlay", "resync", "wbytes", "wear A overlay resync (task I/O)", None),
    ("A-overlay", "resync", "devbytes", "wear A overlay resync (device)", None),
    ("B-full", "resync", "wbytes", "wear B full resync (task I/O)", None),
    ("B-full", "resync", "devbytes", "wear B full resync (device)", None),
    ("B-overlay", "resync", "wbytes", "wear B overlay resync (task I/O)", None),
    ("B-overlay", "resync", "devbytes", "wear B overlay resync (device)", None),
]

FIELDS = ["status", "sec", "maxrss", "hwm", "wbytes", "devbytes", "cpu"]


def load(path):
    data = {}
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 4 or parts[0].startswith("#"):
            continue
        impl, scen, op, run = parts[:4]
        rec = dict(zip(FIELDS, parts[4:]))
        data.setdefault((impl, scen, op), []).append(rec)
    return data


def med(recs, field):
    vals = [float(r[field]) for r in recs
            if r.get("status") == "ok" and r.get(field, "") not in ("", "-")]
    return statistics.median(vals) if vals else None


def fails(recs):
    return sum(1 for r in recs if r.get("status") not in ("ok", "skipped"))


def skips(recs):
    return sum(1 for r in recs if r.get("status") == "skipped")


def fmt(v, field):
    if v is None:
        return "-"
    if field in ("sec", "cpu"):
        return "%.3f s" % v
    if field in ("wbytes", "devbytes"):
        for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if v >= size:
                return "%.1f %s" % (v / size, unit)
        return "%d B" % v
    if field in ("maxrss", "hwm"):
        return "%.1f MiB" % (v / 1024)
    return str(v)


def cell(data, impl, scen, op, field):
    recs = data.get((impl, scen, op), [])
    if not recs:
        return None, "-"
    v = med(recs, field)
    text = fmt(v, field)
    n_fail = fails(recs)
    if n_fail:
        text += " (%d/%d FAILED)" % (n_fail, len(recs)) if v is not None else " FAILED"
    n_skip = skips(recs)
    if n_skip:
        text += " (%d/%d skipped)" % (n_skip, len(recs)) if v is not None else " skipped"
    return v, text


def print_table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for idx, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |")
        if idx == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(lines))


IMPL_COLUMNS = (("ours", "ours (built-in)"), ("rsync", "ours (USE_RSYNC)"), ("upstream", "upstream"))


def report(args):
    data = load(args.results)
    present = [impl for impl, _ in IMPL_COLUMNS if any(k[0] == impl for k in data)]
    have_up = "upstream" in present
    have_ours = "ours" in present
    header = ["measure (median)"] + [label for impl, label in IMPL_COLUMNS if impl in present]
    if have_ours and have_up:
        header += ["upstream/ours", "target", "met?"]
    rows = [header]
    failed = []
    for scen, op, field, label, target in ROWS:
        cells = {impl: cell(data, impl, scen, op, field) for impl in present}
        row = [label] + [cells[impl][1] for impl in present]
        if have_ours and have_up:
            ov, uv = cells["ours"][0], cells["upstream"][0]
            ratio = (uv / ov) if (ov and uv is not None and ov > 0) else None
            row.append("%.2fx" % ratio if ratio is not None else "-")
            if target is None:
                row += ["", ""]
            else:
                row.append(">= %gx" % target)
                row.append("-" if ratio is None else ("met" if ratio >= target else "NOT met"))
        rows.append(row)
    # Peak RSS: the largest over sync/resync/unsync on tree B, full mode.
    for field, label in (("maxrss", "peak RSS, B full (process tree, wait4)"),
                         ("hwm", "peak RSS, B full (asd process only, VmHWM)")):
        row = [label]
        vals = {}
        for impl in present:
            best = None
            for op in ("sync", "resync", "unsync"):
                for r in data.get((impl, "B-full", op), []):
                    if r.get("status") == "ok" and r.get(field, "") not in ("", "-", "0"):
                        best = max(best or 0, float(r[field]))
            vals[impl] = best
            if impl == "upstream" and field != "maxrss":
                row.append("n/a (bash)")
            else:
                row.append(fmt(best, field))
        if have_ours and have_up:
            ratio = (vals["upstream"] / vals["ours"]) if (vals["ours"] and vals["upstream"] and field == "maxrss") else None
            row.append("%.2fx" % ratio if ratio else "-")
            row.append("< 50 MiB")
            row.append("-" if vals["ours"] is None else ("met" if vals["ours"] < 50 * 1024 else "NOT met"))
        rows.append(row)
    for (impl, scen, op), recs in sorted(data.items()):
        n = fails(recs)
        if n:
            failed.append("%s %s %s: %d of %d runs failed" % (impl, scen, op, n, len(recs)))
        n = skips(recs)
        if n:
            failed.append("%s %s %s: not measured in %d of %d runs (sync failed)"
                          % (impl, scen, op, n, len(recs)))

    print_table(rows)

    # CPU time of the process tree: less sensitive to a busy machine than wall time.
    cpu_header = ["CPU time user+sys (median)"] + header[1:1 + len(present)]
    if have_ours and have_up:
        cpu_header.append("upstream/ours")
    cpu_rows = [cpu_header]
    for scen, op, field, label, target in ROWS:
        if field != "sec":
            continue
        cells = {impl: cell(data, impl, scen, op, "cpu") for impl in present}
        row = [label] + [cells[impl][1] for impl in present]
        if have_ours and have_up:
            ov, uv = cells["ours"][0], cells["upstream"][0]
            row.append("%.2fx" % (uv / ov) if (ov and uv is not None) else "-")
        cpu_rows.append(row)
    print()
    print_table(cpu_rows)
    if failed:
        print("\nFailures:")
        for f in failed:
            print("  " + f)


# --------------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd_name", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--root", required=True)
    g.add_argument("--files", type=int, required=True)
    g.add_argument("--dirs", type=int, required=True)
    g.add_argument("--big-count", type=int, default=0)
    g.add_argument("--big-size", type=int, default=0)
    g.add_argument("--seed", type=int, default=42)
    m = sub.add_parser("mutate")
    m.add_argument("--root", required=True)
    m.add_argument("--seed", type=int, required=True)
    m.add_argument("--fraction", type=float, default=0.01)
    m.add_argument("--manifest", required=True)
    m.add_argument("--exclude-manifest")
    v = sub.add_parser("verify")
    v.add_argument("--root", required=True)
    v.add_argument("--manifest", required=True)
    r = sub.add_parser("measure")
    r.add_argument("--timeout", type=float, default=600)
    r.add_argument("--log", required=True)
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    rp = sub.add_parser("report")
    rp.add_argument("--results", required=True)
    args = p.parse_args()
    {"generate": generate, "mutate": mutate, "verify": verify,
     "measure": measure, "report": report}[args.cmd_name](args)


if __name__ == "__main__":
    main()
