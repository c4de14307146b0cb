#!/usr/bin/env python3
"""Continuous archiving of PostgreSQL (issue 20): the figures.

  1. Recovery point: with `citaplanner archive` running (pg_receivewal
     --synchronous on the slot), a writer commits a row every 20 ms; for each
     commit, the time until pg_receivewal reports that WAL position flushed
     to BACKUP_DIR/wal (pg_stat_replication.flush_lsn: it fsyncs, then
     reports), median, p99 and max.
  1b. Off-site: with BACKUP_MIRROR_DIR set, a commit then pg_switch_wal()
     (off-site goes what is in completed segments); the time until the
     segment is filed in BACKUP_DIR/wal/manifest (compressed, checksummed)
     and until it is in the mirror's manifest (copied, fsynced, re-read),
     median and p99 of BENCH_SWITCHES switches (default 20).
  2. Booking throughput of `serve` on PostgreSQL (wrk, bench/booking_bench.lua:
     every request a real 201 booking) with ARCHIVE=on vs off, runs
     interleaved (off, on, off, on, ...), each on a fresh copy of the seeded
     database; the ratio of the medians.

  /usr/bin/python3 bench/archive_pg_bench.py

A PostgreSQL cluster of its own (initdb from CITAPLANNER_TEST_PG_BINDIR or
the newest /usr/lib/postgresql/*/bin; run as nobody when run as root), fsync
on, as a server would run.  Environment: CITAPLANNER_BIN (default
build/citaplanner: an optimized build, not the tests' sanitizer build),
BENCH_SECONDS (each timed part, default 10), BENCH_ROUNDS (throughput runs
per mode, default 3; 0: the recovery points only).  Not part of `make test`.
"""
import glob
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from booking_load import book_for, receptionist_token, wait_healthy  # noqa: E402
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("CITAPLANNER_BIN", os.path.join(ROOT, "build/citaplanner"))
SECS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BINDIR = os.environ.get("CITAPLANNER_TEST_PG_BINDIR") or sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
RUNAS = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
USER, PASSWORD = "bench", "benchpw"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(len(xs) * p / 100.0)) - 1))]


class Psql:
    """One psql session kept open (a round trip of about a millisecond, not a process start)."""

    def __init__(self, port, db="postgres"):
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        self.p = subprocess.Popen([BINDIR + "/psql", "-X", "-A", "-t", "-q", "-h", "127.0.0.1", "-p", str(port),
                                   "-U", USER, "-d", db, "-v", "ON_ERROR_STOP=1"],
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def q(self, sql):
        self.p.stdin.write(sql.rstrip(";") + ";\n\\echo __END__\n")
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if line == "" or line.strip() == "__END__":
                break
            out.append(line.strip())
        return "\n".join(l for l in out if l)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def start_cluster(work):
    data = os.path.join(work, "data")
    if RUNAS:
        pw = pwd.getpwnam("nobody")
        os.chown(work, pw.pw_uid, pw.pw_gid)
    with open(os.path.join(work, "pw"), "w") as f:
        f.write(PASSWORD + "\n")
    if RUNAS:
        os.chown(os.path.join(work, "pw"), pw.pw_uid, pw.pw_gid)
    subprocess.run(RUNAS + [BINDIR + "/initdb", "-D", data, "-U", USER, "--pwfile=" + work + "/pw",
                            "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    port = free_port()
    subprocess.run(RUNAS + [BINDIR + "/pg_ctl", "-D", data, "-l", data + ".log", "-w", "-o",
                            "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
                            "-c max_connections=200 -c shared_buffers=128MB" % (port, work), "start"],
                   check=True, capture_output=True)
    return data, port


def env_for(work, port, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE", "BACKUP_", "DATABASE_", "PG"))}
    env.update(DATABASE_URL="postgresql://%s:%s@127.0.0.1:%d/citaplanner" % (USER, PASSWORD, port),
               BACKUP_DIR=os.path.join(work, "bk"), BACKUP_SCHEDULE="off", BACKUP_BASE_SCHEDULE="off",
               LOG_LEVEL="warn", SEED_ON_BOOT="never")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def wait_streaming(s, limit=30):
    """Until pg_receivewal streams on the archive's slot (s: a Psql session)."""
    t0 = time.time()
    while s.q("select count(*) from pg_stat_replication where application_name = 'pg_receivewal'") != "1":
        assert time.time() - t0 < limit, "pg_receivewal never connected"
        time.sleep(0.05)


def recovery_point(work, port):
    env = env_for(work, port)
    arch = subprocess.Popen([BIN, "archive"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = Psql(port)
    try:
        s.q("create table if not exists rp(id serial primary key, v text)")
        wait_streaming(s)
        waits = []
        end = time.time() + SECS
        while time.time() < end:
            at = s.q("insert into rp(v) values ('x'); select pg_current_wal_lsn()")
            c = time.perf_counter()
            while True:
                f = s.q("select flush_lsn from pg_stat_replication where application_name = 'pg_receivewal'")
                if f and lsn(f) >= lsn(at):
                    break
            waits.append(time.perf_counter() - c)
            time.sleep(0.02)
        return len(waits), statistics.median(waits), pct(waits, 99), max(waits)
    finally:
        s.close()
        arch.terminate()
        arch.wait()


def names_in(manifest):
    try:
        return {l.split()[1] for l in open(manifest) if l.startswith("segment ")}
    except FileNotFoundError:
        return set()


def offsite_point(work, port):
    mirror = os.path.join(work, "mirror")
    os.makedirs(mirror, exist_ok=True)
    if RUNAS:
        pw = pwd.getpwnam("nobody")
        os.chown(mirror, pw.pw_uid, pw.pw_gid)
    env = env_for(work, port, BACKUP_MIRROR_DIR=mirror)
    arch = subprocess.Popen([BIN, "archive"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = Psql(port)
    local, off = [], []
    try:
        s.q("create table if not exists rp(id serial primary key, v text)")
        wait_streaming(s)
        for _ in range(int(os.environ.get("BENCH_SWITCHES", "20"))):
            name = s.q("insert into rp(v) values ('x'); select pg_walfile_name(pg_current_wal_lsn())")
            s.q("select pg_switch_wal()")
            c = time.perf_counter()
            got_local = None
            while True:
                if got_local is None and name in names_in(os.path.join(work, "bk", "wal", "manifest")):
                    got_local = time.perf_counter() - c
                if name in names_in(os.path.join(mirror, "wal", "manifest")):
                    break
                assert time.perf_counter() - c < 60, "segment %s never reached the mirror" % name
                time.sleep(0.005)
            local.append(got_local if got_local is not None else time.perf_counter() - c)
            off.append(time.perf_counter() - c)
        return len(off), statistics.median(local), pct(local, 99), statistics.median(off), pct(off, 99)
    finally:
        s.close()
        arch.terminate()
        arch.wait()


def booking_run(work, port, archive_on, round_no):
    """One run on a fresh copy of the seeded database (CREATE DATABASE ... TEMPLATE)."""
    hport = free_port()
    dbname = "run%d" % round_no
    admin = Psql(port)
    admin.q("create database %s template citaplanner" % dbname)
    admin.close()
    env = env_for(work, port, LISTEN="127.0.0.1:%d" % hport, ARCHIVE="on" if archive_on else "off")
    env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + dbname
    log = open(os.path.join(work, "serve.log"), "w")
    srv = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    s = Psql(port, dbname)
    try:
        wait_healthy(hport)
        if archive_on:
            t0 = time.time()
            while s.q("select count(*) from pg_stat_replication where application_name = 'pg_receivewal'") != "1":
                assert time.time() - t0 < 30, "serve's archiver never connected"
                time.sleep(0.05)
        token = receptionist_token(hport)
        pros = s.q("select string_agg(u.id::text, ',' order by u.id) from service_professionals sp "
                   "join users u on u.id = sp.user_id where sp.service_id = 1")
        return book_for(hport, token, pros, round_no, SECS)
    finally:
        s.close()
        srv.terminate()
        srv.wait()
        log.close()


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("archive_pg_bench: no binary at '%s' (set CITAPLANNER_BIN)" % BIN)
    if shutil.which("wrk") is None:
        sys.exit("archive_pg_bench: wrk is missing (apt-get install wrk)")
    work = tempfile.mkdtemp(prefix="citaplanner-arpgbench.")
    os.chmod(work, 0o755)
    data = None
    try:
        data, port = start_cluster(work)
        version = subprocess.run([BIN, "version"], capture_output=True, text=True).stdout.strip()
        print("%s, %d CPUs, PostgreSQL %s (fsync on), %.0f s per part"
              % (version, os.cpu_count(), os.path.basename(os.path.dirname(BINDIR)), SECS))
        s = Psql(port)
        s.q("create database citaplanner")
        s.close()
        n, med, p99, mx = recovery_point(work, port)
        print("  recovery point (commit -> flushed in BACKUP_DIR/wal by pg_receivewal --synchronous): "
              "%d commits, median %.1f ms, p99 %.1f ms, max %.1f ms" % (n, med * 1000, p99 * 1000, mx * 1000))
        n, lmed, lp99, omed, op99 = offsite_point(work, port)
        print("  completed segment -> filed locally: median %.0f ms, p99 %.0f ms; -> in the mirror's manifest: "
              "median %.0f ms, p99 %.0f ms (%d switches)" % (lmed * 1000, lp99 * 1000, omed * 1000, op99 * 1000, n))
        env = env_for(work, port)
        subprocess.run([BIN, "migrate", "deploy"], env=env, check=True, capture_output=True)
        subprocess.run([BIN, "seed"], env=env, check=True, capture_output=True)
        rates = {False: [], True: []}
        for k in range(ROUNDS):
            for on in (False, True):
                rate, p99b, refused = booking_run(work, port, on, k * 2 + on)
                rates[on].append(rate)
                print("  booking, 8 connections, archiver %-3s: %7.0f bookings/s  p99 %.1f ms  (%d not 201)"
                      % ("on" if on else "off", rate, p99b, refused))
        if ROUNDS == 0:
            return  # the recovery points only
        off, on = statistics.median(rates[False]), statistics.median(rates[True])
        print("  booking throughput, archiver on / off (medians of %d runs) = %.2fx  (goal >= 0.95)"
              % (ROUNDS, on / off))
    finally:
        if data:
            subprocess.run(RUNAS + [BINDIR + "/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
