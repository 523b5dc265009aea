"""The loss window of `asd watch` (RESYNC_DELAY, doc/DESIGN.md §12) under real
power loss. Step watch:K:SEED: a target /srv/wK/data with RESYNC_DELAY=10 is
synced, `asd watch` runs (started here: no systemd), and an application changes
files without pause (new files, rewrites in place, appends, renames, deletes, new
directories, SQLite commits) until the host cuts the power. Every change goes to
the host on the marks port, not to the guest's disk:

  `PL c SEQ T0 OP PATH STATES [PATH STATES]` before the change (tcdrain: the host
  has it before the change is made), STATES the path's versions in order, comma
  separated (a new file is empty before it is written);
  `PL d SEQ T1` once it is made; T0, T1 CLOCK_MONOTONIC seconds.

A poller logs each write-back (the watcher's forked child) as `PL wb+ T` and
`PL wb- T DURATION METRICS_DURATION`, and a heartbeat `PL hb T`. Step wcheck:K
recovers (`asd sync`, `asd unsync`) and lists the disk copy (`PL ws ...`); the
host (Tests/powerloss/losswin.py) compares it with the changes."""
import glob
import hashlib
import os
import random
import sqlite3
import subprocess
import termios
import threading
import time

from check import archives_of, extract, mounts_under
from common import VOLATILE, asd, fsync_dir, mark, say

DELAY = 10
DB = "app.db"
ABSENT, DIR = "-", "dir"
_port, _lock = None, threading.Lock()


def emit(text, drain=False):
    """One line on the marks port (one write(2)); `drain`: wait until it left the UART."""
    global _port
    with _lock:
        if _port is None:
            _port = os.open("/dev/ttyS1", os.O_WRONLY | os.O_NOCTTY)
        os.write(_port, ("PL %s\n" % text).encode())
        if drain:
            termios.tcdrain(_port)


def digest(data):
    return hashlib.sha256(data).hexdigest()[:16]


def conf(k):
    return "/etc/asd-w%d.conf" % k


def target(k):
    return "/srv/w%d/data" % k


class App:
    """The application: its files' contents in memory, each change logged."""

    def __init__(self, root, rng):
        self.root, self.rng, self.files, self.dirs, self.seq, self.serial = root, rng, {}, [""], 0, 0
        self.db, self.commits = None, 0

    def new_name(self, prefix):
        self.serial += 1
        return "%s%04d" % (prefix, self.serial)

    def data(self):
        return self.rng.randbytes(self.rng.randint(64 << 10, 256 << 10) if self.rng.random() < 0.2
                                  else self.rng.randint(1, 16 << 10))

    def build(self):
        os.makedirs(self.root)
        for _ in range(5):
            d = os.path.join(self.rng.choice(self.dirs), self.new_name("d"))
            os.mkdir(os.path.join(self.root, d))
            self.dirs.append(d)
        for _ in range(40):
            rel, data = os.path.join(self.rng.choice(self.dirs), self.new_name("f")), self.data()
            with open(os.path.join(self.root, rel), "wb") as f:
                f.write(data)
            self.files[rel] = data
        db = sqlite3.connect(os.path.join(self.root, DB))
        db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB)")
        db.commit()
        db.close()

    def base(self):
        for rel in self.dirs[1:]:
            emit("base %s %s" % (rel, DIR))
        for rel, data in sorted(self.files.items()):
            emit("base %s %s" % (rel, digest(data)))
        emit("base %s n=0" % DB, drain=True)

    def open_db(self, journal):
        self.db = sqlite3.connect(os.path.join(self.root, DB), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=%s" % journal)

    def change(self, op, *paths_states, act):
        self.seq += 1
        fields = " ".join("%s %s" % (p, ",".join(s)) for p, s in paths_states)
        emit("c %d %.6f %s %s" % (self.seq, time.monotonic(), op, fields), drain=True)
        act()
        emit("d %d %.6f" % (self.seq, time.monotonic()))

    def step(self):
        rng, files = self.rng, sorted(self.files)
        ops = ["create", "rewrite", "append", "rename", "delete", "db", "mkdir"]
        weights = [3, 3, 3, 2, 3 if len(files) > 60 else 1, 3, 0.3]
        op = rng.choices(ops, weights)[0]
        if op in ("rewrite", "append", "rename", "delete") and not files:
            op = "create"
        if op == "create":
            rel, data = os.path.join(rng.choice(self.dirs), self.new_name("f")), self.data()
            self.change(op, (rel, [digest(b""), digest(data)]), act=lambda: self.write(rel, data, "xb"))
            self.files[rel] = data
        elif op == "rewrite":
            rel = rng.choice(files)
            data = rng.randbytes(len(self.files[rel]))
            self.change(op, (rel, [digest(data)]), act=lambda: self.pwrite(rel, data))
            self.files[rel] = data
        elif op == "append":
            rel, extra = rng.choice(files), rng.randbytes(rng.randint(1, 8192))
            self.change(op, (rel, [digest(self.files[rel] + extra)]), act=lambda: self.write(rel, extra, "ab"))
            self.files[rel] += extra
        elif op == "rename":
            rel = rng.choice(files)
            dest = rng.choice(files) if rng.random() < 0.3 else os.path.join(rng.choice(self.dirs), self.new_name("r"))
            if dest == rel:
                return
            self.change(op, (dest, [digest(self.files[rel])]), (rel, [ABSENT]),
                        act=lambda: os.rename(os.path.join(self.root, rel), os.path.join(self.root, dest)))
            self.files[dest] = self.files.pop(rel)
        elif op == "delete":
            rel = rng.choice(files)
            self.change(op, (rel, [ABSENT]), act=lambda: os.unlink(os.path.join(self.root, rel)))
            del self.files[rel]
        elif op == "mkdir":
            rel = os.path.join(rng.choice([d for d in self.dirs if d.count("/") < 2]), self.new_name("d"))
            self.change(op, (rel, [DIR]), act=lambda: os.mkdir(os.path.join(self.root, rel)))
            self.dirs.append(rel)
        else:
            self.commits += 1
            n, pad = self.commits, rng.randbytes(rng.randint(100, 3000))
            self.change(op, (DB, ["n=%d" % n]), act=lambda: self.db.execute(
                "INSERT INTO t (n, pad) VALUES (?, ?)", (n, pad)))

    def write(self, rel, data, mode):
        with open(os.path.join(self.root, rel), mode) as f:
            f.write(data)  # one write(2): no state in between that the log does not know

    def pwrite(self, rel, data):
        fd = os.open(os.path.join(self.root, rel), os.O_WRONLY)
        try:
            os.pwrite(fd, data, 0)
        finally:
            os.close(fd)


def metrics_duration():
    for path in glob.glob("/run/asd-*.metrics"):
        for line in open(path):
            words = line.split()
            if len(words) > 3 and words[0] == "v1":
                return words[3]
    return "-"


def poll_writebacks(watcher):
    """wb+/wb- from the watcher's forked children (each one write-back), every 10 ms."""
    children = "/proc/%d/task/%d/children" % (watcher.pid, watcher.pid)
    began, beat = None, 0.0
    while watcher.poll() is None:
        now = time.monotonic()
        try:
            busy = open(children).read().strip() != ""
        except OSError:
            return
        if busy and began is None:
            began = now
            emit("wb+ %.6f" % now)
        elif not busy and began is not None:
            emit("wb- %.6f %.3f %s" % (now, now - began, metrics_duration()))
            began = None
        if now - beat >= 0.25:
            emit("hb %.6f" % now)
            beat = now
        time.sleep(0.01)
    emit("error the watcher exited with %d" % watcher.returncode)


def forward(stream, watching):
    for line in stream:
        say("   watch| " + line.rstrip())
        if line.startswith("Watching "):
            watching.set()


def run(k, seed, engine):
    rng = random.Random(seed)
    overlay = "yes" if ((k - 1) // 2) // 2 % 2 else "no"
    app = App(target(k), rng)
    app.build()
    with open(conf(k), "w") as f:
        f.write("WHATTOSYNC=('%s')\nVOLATILE=\"%s\"\nUSE_OVERLAYFS=\"%s\"\nUSE_BACKUPS=\"no\"\n" % (
            target(k), VOLATILE, overlay))
        f.write("USE_RSYNC=\"%s\"\nRESYNC_DELAY=\"%d\"\n" % ("always" if engine == "rsync" else "no", DELAY))
    os.sync()  # the sync-time state is on disk before asd starts
    fsync_dir("/etc")
    app.base()
    asd("sync", conf(k))
    env = dict(os.environ, ASDCONF=conf(k), DEBUG="1")
    watcher = subprocess.Popen(["/usr/bin/asd", "watch"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace")
    watching = threading.Event()
    threading.Thread(target=forward, args=(watcher.stdout, watching), daemon=True).start()
    threading.Thread(target=poll_writebacks, args=(watcher,), daemon=True).start()
    app.open_db("wal" if k % 2 else "delete")
    # The application starts once the watcher watches (a loaded guest takes seconds to
    # start it); as with asd-watch.service, the watcher's first write-back comes 10 s later.
    if not watching.wait(300):
        raise RuntimeError("asd watch did not start watching in 300 s")
    mark("watch-begin r%d" % k)
    emit("wt0 %.6f overlay=%s" % (time.monotonic(), overlay))
    while True:  # until the host cuts the power
        app.step()
        time.sleep(rng.uniform(0.02, 0.25))


def check(k):
    """Recovery as at boot, then the disk copy listed for the host; returns a
    failure (what, path, detail) found here, or None."""
    if not os.path.exists(conf(k)):
        return ("watch", conf(k), "no config: the run never started")
    mark("check-begin r%d" % k)
    for command in ("sync", "unsync"):
        if asd(command, conf(k), check=False) != 0:
            return ("asd", conf(k), "asd %s after the cut exited non-zero" % command)
    left = mounts_under(["/srv/", "/volatile/", "/run/"])
    if left:
        return ("mounts", left[0], "still mounted after unsync")
    parent = os.path.dirname(target(k))
    for name in os.listdir(parent):
        if name != "data" and not (name.startswith(".data-backup_asd-crashrecovery-") and name.endswith(".tar.zstd")):
            return ("debris", os.path.join(parent, name), "left beside the target")
    root = target(k)
    for archive in archives_of(root):  # a crash archive must extract (zstd + tar)
        try:
            extract(archive)
        except Exception as error:
            return ("archive", archive, "does not extract: %s" % error)
    for top, dirs, names in os.walk(root):
        for name in sorted(dirs + names):
            full = os.path.join(top, name)
            rel = os.path.relpath(full, root)
            if rel.startswith(DB):
                continue
            if os.path.islink(full) or not (os.path.isdir(full) or os.path.isfile(full)):
                emit("ws %s other" % rel)
            elif os.path.isdir(full):
                emit("ws %s %s" % (rel, DIR))
            else:
                emit("ws %s %s" % (rel, digest(open(full, "rb").read())))
    try:
        db = sqlite3.connect(os.path.join(root, DB))
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        count, top = db.execute("SELECT count(*), coalesce(max(n), 0) FROM t").fetchone()
        db.close()
        state = "n=%d" % count if ok == "ok" and count == top else "bad(%s,count=%d,max=%d)" % (ok, count, top)
    except sqlite3.Error as error:
        state = "bad(%s)" % str(error).replace(" ", "_")
    emit("ws %s %s" % (DB, state))
    emit("ws-end r%d" % k, drain=True)
    say("wcheck %d: disk copy listed" % k)
    return None
