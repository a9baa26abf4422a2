#!/usr/bin/env python3
"""Deterministic data set for bench/backup_compare.sh (about 1 GiB by default).

  backup_dataset.py make DIR [SCALE]    logs, a SQLite database, incompressible binaries and
                                        20,000 small files; SCALE 1.0 is about 1 GiB
  backup_dataset.py change DIR          the "5 % change": a new log file, rows updated and
                                        added in the database, 8 MiB rewritten inside one
                                        binary, 1,000 small files edited, 200 added

The same SCALE gives the same bytes on every machine (seeded generators, AES-CTR of zeros for
the incompressible part), so runs on different days compare.
"""
import os
import random
import sqlite3
import subprocess
import sys

LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
SERVICES = ["auth", "records", "intake", "gateway", "billing", "reports", "archive"]
WORDS = ("request completed user department record submitted validation failed retry timeout "
         "connection pool exhausted cache miss session expired upload finished batch entry "
         "county office permit inspection approved rejected pending queue latency").split()


def log_lines(rng, n, day):
    out = []
    t = 0
    for _ in range(n):
        t += rng.randint(1, 900)
        s = t // 1000
        msg = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
        out.append("2026-11-%02d %02d:%02d:%02d.%03d %-5s [%s] req=%08x user=u%04d %s\n" % (
            day, (s // 3600) % 24, (s // 60) % 60, s % 60, t % 1000, rng.choice(LEVELS),
            rng.choice(SERVICES), rng.getrandbits(32), rng.randint(0, 4000), msg))
    return "".join(out)


def write_logs(d, total, seed, first_day=1):
    rng = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    files = max(1, total // (30 << 20))
    for i in range(files):
        with open(os.path.join(d, "app-%02d.log" % (first_day + i)), "w") as f:
            written = 0
            while written < total // files:
                chunk = log_lines(rng, 20000, (first_day + i - 1) % 28 + 1)
                f.write(chunk)
                written += len(chunk)


def write_db(path, rows, seed):
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, department TEXT, clerk TEXT, "
               "entered_at TEXT, amount REAL, status TEXT, note TEXT)")
    batch = []
    for i in range(rows):
        batch.append((i, rng.choice(SERVICES), "clerk%03d" % rng.randint(0, 300),
                      "2026-%02d-%02dT%02d:%02d:00" % (rng.randint(1, 12), rng.randint(1, 28),
                                                      rng.randint(0, 23), rng.randint(0, 59)),
                      round(rng.random() * 10000, 2), rng.choice(["new", "checked", "filed"]),
                      " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 20)))))
        if len(batch) == 10000:
            db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?)", batch)
            batch = []
    if batch:
        db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?)", batch)
    db.execute("CREATE INDEX by_department ON entries (department, entered_at)")
    db.commit()
    db.close()


def incompressible(path, size, seed):
    # AES-256-CTR of zeros under a key made from the seed: fast, deterministic, random-looking.
    key = ("%064x" % (seed * 0x9E3779B97F4A7C15 % (1 << 256)))
    with open(path, "wb") as out:
        enc = subprocess.Popen(["openssl", "enc", "-aes-256-ctr", "-nosalt", "-K", key, "-iv", "0" * 32],
                               stdin=subprocess.PIPE, stdout=out)
        zeros = bytes(1 << 20)
        left = size
        while left > 0:
            n = min(left, len(zeros))
            enc.stdin.write(zeros[:n])
            left -= n
        enc.stdin.close()
        enc.wait()


def small_file(rng, path):
    kind = rng.random()
    if kind < 0.6:  # text: configuration, records, small reports
        text = "\n".join("%s = %s" % (rng.choice(WORDS), " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))))
                         for _ in range(rng.randint(5, 250)))
        data = text.encode()
    else:  # scanned forms, thumbnails: mostly incompressible
        data = rng.randbytes(rng.randint(1024, 24576))
    with open(path, "wb") as f:
        f.write(data)


def make(d, scale):
    os.makedirs(d, exist_ok=True)
    write_logs(os.path.join(d, "logs"), int(300 * scale) << 20, 1)
    write_db(os.path.join(d, "records.sqlite"), int(1_500_000 * scale), 2)
    os.makedirs(os.path.join(d, "bin"), exist_ok=True)
    for i in range(5):
        incompressible(os.path.join(d, "bin", "image-%d.bin" % i), int(50 * scale) << 20, 3 + i)
    rng = random.Random(9)
    n = int(20000 * scale)
    for i in range(n):
        sub = os.path.join(d, "forms", "%03d" % (i // 200))
        if i % 200 == 0:
            os.makedirs(sub, exist_ok=True)
        small_file(rng, os.path.join(sub, "form-%05d.dat" % i))


def change(d):
    write_logs(os.path.join(d, "logs"), 30 << 20, 77, first_day=29)  # one new day of logs
    db = sqlite3.connect(os.path.join(d, "records.sqlite"))
    (rows,) = db.execute("SELECT count(*) FROM entries").fetchone()
    db.execute("UPDATE entries SET status = 'corrected', amount = amount + 1 WHERE id BETWEEN ? AND ?",
               (rows // 2, rows // 2 + rows // 100))
    rng = random.Random(78)
    db.executemany("INSERT INTO entries (department, clerk, entered_at, amount, status, note) VALUES (?,?,?,?,?,?)",
                   [(rng.choice(SERVICES), "clerk%03d" % rng.randint(0, 300), "2026-11-30T08:00:00",
                     rng.random() * 100, "new", " ".join(rng.choice(WORDS) for _ in range(8)))
                    for _ in range(rows // 50)])
    db.commit()
    db.close()
    path = os.path.join(d, "bin", "image-0.bin")
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 3)
        f.write(random.Random(79).randbytes(8 << 20))
    forms = sorted(os.path.join(r, f) for r, _, fs in os.walk(os.path.join(d, "forms")) for f in fs)
    for p in forms[::max(1, len(forms) // 1000)][:1000]:
        with open(p, "ab") as f:
            f.write(b"\nreviewed = yes\n")
    os.makedirs(os.path.join(d, "forms", "new"), exist_ok=True)
    for i in range(200):
        small_file(rng, os.path.join(d, "forms", "new", "form-new-%03d.dat" % i))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("make", "change"):
        sys.exit(__doc__)
    if sys.argv[1] == "make":
        make(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 1.0)
    else:
        change(sys.argv[2])
