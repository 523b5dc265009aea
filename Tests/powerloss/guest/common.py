"""Shared by the guest's steps: phase markers to the host, the flushed round log,
tree scans, and running asd."""
import hashlib
import json
import os
import stat
import subprocess
import time

STATE_DIR = "/var/lib/pl"
VOLATILE = "/volatile"
MARK_DEVICE = "/dev/ttyS1"

_marks = None


def mark(text):
    """Tells the host "now in phase X" on the second serial port (the host may kill
    QEMU at any instant after it), and notes it on the console."""
    global _marks
    if _marks is None:
        _marks = open(MARK_DEVICE, "w", buffering=1)
    _marks.write("PL %s\n" % text)
    _marks.flush()
    say("== %s" % text)


def say(text):
    print("[%8.2f] %s" % (time.monotonic(), text), flush=True)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RoundLog:
    """JSON lines in STATE_DIR/r<K>.log; every record is fsynced before `add`
    returns, so what the check reads after a power cut was really recorded."""

    def __init__(self, round_no):
        self.path = os.path.join(STATE_DIR, "r%d.log" % round_no)

    def add(self, **record):
        new = not os.path.exists(self.path)
        with open(self.path, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if new:
            fsync_dir(STATE_DIR)

    def records(self):
        if not os.path.exists(self.path):
            return []
        out = []
        with open(self.path) as f:
            for line in f:
                if line.endswith("\n"):  # a torn last line was never flushed
                    out.append(json.loads(line))
        return out


def entry(path, hashes=None):
    """What the check compares of one entry: type, content (sha256, or the link
    target), size, permission bits, owner and xattrs. `hashes` caches content
    hashes by (device, inode, size, mtime, ctime): only the workload, which alone
    writes its trees, passes one; the checks hash every file."""
    st = os.lstat(path)
    mode = st.st_mode
    e = {"m": stat.S_IMODE(mode), "o": "%d:%d" % (st.st_uid, st.st_gid), "s": 0, "h": ""}
    if stat.S_ISREG(mode):
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if hashes is not None and key in hashes:
            e.update(t="f", h=hashes[key], s=st.st_size)
        else:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            e.update(t="f", h=digest.hexdigest(), s=st.st_size)
            if hashes is not None:
                hashes[key] = e["h"]
    elif stat.S_ISDIR(mode):
        e["t"] = "d"
    elif stat.S_ISLNK(mode):
        e.update(t="l", h=os.readlink(path), m=0)
    elif stat.S_ISFIFO(mode):
        e["t"] = "p"
    else:
        e["t"] = "?"
    if e["t"] != "l":
        names = sorted(os.listxattr(path, follow_symlinks=False))
        e["x"] = {n: os.getxattr(path, n, follow_symlinks=False).hex() for n in names}
    else:
        e["x"] = {}
    return e


def scan(root, skip_top=(".flagged",), hashes=None):
    """{relative path: entry} of every entry below `root` (not following links)."""
    out = {}

    def walk(rel):
        full = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(full)):
            if not rel and name in skip_top:
                continue
            r = os.path.join(rel, name) if rel else name
            e = entry(os.path.join(root, r), hashes)
            out[r] = e
            if e["t"] == "d":
                walk(r)

    walk("")
    return out


def asd(command, conf, check=True):
    """Runs the installed asd on one config; its output goes to the console."""
    env = dict(os.environ, ASDCONF=conf)
    started = time.monotonic()
    done = subprocess.run(["/usr/bin/asd", command], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace")
    say("asd %s (%s): exit %d after %.2fs" % (command, os.path.basename(conf), done.returncode,
                                               time.monotonic() - started))
    for line in done.stdout.splitlines()[-12:]:
        say("   | " + line)
    if check and done.returncode != 0:
        raise RuntimeError("asd %s with %s exited %d" % (command, conf, done.returncode))
    return done.returncode


def configs(round_no):
    """The two asd instances of a round: a plain target and an overlay one."""
    base = "/srv/r%d" % round_no
    return [("/etc/asd-r%d-plain.conf" % round_no, base + "/plain", "no"),
            ("/etc/asd-r%d-overlay.conf" % round_no, base + "/overlay", "yes")]


def write_configs(round_no, engine):
    # "always": rsync on every tree (the workload chowns and chmods entries; with
    # "yes" a tree others can change would be copied by the built-in copier).
    from exclusions import config_lines  # it imports this module
    use_rsync = "always" if engine == "rsync" else "no"
    for conf, target, overlay in configs(round_no):
        with open(conf, "w") as f:
            f.write("# power-loss rig, round %d\n" % round_no)
            f.write("WHATTOSYNC=('%s')\nVOLATILE=\"%s\"\nUSE_OVERLAYFS=\"%s\"\n" % (target, VOLATILE, overlay))
            f.write("USE_BACKUPS=\"yes\"\nBACKUP_LIMIT=5\nUSE_RSYNC=\"%s\"\n" % use_rsync)
            f.write(config_lines(target))
            f.flush()
            os.fsync(f.fileno())
    fsync_dir("/etc")


def start_neighbour(interval=0.02):
    """A busy neighbour, as on any desktop (journald, a browser's SQLite): it
    fsyncs a file of its own every `interval` seconds. Each fsync commits the
    whole ext4 journal, so asd's renames reach the disk soon after they are made,
    and a rename that goes to disk before its file's data shows as an empty file.
    With /srv on its own disk (pl.fs) it fsyncs a file there too (on xfs that
    forces the log; btrfs is mounted with commit=1 instead)."""
    import threading

    def loop():
        paths = [os.path.join(STATE_DIR, "neighbour")]
        if os.path.ismount("/srv"):
            paths.append("/srv/.pl-neighbour")
        n = 0
        while True:
            n += 1
            for path in paths:
                with open(path, "w") as f:
                    f.write("%d\n" % n)
                    f.flush()
                    os.fsync(f.fileno())
            time.sleep(interval)

    threading.Thread(target=loop, daemon=True).start()


def shared_extent_files(root):
    """(files, files with an extent FIEMAP marks shared) under `root`, without
    flushing anything (no FIEMAP_FLAG_SYNC): on btrfs and xfs the evidence that
    a resync wrote clones (FICLONE of the disk file, sharing its unchanged blocks
    with the old inode the snapshot keeps) rather than whole new files."""
    import fcntl
    import struct
    fs_ioc_fiemap, shared_flag, count = 0xC020660B, 0x2000, 32
    files = shared = 0
    for top, _, names in os.walk(root):
        for name in names:
            path = os.path.join(top, name)
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            files += 1
            buf = bytearray(struct.pack("=QQIIII", 0, 0xFFFFFFFFFFFFFFFF, 0, 0, count, 0) + bytes(56 * count))
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    fcntl.ioctl(fd, fs_ioc_fiemap, buf)
                finally:
                    os.close(fd)
            except OSError:
                continue
            mapped = struct.unpack_from("=I", buf, 20)[0]
            if any(struct.unpack_from("=I", buf, 32 + 56 * i + 40)[0] & shared_flag for i in range(mapped)):
                shared += 1
    return files, shared
