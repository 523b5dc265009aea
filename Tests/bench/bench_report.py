"""The report of Tests/bench/run.sh (`bench.py report`): medians per implementation,
scenario and operation from the results TSV, with ratios against upstream and targets."""

import statistics
import time

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
