"""The loss window of `asd watch` (ASD_POWERLOSS_WATCH=1; guest/watch.py): where
the host cuts the power in a watch round, and the verdict at the next boot.

The guest reports every change on the marks port as it makes it (`c` before,
`d` after, CLOCK_MONOTONIC), each write-back of the watcher (`wb+`, `wb-` with its
duration) and a heartbeat; after the cut nothing of that depends on its disk. At
the next boot it recovers (`asd sync`, `asd unsync`) and lists the disk copy
(`ws PATH STATE`). Each path on disk must hold a version the application made
(else it is torn, a temp file or never existed), and no change older than
DELAY + W may be missing. The watcher starts the write-back carrying a change at
most DELAY after it saw it (later only behind a write-back longer than DELAY), so it
ends DELAY + that write-back's duration after the change. That duration is known for
completed write-backs; the one in progress at the cut lasts at least as long as it ran
until the cut. So W is the longest write-back completed before the cut in that boot,
or the one in progress so far when that is longer: a change missing only because the
write-back in progress has not ended passes if that write-back began in time."""
import math

DELAY = 10.0
ABSENT = "-"


class WatchPlan:
    """Round n: cut at a seeded instant 13-35 s after the watcher started ("any";
    the first write-back ends about 11 s in), or (every other pair of rounds, so
    that both chains get both kinds) inside a write-back that starts 13-25 s in, at a seeded fraction of the shortest
    write-back seen so far: just before a write-back ends is where the oldest
    change is missing."""
    run_step, check_step, phase, recovery = "watch", "wcheck", "watch", None

    def __init__(self, n, rng):
        self.n = n
        self.kind = "in-writeback" if ((n - 1) // 2) % 2 else "any"
        self.after = rng.uniform(13, 25) if self.kind == "in-writeback" else rng.uniform(13, 35)
        self.fraction = rng.uniform(0.2, 0.98)

    def cut(self, boot, timeout):
        """Cuts the power; returns (instant on the host's clock of the boot, what
        the host waited for), or None when the watcher never started."""
        hit = boot.wait_for(lambda text: text == "watch-begin r%d" % self.n, timeout)
        if hit is None:
            return None
        boot.sleep_watching(max(0.0, hit[0] + self.after - (boot.now())))
        how = "%.1fs after the watcher started" % self.after
        if self.kind == "in-writeback":
            started = boot.wait_for(lambda text: text.startswith("wb+ "), 60)
            if started is None:
                return None
            seen = [float(text.split()[2]) for _, text in boot.seen if text.startswith("wb- ")]
            # The first write-back after start takes the whole tree: it counts half.
            length = min([seen[0] / 2] + seen[1:]) if seen else 0.5
            boot.sleep_watching(self.fraction * length)
            how = "inside the first write-back %.0fs in, at %.2f of the shortest (%.2fs)" % (
                self.after, self.fraction, length)
        return boot.power_cut(), how


class Run:
    """What the host recorded of one watch round until the cut."""

    def __init__(self, seen, cut_host):
        self.base, self.changes, self.writebacks, pairs = {}, {}, [], []
        self.overlay, began = "?", None
        for host_t, text in seen:
            w = text.split()
            if not w:
                continue
            if w[0] == "base":
                self.base[w[1]] = w[2]
            elif w[0] == "c":
                items = [(w[i], w[i + 1].split(",")) for i in range(4, len(w) - 1, 2)]
                self.changes[int(w[1])] = dict(t0=float(w[2]), t1=None, op=w[3], items=items)
                pairs.append((host_t, float(w[2])))
            elif w[0] == "d" and int(w[1]) in self.changes:
                self.changes[int(w[1])]["t1"] = float(w[2])
                pairs.append((host_t, float(w[2])))
            elif w[0] == "wb+":
                began = float(w[1])
                pairs.append((host_t, began))
            elif w[0] == "wb-" and began is not None:
                self.writebacks.append(dict(begin=began, end=float(w[1]), length=float(w[2]), metrics=w[3]))
                began = None
                pairs.append((host_t, float(w[1])))
            elif w[0] in ("hb", "wt0"):
                pairs.append((host_t, float(w[1])))
                if w[0] == "wt0":
                    self.start, self.overlay = float(w[1]), w[2].split("=")[-1]
        self.open_writeback = began
        # The guest's clock at the cut: each line reached the host some time after
        # the guest wrote it, so host - guest at its smallest is the offset plus the
        # shortest delay; the estimate is not later than the real cut (lenient by
        # that delay, a few ms), nor earlier than the last line the guest sent.
        offset = min(h - g for h, g in pairs)
        self.cut = max(max(g for _, g in pairs), cut_host - offset)

    def history(self):
        """path -> [(time done or None while in flight, state, seq)], oldest first."""
        out = {p: [(-math.inf, s, 0)] for p, s in self.base.items()}
        for seq in sorted(self.changes):
            c = self.changes[seq]
            for path, states in c["items"]:
                out.setdefault(path, [(-math.inf, ABSENT, 0)])
                out[path] += [(c["t1"], s, seq) for s in states]
        return out


def verdict(run, disk):
    """(violations, report dict) for the disk listing {path: state}."""
    hist = run.history()
    longest = max((w["length"] for w in run.writebacks), default=0.0)
    running = run.cut - run.open_writeback if run.open_writeback is not None else 0.0
    bound = DELAY + max(longest, running)
    bad, missing, present = [], [], []
    for path in sorted(set(hist) | set(disk)):
        versions = hist.get(path, [(-math.inf, ABSENT, 0)])
        have = disk.get(path, ABSENT)
        matches = [i for i, v in enumerate(versions) if v[1] == have]
        if not matches:
            bad.append("%s on disk is %s, a version the application never made (torn, temp or debris)" % (path, have))
            continue
        k = max(matches)
        # An absent path matches its deletion and its time before creation: only an
        # unambiguous version tells when the disk copy was taken.
        if versions[k][0] not in (None, -math.inf) and len(matches) == 1:
            present.append((run.cut - versions[k][0], path, versions[k][2]))
        done = [v for v in versions[k + 1:] if v[0] is not None]
        if done:
            age = run.cut - done[0][0]
            missing.append((age, path, done[0][2]))
            if age > bound:
                c = run.changes[done[0][2]]
                bad.append("change %d (%s of %s) is missing %.2fs after it was made; bound %.2fs" % (
                    done[0][2], c["op"], path, age, bound))
    oldest_missing = max(missing, default=None)
    newest_present = min(present, default=None)
    after = [w for w in run.writebacks if w["end"] <= run.cut]
    if run.open_writeback is not None:
        where = "inside a write-back, %.2fs after it began" % (run.cut - run.open_writeback)
    elif after:
        where = "%.2fs after the last write-back ended" % (run.cut - after[-1]["end"])
    else:
        where = "before the first write-back"
    report = dict(cut=run.cut - run.start, where=where, changes=len(run.changes),
                  done=sum(1 for c in run.changes.values() if c["t1"] is not None),
                  writebacks=len(run.writebacks), longest=longest, running=running, bound=bound,
                  metrics=max((w["metrics"] for w in run.writebacks), default="-", key=lambda m: float(m)
                              if m != "-" else 0.0),
                  lost=oldest_missing, kept=newest_present, overlay=run.overlay,
                  consistent=oldest_missing is None or newest_present is None
                  or newest_present[0] >= oldest_missing[0])
    return bad, report


def describe(n, report):
    lost, kept = report["lost"], report["kept"]
    return ("loss window r%d (overlay=%s): cut %.1fs after the watcher started, %s; %d changes (%d done), "
            "%d write-backs, longest %.2fs (metrics %ss), bound %.2fs (%s); newest change on disk %s; oldest missing %s; "
            "one instant: %s" % (
                n, report["overlay"], report["cut"], report["where"], report["changes"], report["done"],
                report["writebacks"], report["longest"], report["metrics"], report["bound"],
                "%gs + the write-back in progress so far" % DELAY if report["running"] > report["longest"]
                else "%gs + the longest write-back" % DELAY,
                "%.2fs old (#%d %s)" % (kept[0], kept[2], kept[1]) if kept else "none (only the sync's state)",
                "%.2fs old (#%d %s)" % (lost[0], lost[2], lost[1]) if lost else "none",
                "yes" if report["consistent"] else "no"))


def disk_listing(seen, n):
    """{path: state} of the `ws` lines the check of round n sent, or None before its end."""
    out, lines = {}, [text for _, text in seen]
    if "ws-end r%d" % n not in lines:
        return None
    for text in lines[:lines.index("ws-end r%d" % n)]:
        w = text.split()
        if w and w[0] == "ws":
            out[w[1]] = w[2]
    return out


def summary(windows, rounds):
    """Prints the run's figures; returns 1 when fewer cuts than rounds were checked."""
    lost = [w[2]["lost"][0] for w in windows if w[2]["lost"]]
    kept = [w[2]["kept"][0] for w in windows if w[2]["kept"]]
    print("powerloss: loss window: %d of %d cuts checked, %d with violations; worst age of a lost change %s, "
          "newest change on disk at most %s old; bounds %s (%.0fs + the longest write-back seen, or the one "
          "in progress so far)" % (
              len(windows), rounds, sum(1 for w in windows if w[1]), "%.2fs" % max(lost) if lost else "none",
              "%.2fs" % max(kept) if kept else "-",
              "%.2f-%.2fs" % (min(w[2]["bound"] for w in windows), max(w[2]["bound"] for w in windows))
              if windows else "-", DELAY), flush=True)
    if len(windows) < rounds:
        print("FAIL  only %d of %d loss-window cuts were checked" % (len(windows), rounds), flush=True)
        return 1
    return 0
