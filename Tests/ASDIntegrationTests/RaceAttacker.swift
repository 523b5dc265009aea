/// The attacker of `RaceAttackTests`: a python3 program run as the target's
/// (unprivileged) owner. Woken by inotify whenever root opens or creates
/// something in the trees it owns, it swaps that directory or file for a
/// symlink to a root-only decoy for a moment and puts it back; between events
/// it does the same to random entries and keeps planting symlinks under the
/// names asd is about to use (disk copy, snapshot and `.partial`, temp
/// directory, archive and archive temp names, and, in VOLATILE mode, asd's
/// per-user directories; mode `volatile` does only that, mode `tree` the rest). It never learns the decoys' content: it only names
/// their paths. Runs while `$FLAG` exists; exits when `$STOP` exists, writing
/// its counters to `$STATS`.
enum RaceAttacker {
    static let program = #"""
    import ctypes, os, random, select, struct, sys, time

    target, parent, volatile, instance, decoy_file, decoy_dir, flag, stop, stats_path, modes = sys.argv[1:11]
    modes = modes.split(",")
    libc = ctypes.CDLL(None, use_errno=True)
    IN_ACCESS, IN_OPEN, IN_CREATE, IN_MOVED_TO, IN_ISDIR, IN_NONBLOCK = 0x1, 0x20, 0x100, 0x80, 0x40000000, 0o4000
    fd = libc.inotify_init1(IN_NONBLOCK)
    watches = {}
    rng = random.Random(int(os.environ.get("ASD_RACE_SEED", "1")))
    stats = {"events": 0, "swaps": 0, "plants": 0}
    me = os.getuid()
    base = os.path.basename(target)
    dotted = base if base.startswith(".") else "." + base
    disk = dotted + "-backup_asd"
    plant_names = [disk, disk + "-old", disk + "-old.partial", disk + "-tmp"]

    def watch(path):
        w = libc.inotify_add_watch(fd, path.encode(), IN_OPEN | IN_ACCESS | IN_CREATE | IN_MOVED_TO)
        if w >= 0:
            watches[w] = path

    def watch_trees():
        try:
            for root, dirs, files in os.walk(parent):
                watch(root)
        except OSError:
            pass

    def decoy_for(path):
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if st.st_uid != me or os.path.islink(path):
            return None
        return decoy_dir if os.path.isdir(path) else decoy_file

    def swap(path):
        decoy = decoy_for(path)
        if decoy is None or path.endswith(".asd-attack"):
            return
        aside = path + ".asd-attack"
        try:
            os.rename(path, aside)
        except OSError:
            return
        try:
            os.symlink(decoy, path)
            stats["swaps"] += 1
            pause = rng.choice([0, 0, 0.0002, 0.001, 0.003])
            if pause:
                time.sleep(pause)
        except OSError:
            pass
        finally:
            try:
                if os.path.islink(path):
                    os.unlink(path)
            except OSError:
                pass
            try:
                os.rename(aside, path)
            except OSError:
                pass

    def plant(directory, name, decoy):
        path = os.path.join(directory, name)
        try:
            os.symlink(decoy, path)
            stats["plants"] += 1
        except OSError:
            pass

    def unplant(directory):
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            path = os.path.join(directory, name)
            try:
                if os.path.islink(path) and os.lstat(path).st_uid == me and rng.random() < 0.5:
                    os.unlink(path)
            except OSError:
                pass

    def plant_round():
        if "volatile" in modes:
            user = str(me)
            for name in [instance + "-" + user, "." + instance + "-" + user]:
                plant(volatile, name, decoy_dir)
            unplant(volatile)
        if "tree" not in modes:
            return
        stamp = time.strftime("%Y%m%d_%H%M%S")
        archive = disk + "-crashrecovery-" + stamp + ".tar.zstd"
        names = plant_names + [archive, archive + ".partial-" + str(rng.randint(1, 1 << 22))]
        for name in rng.sample(names, 2):
            plant(parent, name, decoy_dir if rng.random() < 0.5 else decoy_file)
        unplant(parent)

    def random_swap():
        try:
            pick = parent
            for _ in range(rng.randint(1, 5)):
                names = os.listdir(pick)
                if not names:
                    break
                nxt = os.path.join(pick, rng.choice(names))
                if os.path.islink(nxt):
                    break
                pick = nxt
                if not os.path.isdir(pick):
                    break
            if pick != parent:
                swap(pick)
        except OSError:
            pass

    active = False
    while not os.path.exists(stop):
        now = os.path.exists(flag)
        if now and not active:
            watch_trees()
        active = now
        ready, _, _ = select.select([fd], [], [], 0.002)
        data = b""
        if ready:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                pass
        if not active:
            continue
        if "tree" not in modes:
            plant_round()
            continue
        offset = 0
        while offset + 16 <= len(data):
            wd, mask, cookie, length = struct.unpack_from("iIII", data, offset)
            name = data[offset + 16: offset + 16 + length].rstrip(b"\0").decode("utf-8", "surrogateescape")
            offset += 16 + length
            stats["events"] += 1
            directory = watches.get(wd)
            if directory is None:
                continue
            path = os.path.join(directory, name) if name else directory
            if mask & IN_CREATE and mask & IN_ISDIR:
                watch(path)
            if path != parent and rng.random() < 0.7:
                # The entry root is opening, or a directory above it: a walk by full
                # path that checks only the last component goes wrong on the latter.
                # The target itself only now and then (while it is not a mount point),
                # or asd would mostly find no target at all.
                up = os.path.dirname(path)
                pick = up if up.startswith(parent + "/") and rng.random() < 0.5 else path
                if pick != target or rng.random() < 0.05:
                    swap(pick)
        random_swap()
        plant_round()

    with open(stats_path, "w") as out:
        out.write(" ".join("%s=%d" % kv for kv in sorted(stats.items())) + "\n")
    """#
}
