#!/usr/bin/env python3
"""An application log with a commit index, for asd's consistency tests.

  applog.py run DIR STATS   append checksummed records to DIR/log back to back; after
                            each append (flushed), overwrite DIR/index in place with the
                            number of records: the index never counts a record the log
                            lacks. Every 20,000 records the index goes to 0 and the log
                            starts over. Writes STATS.ready once started; on SIGTERM writes
                            STATS: records and the longest append in ms.
  applog.py check DIR...    each DIR is a copy of the log's directory (as a power cut
                            would leave it): every record up to the index must be whole
                            and checksummed, in sequence. Prints "ok" or "torn: why" per
                            DIR, then "torn N of M".
"""
import os
import signal
import struct
import sys
import time
import zlib

HEADER = struct.Struct("<QII")  # sequence, payload length, crc32 of the payload
ROTATE = 20000  # records (about 11 MB) before the log starts over


def run(directory, stats):
    log = os.open(os.path.join(directory, "log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    index = os.open(os.path.join(directory, "index"), os.O_WRONLY | os.O_CREAT, 0o644)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(stats + ".ready", "w") as ready:
        ready.write("ready\n")
    sequence, longest, rotations = 0, 0.0, 0
    while not stop:
        if sequence == ROTATE:
            # Start over, index first: no instant has an index beyond the log.
            os.pwrite(index, b"%20d\n" % 0, 0)
            os.ftruncate(log, 0)
            sequence = 0
            rotations += 1
        sequence += 1
        payload = os.urandom(64 + sequence % 1000)
        began = time.monotonic()
        os.write(log, HEADER.pack(sequence, len(payload), zlib.crc32(payload)) + payload)
        os.pwrite(index, b"%20d\n" % sequence, 0)
        longest = max(longest, time.monotonic() - began)
        time.sleep(0.0005)  # about 1 MB/s: the log stays small enough to copy at every resync
    with open(stats + ".tmp", "w") as out:
        out.write(f"records {rotations * ROTATE + sequence}\nlongest_ms {longest * 1000:.2f}\n")
    os.rename(stats + ".tmp", stats)


def check_one(directory):
    try:
        with open(os.path.join(directory, "index"), "rb") as f:
            committed = int(f.read().strip() or b"0")
        with open(os.path.join(directory, "log"), "rb") as f:
            data = f.read()
    except FileNotFoundError as error:
        return f"torn: {error.filename} missing"
    offset, sequence = 0, 0
    while offset + HEADER.size <= len(data):
        number, length, crc = HEADER.unpack_from(data, offset)
        payload = data[offset + HEADER.size:offset + HEADER.size + length]
        if number != sequence + 1 or len(payload) < length or zlib.crc32(payload) != crc:
            break
        sequence, offset = number, offset + HEADER.size + length
    if sequence < committed:
        return f"torn: index says {committed} records, the log holds {sequence} whole ones"
    return "ok"


def check(directories):
    torn = 0
    for directory in directories:
        verdict = check_one(directory)
        torn += verdict != "ok"
        print(f"{directory}: {verdict}")
    print(f"torn {torn} of {len(directories)}")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)
