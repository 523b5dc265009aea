#!/usr/bin/env python3
"""A live SQLite writer and the checks of its database, for asd's consistency tests.

  bank.py run DB MODE STATS [SECONDS]  commit transfers between 20,000 accounts back to back
                                    (MODE: wal or delete); the sum of the balances never
                                    changes. Writes STATS.ready once the database exists;
                                    on SIGTERM (or after SECONDS) writes STATS: commits and
                                    the longest commit in ms.
  bank.py check DIR...              each DIR holds a copy of the database's directory (as a
                                    power cut would leave it): opens a copy of it, runs
                                    PRAGMA integrity_check and sums the balances. Prints one
                                    line per DIR, "ok" or "torn: why", then "torn N of M".
"""
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time

ACCOUNTS = int(os.environ.get("BANK_ACCOUNTS", "20000"))
BALANCE = 1000
# Each row carries this much filler, so the database spans many pages (about 3 MB)
# and a copy of it takes long enough for the writer to commit meanwhile.
FILLER = 100
# Seconds between two transactions (BANK_PAUSE; default none: back to back).
PAUSE = float(os.environ.get("BANK_PAUSE", "0"))
# Bytes of a blob each transaction also rewrites (BANK_BLOB; default none), one of
# BLOBS rows: a writer that changes megabytes between two write-backs.
BLOB = int(os.environ.get("BANK_BLOB", "0"))
BLOBS = 160


def run(db, mode, stats, seconds=None):
    con = sqlite3.connect(db, isolation_level=None)
    con.execute(f"PRAGMA journal_mode={mode}")
    con.execute("CREATE TABLE IF NOT EXISTS account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, filler BLOB)")
    con.execute("CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL)")
    if con.execute("SELECT count(*) FROM account").fetchone()[0] == 0:
        con.execute("BEGIN")
        con.execute("INSERT INTO counter VALUES (0)")
        con.executemany("INSERT INTO account VALUES (?, ?, ?)", ((i, BALANCE, os.urandom(FILLER)) for i in range(ACCOUNTS)))
        con.execute("COMMIT")
    if BLOB:
        con.execute("CREATE TABLE IF NOT EXISTS blob (id INTEGER PRIMARY KEY, data BLOB)")
        con.executemany("INSERT OR IGNORE INTO blob VALUES (?, zeroblob(?))", ((i, BLOB) for i in range(BLOBS)))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(stats + ".ready", "w") as ready:
        ready.write("ready\n")
    commits, longest = 0, 0.0
    end = time.monotonic() + seconds if seconds else None
    rng = random.Random(os.getpid())
    while not stop and (end is None or time.monotonic() < end):
        a, b = rng.randrange(ACCOUNTS), rng.randrange(ACCOUNTS)
        amount = rng.randrange(1, 100)
        began = time.monotonic()
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE account SET balance = balance - ? WHERE id = ?", (amount, a))
        con.execute("UPDATE account SET balance = balance + ? WHERE id = ?", (amount, b))
        con.execute("UPDATE counter SET n = n + 1")
        if BLOB:
            con.execute("UPDATE blob SET data = ? WHERE id = ?", (rng.randbytes(BLOB), rng.randrange(BLOBS)))
        con.execute("COMMIT")
        longest = max(longest, time.monotonic() - began)
        commits += 1
        if PAUSE:
            time.sleep(PAUSE)
    con.close()
    with open(stats + ".tmp", "w") as out:
        out.write(f"commits {commits}\nlongest_ms {longest * 1000:.2f}\n")
    os.rename(stats + ".tmp", stats)


def committed(db):
    """Transactions the live database at `db` has committed (a reader of its own)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT n FROM counter").fetchone()[0]
    finally:
        con.close()


def check_one(directory, name, at_least=0):
    """"ok" or why the database in a copy of `directory` is not a state that existed
    (or holds fewer than `at_least` transactions)."""
    with tempfile.TemporaryDirectory() as scratch:
        for entry in os.listdir(directory):
            if entry.startswith(name):
                shutil.copy2(os.path.join(directory, entry), scratch)
        path = os.path.join(scratch, name)
        if not os.path.exists(path):
            return "torn: no database"
        try:
            con = sqlite3.connect(path, isolation_level=None)
            integrity = con.execute("PRAGMA integrity_check").fetchall()
            if integrity != [("ok",)]:
                return f"torn: integrity_check {integrity[:3]}"
            count, total = con.execute("SELECT count(*), sum(balance) FROM account").fetchone()
            transactions = con.execute("SELECT n FROM counter").fetchone()[0]
            con.close()
        except sqlite3.DatabaseError as error:
            return f"torn: {error}"
        # The writer only moves money between rows: every state that existed has all
        # its accounts and their first total (the count is the writer's BANK_ACCOUNTS,
        # which need not be this process's).
        if count == 0 or total != count * BALANCE:
            return f"torn: {count} accounts, sum {total}"
        if transactions < at_least:
            return f"old: {transactions} transactions, the last completed write-back had {at_least}"
        return "ok"


def check(directories, name="bank.db"):
    torn = 0
    for directory in directories:
        verdict = check_one(directory, name)
        torn += verdict != "ok"
        print(f"{directory}: {verdict}")
    print(f"torn {torn} of {len(directories)}")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]) if len(sys.argv) > 5 else None)
    elif sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)
