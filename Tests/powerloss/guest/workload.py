"""The seeded workload of one round: build two targets, `asd sync`, then loop
(change files, record the state, `asd resync`), then `asd unsync`. Every state
asd is asked to write is in the round log, flushed, before asd starts."""
import os
import random
import shutil

import exclusions
from live import Live
from common import RoundLog, asd, configs, fsync_dir, mark, say, scan, shared_extent_files, write_configs

SMALL, BIG = (1, 4096), (64 << 10, 256 << 10)
MODES = [0o600, 0o640, 0o644, 0o700, 0o755]


def size(rng):
    return rng.randint(*(BIG if rng.random() < 0.25 else SMALL))


def write_file(path, data, rng=None):
    with open(path, "wb") as f:
        f.write(data)


class Tree:
    """One target's directory; every change is seeded by `rng`."""

    def __init__(self, root, rng, files):
        self.root, self.rng, self.files = root, rng, files
        self.serial = 0

    def path(self, rel):
        return os.path.join(self.root, rel)

    def dirs(self):
        out = [""]
        for d, subdirs, _ in os.walk(self.root):
            for s in subdirs:
                p = os.path.join(d, s)
                rel = os.path.relpath(p, self.root)
                if not os.path.islink(p) and not exclusions.excluded(rel):
                    out.append(rel)
        return sorted(out)

    def regular_files(self):
        out = []
        for d, _, names in os.walk(self.root):
            for n in names:
                p = os.path.join(d, n)
                rel = os.path.relpath(p, self.root)
                if rel != ".flagged" and os.path.isfile(p) and not os.path.islink(p) and not exclusions.excluded(rel):
                    out.append(rel)
        return sorted(out)

    def new_name(self, prefix):
        self.serial += 1
        return "%s%03d" % (prefix, self.serial)

    def create_file(self, directory):
        rel = os.path.join(directory, self.new_name("f"))
        write_file(self.path(rel), self.rng.randbytes(size(self.rng)))
        os.chmod(self.path(rel), self.rng.choice(MODES))
        return rel

    def build(self):
        rng = self.rng
        os.makedirs(self.root)
        dirs = [""]
        for _ in range(14):
            parent = rng.choice(dirs)
            if parent.count("/") >= 2:
                continue
            d = os.path.join(parent, self.new_name("d"))
            os.mkdir(self.path(d))
            dirs.append(d)
        for _ in range(self.files):
            self.create_file(rng.choice(dirs))
        files = self.regular_files()
        for rel in rng.sample(files, 10):
            os.setxattr(self.path(rel), "trusted.pl", rng.randbytes(12).hex().encode())
        for rel in rng.sample(files, 4):
            os.chown(self.path(rel), 65534, 65534)
        for rel in rng.sample(files, 5):
            link = os.path.join(os.path.dirname(rel), self.new_name("l"))
            os.symlink(os.path.basename(rel), self.path(link))
        os.symlink("nowhere", self.path(self.new_name("dangling")))
        os.symlink(rng.choice(dirs[1:]), self.path(self.new_name("dirlink")))
        os.mkfifo(self.path(os.path.join(rng.choice(dirs), self.new_name("fifo"))))

    def mutate(self):
        rng = self.rng
        files = self.regular_files()
        for rel in rng.sample(files, min(4, len(files))):       # append
            with open(self.path(rel), "ab") as f:
                f.write(rng.randbytes(rng.randint(1, 8192)))
        for rel in rng.sample(files, min(4, len(files))):       # rewrite whole, same size
            n = os.path.getsize(self.path(rel))
            with open(self.path(rel), "r+b") as f:
                f.write(rng.randbytes(n))
        dirs = self.dirs()
        if rng.random() < 0.3:                                  # a new directory
            d = os.path.join(rng.choice(dirs), self.new_name("d"))
            if d.count("/") <= 3:
                os.mkdir(self.path(d))
                dirs.append(d)
        for _ in range(4):                                      # create
            self.create_file(rng.choice(dirs))
        files = self.regular_files()
        for rel in rng.sample(files, min(3, len(files))):       # rename (some over a file)
            if not os.path.exists(self.path(rel)):
                continue
            if rng.random() < 0.3:
                dest = rng.choice(self.regular_files())
            else:
                dest = os.path.join(rng.choice(dirs), self.new_name("r"))
            if dest != rel:
                os.rename(self.path(rel), self.path(dest))
        files = self.regular_files()
        for rel in rng.sample(files, min(2, len(files))):       # delete
            os.unlink(self.path(rel))
        if rng.random() < 0.15:                                  # delete a whole directory
            victims = [d for d in self.dirs() if d]
            if victims:
                shutil.rmtree(self.path(rng.choice(victims)))
        files = self.regular_files()
        for rel in rng.sample(files, min(3, len(files))):       # chmod
            os.chmod(self.path(rel), rng.choice(MODES))
        if files:                                                # an xattr
            os.setxattr(self.path(rng.choice(files)), "trusted.pl", rng.randbytes(8).hex().encode())


HASHES = {}


def states(trees):
    return {t.root: exclusions.managed(scan(t.root, hashes=HASHES)) for t in trees}


def run(round_no, seed, engine, iterations, files):
    log = RoundLog(round_no)
    rng = random.Random(seed)
    base = "/srv/r%d" % round_no
    os.makedirs(base)
    trees = [Tree(target, random.Random(rng.getrandbits(64)), files) for _, target, _ in configs(round_no)]
    for t in trees:
        t.build()
        exclusions.build(t.root, t.rng)
    write_configs(round_no, engine)
    os.sync()  # the sync-time state is on disk before asd starts: it is not asd's to lose
    fsync_dir(base)
    log.add(op="state", i=0, trees=states(trees))
    exclusions.record_base(log, [t.root for t in trees])
    for conf, _, kind in each(round_no):
        mark("sync-begin r%d %s" % (round_no, kind))
        asd("sync", conf)
        mark("sync-end r%d %s" % (round_no, kind))
    log.add(op="ok", i=0)
    for t in trees:
        exclusions.after_sync(log, t.root)
    live = Live(round_no, engine)
    live.start()
    for i in range(1, iterations + 2):
        last = i == iterations + 1
        mark("mutate-begin r%d %d" % (round_no, i))
        for t in trees:
            t.mutate()
            exclusions.change(log, t.root, i, t.rng)
        log.add(op="state", i=i, trees=states(trees), unsync=last)
        step = "unsync" if last else "resync"
        for conf, _, kind in each(round_no):
            mark("%s-begin r%d %d %s" % (step, round_no, i, kind))
            asd(step, conf)
            mark("%s-end r%d %d %s" % (step, round_no, i, kind))
            if i == 1 and os.path.ismount("/srv"):
                parent, base = os.path.split(next(e[1] for e in each(round_no) if e[0] == conf))
                disk = os.path.join(parent, ".%s-backup_asd" % base)  # the disk copy (doc/DESIGN.md §3)
                say("%s after resync 1: %d of %d files share extents (delta clones)" % (
                    disk, *reversed(shared_extent_files(disk))))
        log.add(op="ok", i=i, unsync=last)
        live.write_back(step)
    say("round %d: workload done" % round_no)


def recover(round_no):
    """The next start after a power loss: `asd sync` recovers (the host kills it)."""
    for conf, _, kind in each(round_no):
        mark("recover-begin r%d %s" % (round_no, kind))
        asd("sync", conf, check=False)
        mark("recover-end r%d %s" % (round_no, kind))


def each(round_no):
    """(config, target, "plain" or "overlay") of the round's two asd instances."""
    return [(conf, target, "overlay" if overlay == "yes" else "plain")
            for conf, target, overlay in configs(round_no)]
