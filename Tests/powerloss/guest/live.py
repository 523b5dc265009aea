"""A live SQLite database in the guest (Tests/writers/bank.py, copied to /opt/pl):
a third asd instance per round (/srv/rK/live; overlay mode in even rounds, WAL in odd
ones and the rollback journal in even ones) whose writer commits transfers during the
whole workload. Before each of its write-backs the round log gets nothing; after one
returns 0, the number of transactions the database had committed when it began
(`op="live"`). After a power cut the database restored from disk must open, pass
`integrity_check`, keep the sum of the balances, and hold at least that many
transactions (doc/DESIGN.md, "Consistent write-back")."""
import os
import subprocess
import time

import bank
from common import RoundLog, VOLATILE, asd, fsync_dir, say

STATS = "/run/pl-bank"


def conf(round_no):
    return "/etc/asd-r%d-live.conf" % round_no


def target(round_no):
    return "/srv/r%d/live" % round_no


class Live:
    def __init__(self, round_no, engine):
        self.round_no, self.log = round_no, RoundLog(round_no)
        self.db = os.path.join(target(round_no), "bank.db")
        self.writer = None
        os.makedirs(target(round_no))
        overlay = "yes" if round_no % 2 == 0 else "no"
        with open(conf(round_no), "w") as f:
            f.write("WHATTOSYNC=('%s')\nVOLATILE=\"%s\"\nUSE_OVERLAYFS=\"%s\"\n" % (target(round_no), VOLATILE, overlay))
            f.write("USE_BACKUPS=\"no\"\nUSE_RSYNC=\"%s\"\n" % ("always" if engine == "rsync" else "no"))
            f.flush()
            os.fsync(f.fileno())
        fsync_dir("/etc")

    def start(self):
        asd("sync", conf(self.round_no))
        journal = "wal" if self.round_no % 2 else "delete"
        env = dict(os.environ, BANK_ACCOUNTS="2000", BANK_PAUSE="0.005")
        self.writer = subprocess.Popen(["python3", bank.__file__, "run", self.db, journal, STATS], env=env)
        while not os.path.exists(STATS + ".ready"):
            if self.writer.poll() is not None:
                raise RuntimeError("the live SQLite writer exited with %d" % self.writer.returncode)
            time.sleep(0.01)

    def write_back(self, command="resync"):
        if command == "unsync":
            self.writer.terminate()
            self.writer.wait()
        n = bank.committed(self.db)
        asd(command, conf(self.round_no))
        self.log.add(op="live", n=n)


def check(round_no):
    """None, or (what, path, detail) of the first failure."""
    if not os.path.exists(conf(round_no)):
        return None
    done = [r["n"] for r in RoundLog(round_no).records() if r["op"] == "live"]
    asd("sync", conf(round_no))
    asd("unsync", conf(round_no))
    db = os.path.join(target(round_no), "bank.db")
    if not os.path.exists(db):
        return None if not done else ("live", db, "missing after %d completed write-backs" % len(done))
    verdict = bank.check_one(target(round_no), "bank.db", at_least=max(done, default=0))
    say("live database of round %d: %s (last completed write-back had %d transactions)" % (
        round_no, verdict, max(done, default=0)))
    return None if verdict == "ok" else ("live", db, verdict)
