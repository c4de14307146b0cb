#!/usr/bin/env python3
"""Continuous archiving of PostgreSQL (issue 20): restore time to a point vs
restoring the latest dump, on the generated database (bench/gen_data.sql,
a plain dump of about 600 MB).

One cluster of its own (as bench/archive_pg_bench.py makes it), the data
generated, then, with `citaplanner archive` streaming:
  - one dump backup (`citaplanner backup --tier daily`) and one base backup
    (`citaplanner backup base`), then a day's worth of bookings' changes
    (BENCH_CHANGES rows touched, default 20000) that only the archive has.
Timed, alternating which goes first (BENCH_ROUNDS, default 2):
  pitr:  `citaplanner backup restore --to-latest --pgdata DIR`, then PostgreSQL
         started on DIR until it has replayed the WAL and promoted (a server
         answering, at the last archived commit);
  dump:  `citaplanner backup restore FILE --yes` into an empty database (a
         server answering, at the time of the dump: the day's changes lost).

  /usr/bin/python3 bench/archive_restore_bench.py

Environment: CITAPLANNER_BIN (default build/citaplanner, an optimized
build), BENCH_TENANTS / BENCH_DAYS (size, as bench/gen_data.sql), BENCH_ROUNDS,
BENCH_CHANGES.  Not part of `make test`.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from archive_pg_bench import (BIN, BINDIR, PASSWORD, RUNAS, USER, Psql, env_for, free_port,  # noqa: E402
                              start_cluster, wait_streaming)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CHANGES = int(os.environ.get("BENCH_CHANGES", "20000"))


def run(env, *args, check=True):
    r = subprocess.run(RUNAS + [BIN, *args], env=env, capture_output=True, text=True, cwd=env["HOME"])
    if check and r.returncode != 0:
        sys.exit("archive_restore_bench: citaplanner %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def pg_ctl(*args):
    return subprocess.run(RUNAS + [BINDIR + "/pg_ctl", *args], capture_output=True, text=True)


def pitr_once(work, env, k):
    """Restore to the latest archived moment and start a server on it: seconds, and its count of changed rows."""
    pgdata = os.path.join(work, "pitr%d" % k)
    port = free_port()
    t0 = time.perf_counter()
    run(env, "backup", "restore", "--to-latest", "--pgdata", pgdata)
    r = pg_ctl("-D", pgdata, "-l", pgdata + ".log", "-t", "3600", "-W", "-o",
               "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
               "-c max_connections=200 -c shared_buffers=128MB" % (port, work), "start")
    if r.returncode != 0:
        sys.exit("archive_restore_bench: the restored server did not start: " + r.stderr)
    started = time.perf_counter()
    while True:
        if not os.path.exists(os.path.join(pgdata, "postmaster.pid")) and time.perf_counter() - started > 10:
            sys.exit("archive_restore_bench: the restored server stopped:\n" + open(pgdata + ".log").read()[-2000:])
        r = subprocess.run([BINDIR + "/psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(port), "-U", USER,
                            "-d", "citaplanner", "-c", "select pg_is_in_recovery()"],
                           env=dict(os.environ, PGPASSWORD=PASSWORD), capture_output=True, text=True)
        if r.stdout.strip() == "f":
            break
        time.sleep(0.1)
    s = Psql(port, "citaplanner")
    secs = time.perf_counter() - t0
    changed = s.q("select count(*) from clients where notes = 'bench change'")
    s.close()
    pg_ctl("-D", pgdata, "-m", "fast", "-w", "stop")
    shutil.rmtree(pgdata)
    return secs, changed


def dump_once(env, dump, k, port):
    """Restore the latest dump into an empty database: seconds, and its count of changed rows."""
    db = "dumprestore%d" % k
    admin = Psql(port)
    admin.q("set client_min_messages = warning; drop database if exists %s with (force)" % db)
    admin.q("create database %s" % db)
    admin.close()
    denv = dict(env, DATABASE_URL=env["DATABASE_URL"].rsplit("/", 1)[0] + "/" + db)
    t0 = time.perf_counter()
    run(denv, "backup", "restore", dump, "--yes")
    secs = time.perf_counter() - t0
    s = Psql(port, db)
    changed = s.q("select count(*) from clients where notes = 'bench change'")
    s.close()
    admin = Psql(port)
    admin.q("drop database %s with (force)" % db)
    admin.close()
    for p in os.listdir(os.path.join(env["BACKUP_DIR"], "prerestore")):
        os.unlink(os.path.join(env["BACKUP_DIR"], "prerestore", p))
    return secs, changed


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("archive_restore_bench: no binary at '%s' (set CITAPLANNER_BIN)" % BIN)
    work = tempfile.mkdtemp(prefix="citaplanner-arrestore.")
    os.chmod(work, 0o755)
    data = arch = None
    try:
        data, port = start_cluster(work)
        if RUNAS:
            shutil.chown(work, "nobody", "nogroup")
        env = env_for(work, port, HOME=work, TZ="UTC")
        s = Psql(port)
        s.q("create database citaplanner")
        s.close()
        run(env, "migrate", "deploy")
        t0 = time.perf_counter()
        r = subprocess.run([BINDIR + "/psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", USER,
                            "-d", "citaplanner", "-v", "tenants=" + os.environ.get("BENCH_TENANTS", "100"),
                            "-v", "days=" + os.environ.get("BENCH_DAYS", "730"), "-f", os.path.join(HERE, "gen_data.sql")],
                           env=dict(os.environ, PGPASSWORD=PASSWORD), capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("archive_restore_bench: gen_data.sql failed: " + r.stderr)
        gen_s = time.perf_counter() - t0
        arch = subprocess.Popen(RUNAS + [BIN, "archive"], env=env, stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(work, "archive.log"), "w"), cwd=work)
        s = Psql(port, "citaplanner")
        wait_streaming(s, limit=60)
        run(env, "backup", "--tier", "daily")
        dump = [f for f in os.listdir(os.path.join(work, "bk", "daily")) if f.endswith(".sql.gz")][0]
        dump = os.path.join(work, "bk", "daily", dump)
        run(env, "backup", "base")
        s.q("update clients set notes = 'bench change' where id in (select id from clients order by id limit %d)" % CHANGES)
        at = s.q("select pg_current_wal_lsn()")
        while s.q("select flush_lsn >= '%s' from pg_stat_replication where application_name = 'pg_receivewal'" % at) != "t":
            time.sleep(0.1)
        size = s.q("select pg_database_size('citaplanner')")
        s.close()
        arch.terminate()
        arch.wait()
        arch = None
        raw = int(subprocess.run(["python3", "-c", "import json,sys; print(json.load(open(sys.argv[1]))['bytes']['uncompressed'])",
                                  dump + ".json"], capture_output=True, text=True).stdout or 0)
        version = subprocess.run([BIN, "version"], capture_output=True, text=True).stdout.strip()
        print("%s, %d CPUs, PostgreSQL %s; database %.0f MB on disk, plain dump %.0f MB (generated in %.0f s), "
              "%d rows changed after the dump and the base backup"
              % (version, os.cpu_count(), os.path.basename(os.path.dirname(BINDIR)), int(size) / 1e6, raw / 1e6,
                 gen_s, CHANGES))
        times = {"pitr": [], "dump": []}
        for k in range(ROUNDS):
            order = ("pitr", "dump") if k % 2 == 0 else ("dump", "pitr")
            for what in order:
                if what == "pitr":
                    secs, changed = pitr_once(work, env, k)
                else:
                    secs, changed = dump_once(env, dump, k, port)
                times[what].append(secs)
                print("  round %d: %-4s %7.1f s, changed rows present: %s" % (k + 1, what, secs, changed))
                if what == "pitr" and int(changed) != CHANGES:
                    sys.exit("archive_restore_bench: the point-in-time restore lost changes")
        p, d = statistics.median(times["pitr"]), statistics.median(times["dump"])
        print("  restore --to-latest --pgdata + replay to a server answering: %7.1f s (median)" % p)
        print("  restore of the latest dump into an empty database:            %7.1f s (median)" % d)
        print("  ratio point-in-time / dump: %.2fx (and the dump lacks the %d changes after it)" % (p / d, CHANGES))
    finally:
        if arch is not None:
            arch.terminate()
            arch.wait()
        if data is not None:
            pg_ctl("-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
