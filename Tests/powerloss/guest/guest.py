"""The guest's program (started by /sbin/pl-init): runs the steps the host put on
the kernel command line, e.g. `pl.steps=check:1,run:2:12345 pl.engine=builtin`.

Steps: control-write, control-check, run:K:SEED (workload of round K), recover:K
(`asd sync` after a power cut, to be killed), check:K (verify round K), watch:K:SEED
and wcheck:K (the loss window of `asd watch`, guest/watch.py)."""
import hashlib
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import STATE_DIR, fsync_dir, mark, start_neighbour  # noqa: E402
import check  # noqa: E402
import watch  # noqa: E402
import workload  # noqa: E402

CONTROL = os.path.join(STATE_DIR, "control")


def control_data(name):
    return random.Random("control-" + name).randbytes(256 << 10)


def control_write():
    """Two files, one never flushed and one fsynced (with its directory); then
    the host cuts the power. Only the second may survive whole."""
    with open(os.path.join(CONTROL, "nofsync"), "wb") as f:
        f.write(control_data("nofsync"))
    with open(os.path.join(CONTROL, "fsync"), "wb") as f:
        f.write(control_data("fsync"))
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(CONTROL)
    mark("control-written")
    time.sleep(600)


def control_state(name):
    path = os.path.join(CONTROL, name)
    if not os.path.exists(path):
        return "missing"
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return "empty"
    if data == control_data(name):
        return "intact"
    return "torn(%dB,%s)" % (len(data), hashlib.sha256(data).hexdigest()[:12])


def main():
    words = open("/proc/cmdline").read().split()
    args = dict(w[3:].split("=", 1) for w in words if w.startswith("pl.") and "=" in w)
    engine = args.get("engine", "builtin")
    iterations = int(args.get("iterations", "4"))
    files = int(args.get("files", "150"))
    for step in args.get("steps", "").split(","):
        kind, *rest = step.split(":")
        mark("step %s" % step)
        if kind == "control-write":
            control_write()
        elif kind == "control-check":
            mark("control nofsync=%s fsync=%s" % (control_state("nofsync"), control_state("fsync")))
        elif kind == "run":
            start_neighbour()
            workload.run(int(rest[0]), int(rest[1]), engine, iterations, files)
        elif kind == "recover":
            start_neighbour()
            workload.recover(int(rest[0]))
        elif kind == "watch":
            start_neighbour()
            watch.run(int(rest[0]), int(rest[1]), engine)
        elif kind in ("check", "wcheck"):
            try:
                bad = (check.check if kind == "check" else watch.check)(int(rest[0]))
            except Exception as error:  # a crash of the checker is a failed check
                traceback.print_exc()
                bad = ("checker", "-", "%s: %s" % (type(error).__name__, error))
            if bad:
                mark("check-fail r%s %s | %s | %s" % (rest[0], bad[0], bad[1], bad[2]))
            else:
                mark("check-pass r%s" % rest[0])
        else:
            mark("error unknown step %s" % step)
    mark("steps-done")


try:
    main()
except Exception as error:
    traceback.print_exc()
    mark("error %s: %s" % (type(error).__name__, error))
