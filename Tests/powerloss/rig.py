#!/usr/bin/env python3
"""Power-loss test of asd: a QEMU guest whose page cache is lost (SIGKILL of QEMU).

Run as root: `make powerloss-test` (or Tests/powerloss/rig.py). See README.md here.
Environment:
  ASD_POWERLOSS_ROUNDS   kill rounds (default 8: the fixed CI set, 8 kill points)
  ASD_POWERLOSS_PHASES   only these phases, in turn (sync,resync,after-resync,unsync,recovery)
  ASD_POWERLOSS_SEED     base seed (default 1); a round's seed is SEED*1000+round
  ASD_POWERLOSS_ENGINE   builtin | rsync (writes USE_RSYNC into the guest's configs)
  ASD_POWERLOSS_FS       ext4 | btrfs | xfs: the file system of /srv (the targets); btrfs
                         and xfs are a second disk made by mkfs (default ext4: the root)
  ASD_POWERLOSS_JOBS     guests run side by side, each on its own disk with its share of
                         the rounds (default: 2 on 2+ CPUs; TCG keeps one core busy each)
  ASD_POWERLOSS_ACCEL    kvm | tcg (default: probe KVM for a few seconds, else TCG)
  ASD_POWERLOSS_ITERATIONS  resyncs per round (default 3)
  ASD_POWERLOSS_FILES    files per target at the start (default 150)
  ASD_POWERLOSS_BINARY   the asd to install (default .build/release/asd)
  ASD_POWERLOSS_WATCH=1  loss-window rounds of `asd watch` with RESYNC_DELAY=10 instead
                         (losswin.py, guest/watch.py)
  ASD_KEEP_WORKDIR=1     keep the work directory (disk image, console logs)
Exit status 0 only when the control experiment showed the loss and every round passed."""
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image  # noqa: E402
import losswin  # noqa: E402
import vm  # noqa: E402
from plan import KillPlan, Estimates, plan_rounds  # noqa: E402

BOOT_TIMEOUT = 420


class Rig:
    def __init__(self, work, accel, kernel, initrd, disk, extra, prefix=""):
        self.work, self.accel, self.kernel, self.initrd, self.disk = work, accel, kernel, initrd, disk
        self.extra, self.prefix = extra, prefix
        self.boots = 0
        self.failures = []
        self.landings = []
        self.estimates = Estimates()
        self.watch_runs = {}    # watch round -> losswin.Run until its check boot
        self.windows = []       # (round, violations, report) of the checked watch rounds

    def boot(self, steps, attempts=3):
        """Boots until the guest program starts. A boot that dies before (a kernel
        panic in its timer check under an overloaded TCG host) never touched the
        disk, so it is retried; the third such failure fails the test."""
        for attempt in range(1, attempts + 1):
            self.boots += 1
            name = "%sboot%02d" % (self.prefix, self.boots)
            image.log("%s: %s" % (name, steps))
            boot = vm.Boot(name, self.accel, self.kernel, self.initrd, self.disk, steps, self.extra, self.work)
            if boot.wait_for(lambda text: text.startswith("step "), BOOT_TIMEOUT):
                return boot
            boot.finish(5)
            image.log("%s: the guest program never started (attempt %d of %d); console:\n%s" % (
                name, attempt, attempts, boot.console_tail(8)))
        self.fail(boot, "%d boots in a row never reached the guest program" % attempts)
        raise SystemExit(1)

    def fail(self, boot, text):
        self.failures.append(text)
        print("FAIL  " + text, flush=True)
        print("---- console of %s (last lines; whole: %s)" % (boot.name, boot.console))
        print(boot.console_tail(), flush=True)
        print("----", flush=True)

    def collect(self, boot):
        """Results the guest announced in this boot (checks, control, errors)."""
        for _, text in boot.seen:
            if text.startswith("check-pass"):
                print("PASS  %s" % text, flush=True)
            elif text.startswith("check-fail"):
                round_no = int(text.split()[1][1:])
                self.fail(boot, "%s\n      round %d: %s" % (text, round_no, self.describe(round_no)))
            elif text.startswith("error"):
                self.fail(boot, "guest error in %s: %s" % (boot.name, text))
            elif text.startswith("control "):
                fields = dict(w.split("=", 1) for w in text.split()[1:])
                shown = fields["nofsync"] in ("missing", "empty") and fields["fsync"] == "intact"
                verdict = "PASS" if shown else "FAIL"
                line = "control experiment: unflushed file came back %s, fsynced file %s" % (
                    fields["nofsync"], fields["fsync"])
                if shown:
                    print("%s  %s" % (verdict, line), flush=True)
                else:
                    self.fail(boot, line + " (the rig cannot show a lost page cache, so it proves nothing)")
        self.estimates.learn(boot)
        for n in sorted(self.watch_runs):
            disk = losswin.disk_listing(boot.seen, n)
            if disk is None:
                continue
            bad, report = losswin.verdict(self.watch_runs.pop(n), disk)
            self.windows.append((n, bad, report))
            line = losswin.describe(n, report) + " (%s)" % self.describe(n)
            if bad:
                self.fail(boot, line + "\n      " + "\n      ".join(bad[:5]))
            else:
                print("PASS  " + line, flush=True)

    def describe(self, round_no):
        hits = [l for l in self.landings if l["round"] == round_no]
        return "; ".join("seed %d, kill %s" % (l["seed"], l["text"]) for l in hits) or "no kill"

    def watch_cut(self, boot, plan, round_no, seed):
        """A loss-window round: the plan picks the instant; the run is kept for its check."""
        got = plan.cut(boot, BOOT_TIMEOUT)
        if got is None:
            boot.finish(10)
            self.fail(boot, "round %d: the watcher never started or never wrote back" % round_no)
            return
        at, how = got
        self.watch_runs[round_no] = losswin.Run(boot.seen, at)
        text = "%s (%.1fs into %s)" % (how, at, boot.name)
        self.landings.append(dict(round=round_no, seed=seed, phase="watch", text=text))
        image.log("round %d: power cut %s" % (round_no, text))

    def cut(self, boot, plan, round_no, seed):
        """Waits for the plan's marker, sleeps its delay, cuts the power."""
        if isinstance(plan, losswin.WatchPlan):
            return self.watch_cut(boot, plan, round_no, seed)
        hit = boot.wait_for(lambda text: text == plan.marker, BOOT_TIMEOUT)
        if hit is None:
            boot.finish(10)
            self.landings.append(dict(round=round_no, seed=seed, phase=plan.phase,
                                      text="never reached %r" % plan.marker))
            self.fail(boot, "round %d: marker %r never came" % (round_no, plan.marker))
            return
        self.estimates.learn(boot)  # this boot's earlier phases count too
        delay = plan.delay(self.estimates)
        boot.sleep_watching(delay)
        at = boot.power_cut()
        after = [text for t, text in boot.seen if t > hit[0]]
        where = plan.phase if not any(plan.ends(text) for text in after) else "after " + plan.phase
        text = "in phase %s: %.3fs after %r (%.1fs into %s), markers since: %s" % (
            where, at - hit[0], plan.marker, at, boot.name, ", ".join(after) or "none")
        self.landings.append(dict(round=round_no, seed=seed, phase=where, text=text))
        image.log("round %d: power cut %s" % (round_no, text))

    def run(self, plans, seed, control):
        """The control experiment (when `control`), then the rounds [(number, plan)]
        on this rig's disk, each checked at the boot after its power cut."""
        pending = []
        if control:
            boot = self.boot("control-write")
            hit = boot.wait_for(lambda text: text == "control-written", BOOT_TIMEOUT)
            if hit is None:
                self.fail(boot, "control experiment: the guest never wrote its files")
                boot.finish(5)
                return
            boot.sleep_watching(1.0)
            boot.power_cut()
            pending = ["control-check"]
        for n, plan in plans:
            round_seed = seed * 1000 + n
            boot = self.boot(",".join(pending + ["%s:%d:%d" % (plan.run_step, n, round_seed)]))
            self.cut(boot, plan, n, round_seed)
            self.collect(boot)
            if plan.recovery:
                boot = self.boot("recover:%d" % n)
                self.cut(boot, plan.recovery, n, round_seed)
                self.collect(boot)
            pending = ["%s:%d" % (plan.check_step, n)]
        if not pending:
            return
        boot = self.boot(",".join(pending))
        if not boot.finish(BOOT_TIMEOUT):
            self.fail(boot, "the last check boot did not power off in %ds" % BOOT_TIMEOUT)
        self.collect(boot)


def main():
    if os.geteuid() != 0:
        sys.exit("powerloss: must run as root")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    binary = os.environ.get("ASD_POWERLOSS_BINARY", os.path.join(repo, ".build/release/asd"))
    rounds = int(os.environ.get("ASD_POWERLOSS_ROUNDS", "8"))
    jobs = int(os.environ.get("ASD_POWERLOSS_JOBS") or min(2, os.cpu_count() or 1))
    seed = int(os.environ.get("ASD_POWERLOSS_SEED", "1"))
    engine = os.environ.get("ASD_POWERLOSS_ENGINE", "builtin")
    if engine not in ("builtin", "rsync"):
        sys.exit("powerloss: ASD_POWERLOSS_ENGINE must be builtin or rsync")
    fs = os.environ.get("ASD_POWERLOSS_FS", "ext4")
    if fs not in image.FS_MODULES:
        sys.exit("powerloss: ASD_POWERLOSS_FS must be ext4, btrfs or xfs")
    extra = "pl.engine=%s pl.fs=%s pl.iterations=%s pl.files=%s" % (
        engine, fs, os.environ.get("ASD_POWERLOSS_ITERATIONS", "3"), os.environ.get("ASD_POWERLOSS_FILES", "150"))
    mkfs = {"ext4": (), "btrfs": ("mkfs.btrfs",), "xfs": ("mkfs.xfs",)}[fs]
    for tool in (vm.QEMU, "mkfs.ext4", "zstd", "tar", "dpkg-deb", "apt-get", "debootstrap") + mkfs:
        if not shutil.which(tool):
            sys.exit("powerloss: %s is missing (apt-get install qemu-system-x86 e2fsprogs zstd debootstrap "
                     "busybox-static btrfs-progs xfsprogs)" % tool)
    if not os.path.exists(binary):
        sys.exit("powerloss: %s is missing (run make)" % binary)
    started = time.monotonic()
    os.makedirs("/var/tmp", exist_ok=True)
    work = tempfile.mkdtemp(prefix="asd-powerloss.", dir="/var/tmp")
    try:
        image.ensure_rootfs(work)
        kernel, modules, order = image.ensure_kernel(work, fs)
        initrd = image.build_initramfs(work, modules, order)
        disks = [image.build_disk(work, binary)] + ([image.build_srv_disk(work, fs)] if fs != "ext4" else [])
        accel = os.environ.get("ASD_POWERLOSS_ACCEL") or ("kvm" if vm.kvm_works(kernel, initrd, work) else "tcg")
        image.log("accelerator %s, engine %s, /srv on %s, %d rounds, seed %d, work dir %s (%.0fs to prepare)" % (
            accel, engine, fs, rounds, seed, work, time.monotonic() - started))
        plans = list(enumerate(plan_rounds(rounds, random.Random(seed)), start=1))
        if os.environ.get("ASD_POWERLOSS_WATCH") == "1":
            plans = [(n, losswin.WatchPlan(n, random.Random(seed * 1000 + n))) for n in range(1, rounds + 1)]
        rigs, threads = [], []
        for j in range(max(1, min(jobs, rounds))):
            chain_disk = disks
            if j > 0:
                chain_disk = [os.path.join(work, "%s%d.img" % (os.path.basename(d)[:-4], j)) for d in disks]
                for src, dst in zip(disks, chain_disk):
                    image.sh(["cp", "--sparse=always", src, dst])
            rig = Rig(work, accel, kernel, initrd, chain_disk, extra, prefix="c%d-" % j if jobs > 1 else "")
            rigs.append(rig)
            threads.append(threading.Thread(target=rig.run, args=(plans[j::jobs], seed, j == 0)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        failures = sum(len(r.failures) for r in rigs)
        print("powerloss: kills:")
        for l in sorted((l for r in rigs for l in r.landings), key=lambda l: l["round"]):
            print("  round %d (seed %d): %s" % (l["round"], l["seed"], l["text"]))
        if os.environ.get("ASD_POWERLOSS_WATCH") == "1":
            failures += losswin.summary(sorted((w for r in rigs for w in r.windows), key=lambda w: w[0]), rounds)
        status = "%d boots in %d chain(s), /srv on %s, %d rounds, %d failures, %.0fs" % (
            sum(r.boots for r in rigs), len(rigs), fs, rounds, failures, time.monotonic() - started)
        print("powerloss: " + status)
        return 1 if failures else 0
    finally:
        if os.environ.get("ASD_KEEP_WORKDIR") == "1":
            image.log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
