#!/usr/bin/env python3
"""Continuous archiving of SQLite (issue 20): the figures.

  1. Recovery point: a writer (another process) commits a row every 20 ms
     while `citaplanner archive` runs; for each commit, the time until the
     manifest line of a segment holding it is durable (the segment fsynced,
     then its line appended and fsynced), median and p99, at
     ARCHIVE_SQLITE_INTERVAL_MS 1000 (the default) and 100.
  2. Booking throughput of `serve` on SQLite (wrk, bench/booking_bench.lua:
     every request a real 201 booking) with ARCHIVE_SQLITE=on vs off, runs
     interleaved (off, on, off, on, ...); the ratio of the medians.

  /usr/bin/python3 bench/archive_sqlite_bench.py

Environment: CITAPLANNER_BIN (default build/citaplanner: use an optimized
build, not the sanitizer build of the tests), BENCH_SECONDS (each timed part,
default 10), BENCH_ROUNDS (throughput runs per mode, default 3).  Not part of
`make test`.
"""
import glob
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from booking_load import book_for, receptionist_token, wait_healthy  # noqa: E402
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("CITAPLANNER_BIN", os.path.join(ROOT, "build/citaplanner"))
SECS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def base_env(work, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "BACKUP_", "DATABASE_"))}
    env.update(DATABASE_URL="sqlite://%s/app.db" % work, BACKUP_DIR="%s/bk" % work, BACKUP_SCHEDULE="off",
               LOG_LEVEL="warn", SEED_ON_BOOT="never")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(len(xs) * p / 100.0)) - 1))]


def manifest_lines(work):
    out = []
    for m in sorted(glob.glob("%s/bk/wal-sqlite/*/manifest" % work)):
        with open(m) as f:
            out += [l for l in f.read().split("\n") if l.startswith("segment ")]
    return out


def recovery_point(interval_ms):
    work = tempfile.mkdtemp(prefix="citaplanner-arbench.")
    try:
        env = base_env(work, ARCHIVE_SQLITE_INTERVAL_MS=interval_ms)
        c = sqlite3.connect("%s/app.db" % work, isolation_level=None)
        c.execute("pragma journal_mode=wal")
        c.execute("create table t(id integer primary key, v text)")
        arch = subprocess.Popen([BIN, "archive"], env=env)
        while not glob.glob("%s/bk/wal-sqlite/*/manifest" % work):
            time.sleep(0.01)
        seen = {}  # segment time_ms -> when its line was observed durable
        stop = threading.Event()

        def watch():
            n = 0
            while not stop.is_set():
                lines = manifest_lines(work)
                now = time.time()
                for l in lines[n:]:
                    seen[int(l.split()[2])] = now
                n = len(lines)
                time.sleep(0.002)

        w = threading.Thread(target=watch)
        w.start()
        commits = []
        t_end = time.time() + SECS
        i = 0
        while time.time() < t_end:
            c.execute("insert into t values(?, ?)", (i, "x" * 200))
            commits.append(time.time())
            i += 1
            time.sleep(0.02)
        time.sleep(interval_ms / 1000.0 * 3 + 0.5)
        stop.set()
        w.join()
        arch.terminate()
        arch.wait()
        segs = sorted(seen.items())
        delays = []
        for tc in commits:
            ms = tc * 1000
            for t_ms, t_seen in segs:
                if t_ms > ms:
                    delays.append(t_seen - tc)
                    break
        return len(commits), statistics.median(delays), pct(delays, 99), max(delays)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def booking_run(template, archive_on, round_no):
    work = tempfile.mkdtemp(prefix="citaplanner-arbench.")
    try:
        shutil.copy(template, "%s/app.db" % work)
        port = free_port()
        env = base_env(work, LISTEN="127.0.0.1:%d" % port, ARCHIVE_SQLITE="on" if archive_on else "off")
        log = open("%s/serve.log" % work, "w")
        srv = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(port)
            token = receptionist_token(port)
            db = sqlite3.connect("%s/app.db" % work)
            pros = ",".join(str(r[0]) for r in db.execute(
                "select u.id from service_professionals sp join users u on u.id = sp.user_id "
                "where sp.service_id = 1 order by u.id"))
            db.close()
            rate, p99, _ = book_for(port, token, pros, round_no, SECS)
            segs = len(manifest_lines(work))
            return rate, p99, segs
        finally:
            srv.terminate()
            srv.wait()
            log.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("archive_sqlite_bench: no binary at '%s' (set CITAPLANNER_BIN)" % BIN)
    if shutil.which("wrk") is None:
        sys.exit("archive_sqlite_bench: wrk is missing (apt-get install wrk)")
    version = subprocess.run([BIN, "version"], capture_output=True, text=True).stdout.strip()
    print("%s, %d CPUs, SQLite, %.0f s per part" % (version, os.cpu_count(), SECS))
    for interval in (1000, 100):
        n, med, p99, mx = recovery_point(interval)
        print("  recovery point, ARCHIVE_SQLITE_INTERVAL_MS=%d: %d commits, commit -> durable segment "
              "median %.0f ms, p99 %.0f ms, max %.0f ms" % (interval, n, med * 1000, p99 * 1000, mx * 1000))
    tdir = tempfile.mkdtemp(prefix="citaplanner-arbench.")
    try:
        env = base_env(tdir)
        subprocess.run([BIN, "migrate", "deploy"], env=env, check=True, capture_output=True)
        subprocess.run([BIN, "seed"], env=env, check=True, capture_output=True)
        rates = {False: [], True: []}
        for k in range(ROUNDS):
            for on in (False, True):
                rate, p99, segs = booking_run("%s/app.db" % tdir, on, k * 2 + on)
                rates[on].append(rate)
                print("  booking, 8 connections, archiver %-3s: %7.0f bookings/s  p99 %.1f ms%s"
                      % ("on" if on else "off", rate, p99, ", %d segments shipped" % segs if on else ""))
        off, on = statistics.median(rates[False]), statistics.median(rates[True])
        print("  booking throughput, archiver on / off (medians of %d runs) = %.2fx  (goal >= 0.95)"
              % (ROUNDS, on / off))
    finally:
        shutil.rmtree(tdir, ignore_errors=True)


if __name__ == "__main__":
    main()
