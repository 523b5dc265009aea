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
import sys
import time

from bench_report import report

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
