"""Continuous archiving of PostgreSQL (issue 20): `citaplanner archive`
(pg_receivewal supervised), serve's archiver, base backups, `wal-fetch`,
`backup restore --to-time/--to-latest --pgdata`, the chain in `backup verify`.

Each test runs its own PostgreSQL 15 cluster (initdb, the same binaries as
scripts/pg-throwaway.sh: CITAPLANNER_TEST_PG_BINDIR), as the servers and the
archive must be owned by one unprivileged user (the restored server's
restore_command is `citaplanner wal-fetch`, run by it): everything runs as
`nobody` when the tests run as root.  A cluster of its own per test also
lets a test kill -9 it and keeps the slot's name to one archiver."""
import glob
import gzip
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import datetime, timezone

import pytest

from test_archive_sqlite import free_port

BIN = os.path.abspath(os.environ.get("CITAPLANNER_BIN", os.path.join(os.path.dirname(__file__), "../../build-test/citaplanner")))
BINDIR = os.environ.get("CITAPLANNER_TEST_PG_BINDIR") or sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
PASSWORD = "Arch p@ss:w/rd%"
USER = "citaplanner_arch"
AS_ROOT = os.getuid() == 0
RUNAS = ["runuser", "-u", "nobody", "--"] if AS_ROOT else []


def own(path):
    if AS_ROOT:
        pw = pwd.getpwnam("nobody")
        os.chown(path, pw.pw_uid, pw.pw_gid)


class Cluster:
    """A PostgreSQL server on its own data directory, run as nobody."""

    def __init__(self, base, data=None, port=None):
        self.base = base
        self.data = data or os.path.join(base, "data")
        self.port = port or free_port()
        self.log = self.data + ".log"

    def initdb(self):
        pwfile = os.path.join(self.base, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        own(pwfile)
        subprocess.run(RUNAS + [BINDIR + "/initdb", "-D", self.data, "-U", USER, "--pwfile=" + pwfile,
                                "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, capture_output=True)
        os.unlink(pwfile)
        return self

    def start(self, wait=True):
        r = subprocess.run(RUNAS + [BINDIR + "/pg_ctl", "-D", self.data, "-l", self.log, "-t", "120"] + (["-w"] if wait else ["-W"]) +
                           ["-o", "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
                                  "-c max_wal_senders=5 -c fsync=on -c wal_keep_size=0" % (self.port, self.base), "start"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr + self.logtext()
        return self

    def logtext(self):
        try:
            return open(self.log).read()[-3000:]
        except OSError:
            return ""

    def stop(self, mode="fast"):
        subprocess.run(RUNAS + [BINDIR + "/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"], capture_output=True)

    def kill9(self):
        """kill -9 the postmaster and every process of it, as a crash of the machine would."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = int(f.readline())
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for p in [pid] + [int(k) for k in kids]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in [pid] + [int(k) for k in kids]:
            for _ in range(100):
                try:
                    os.kill(p, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    @property
    def url(self):
        return "postgresql://%s:%s@127.0.0.1:%d/postgres" % (USER, "Arch%20p%40ss%3Aw%2Frd%25", self.port)

    def sql(self, sql, check=True):
        env = dict(os.environ, PGPASSWORD=PASSWORD, PGCONNECT_TIMEOUT="10")
        r = subprocess.run([BINDIR + "/psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", USER, "-d", "postgres", "-c", sql],
                           env=env, capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, r.stderr
        return r.stdout.strip()


def kill_receiver(backup_dir):
    """A pg_receivewal an archiver killed -9 left behind: its pid is in .archive-pg.pid."""
    try:
        pid = int(open(os.path.join(backup_dir, ".archive-pg.pid")).read())
        if open("/proc/%d/comm" % pid).read().startswith("pg_receivewal"):
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="citaplanner-archpg.")
    os.chmod(d, 0o755)
    own(d)
    clusters = []
    procs = []
    yield {"dir": d, "clusters": clusters, "procs": procs}
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for c in clusters:
        c.stop("immediate")
    kill_receiver(os.path.join(d, "bk"))
    shutil.rmtree(d, ignore_errors=True)


def new_cluster(work):
    c = Cluster(work["dir"]).initdb().start()
    work["clusters"].append(c)
    return c


def env_for(work, cluster, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE", "BACKUP_", "DATABASE_", "PG"))}
    env.update(DATABASE_URL=cluster.url, BACKUP_DIR=os.path.join(work["dir"], "bk"), BACKUP_SCHEDULE="off",
               BACKUP_BASE_SCHEDULE="off", TZ="UTC", HOME=work["dir"], ASAN_OPTIONS="detect_leaks=0")
    env.update(extra)
    return env


def run(env, *args, timeout=180):
    return subprocess.run(RUNAS + [BIN, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])


def start_archiver(work, env):
    p = subprocess.Popen(RUNAS + [BIN, "archive"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=env["HOME"])
    work["procs"].append(p)
    return p


def archiver_pid(p):
    """The archiver's own pid (runuser's child when run as root)."""
    if not AS_ROOT:
        return p.pid
    for _ in range(100):
        r = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True)
        if r.stdout.strip():
            return int(r.stdout.split()[0])
        time.sleep(0.05)
    raise AssertionError("no archiver under runuser")


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        os.kill(archiver_pid(p), sig)
    p.wait(timeout=60)
    err = p.stderr.read() if p.stderr else ""
    if sig == signal.SIGTERM:
        assert p.returncode == 0 and "runtime error" not in err and "Sanitizer" not in err, err
    return err


def wal_dir(work):
    return os.path.join(work["dir"], "bk", "wal")


def manifest(work):
    try:
        with open(os.path.join(wal_dir(work), "manifest")) as f:
            return [l.split() for l in f if l.strip()]
    except FileNotFoundError:
        return []


def slot_flush(cluster):
    return cluster.sql("select coalesce(restart_lsn::text, '') from pg_replication_slots where slot_name = 'citaplanner_archive'")


def lsn_int(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def wait_archived(cluster, lsn, limit=30.0):
    """Until the slot (advanced by pg_receivewal's flush reports) reaches lsn; the seconds it took."""
    t0 = time.time()
    while time.time() - t0 < limit:
        s = slot_flush(cluster)
        if s and lsn_int(s) >= lsn_int(lsn):
            return time.time() - t0
        time.sleep(0.01)
    raise AssertionError("the archive did not reach %s in %.0f s (slot at %s)" % (lsn, limit, slot_flush(cluster)))


def wait_streaming(cluster, limit=30.0):
    t0 = time.time()
    while time.time() - t0 < limit:
        if cluster.sql("select count(*) from pg_stat_replication where application_name = 'pg_receivewal'") == "1":
            return
        time.sleep(0.05)
    raise AssertionError("pg_receivewal never connected")


def utc(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def test_archiver_files_segments_and_keeps_the_password_off_argv(work):
    c = new_cluster(work)
    env = env_for(work, c)
    arch = start_archiver(work, env)
    try:
        wait_streaming(c)
        # the password reaches pg_receivewal through a passfile: no command line holds it
        for cmd in glob.glob("/proc/[0-9]*/cmdline"):
            try:
                text = open(cmd, "rb").read().decode(errors="replace")
            except OSError:
                continue
            assert PASSWORD not in text and "Arch%20p" not in text, text
        c.sql("create table t(i int); insert into t select generate_series(1, 50000)")
        c.sql("select pg_switch_wal()")
        c.sql("insert into t values (0)")
        lsn = c.sql("select pg_current_wal_lsn()")
        wait_archived(c, lsn)
        t0 = time.time()
        while not manifest(work) and time.time() - t0 < 20:
            time.sleep(0.05)
        # a second archiver for the same database stands aside
        r = run(env, "archive", timeout=60)
        assert r.returncode == 8 and "another archiver" in r.stderr, r.stderr
    finally:
        stop(arch)
    m = manifest(work)
    assert m and m[0][0] == "segment"
    for kind, name, sha, size, rawsize, _t in [l for l in m if l[0] == "segment"]:
        path = os.path.join(wal_dir(work), name + ".gz")
        data = open(path, "rb").read()
        assert hashlib.sha256(data).hexdigest() == sha and len(data) == int(size)
        assert len(gzip.decompress(data)) == int(rawsize) == 16 << 20
        assert not os.path.exists(os.path.join(wal_dir(work), name))
    partials = glob.glob(os.path.join(wal_dir(work), "*.partial"))
    assert len(partials) == 1


def restored_cluster(work, pgdata):
    """Start PostgreSQL on a restored directory; wait until it has promoted (or died)."""
    c = Cluster(work["dir"], data=pgdata)
    work["clusters"].append(c)
    c.start(wait=False)
    t0 = time.time()
    while time.time() - t0 < 120:
        r = c.sql("select pg_is_in_recovery()", check=False)
        if r == "f":
            return c
        if "FATAL" in c.logtext() and "startup process" in c.logtext():
            break
        time.sleep(0.2)
    raise AssertionError("the restored server did not open:\n" + c.logtext())


def archiving(work, **extra):
    """A new cluster with table t, and its archiver streaming."""
    c = new_cluster(work)
    env = env_for(work, c, **extra)
    c.sql("create table t(id int primary key, v text)")
    arch = start_archiver(work, env)
    wait_streaming(c)
    return c, env, arch


def rows(c):
    out = c.sql("select id, v from t order by id")
    return [tuple(l.split("|")) for l in out.splitlines() if l]


def test_restore_between_two_commits_and_to_latest(work):
    c, env, arch = archiving(work)
    try:
        r = run(env, "backup", "base")
        assert r.returncode == 0, r.stderr
        assert "verified with pg_verifybackup" in r.stdout
        c.sql("insert into t values (1, 'first'); insert into t values (2, 'second')")
        time.sleep(1.2)
        target = time.time()
        time.sleep(1.2)
        c.sql("update t set v = 'changed' where id = 1; insert into t values (3, 'third')")
        c.sql("delete from t where id = 2")
        # the last commit, archived (--synchronous): --to-latest must have it
        c.sql("insert into t values (4, 'last')")
        wait_archived(c, c.sql("select pg_current_wal_lsn()"))
    finally:
        stop(arch)
    pgdata = os.path.join(work["dir"], "then")
    r = run(env, "backup", "restore", "--to-time", utc(target), "--tz", "UTC", "--pgdata", pgdata)
    assert r.returncode == 0, r.stderr
    assert "recovery_target_time" in open(os.path.join(pgdata, "postgresql.auto.conf")).read()
    assert "chown" in r.stdout and "docker compose up -d db" in r.stdout
    then = restored_cluster(work, pgdata)
    assert rows(then) == [("1", "first"), ("2", "second")]
    then.stop()
    latest = os.path.join(work["dir"], "latest")
    r = run(env, "backup", "restore", "--to-latest", "--pgdata", latest)
    assert r.returncode == 0, r.stderr
    now = restored_cluster(work, latest)
    assert rows(now) == [("1", "changed"), ("3", "third"), ("4", "last")]
    now.stop()
    # a directory that is not empty is refused
    r = run(env, "backup", "restore", "--to-latest", "--pgdata", latest)
    assert r.returncode == 7 and "not empty" in r.stderr


def fill_segments(c, n):
    """n more completed segments, each with a row."""
    for i in range(n):
        c.sql("insert into t values (%d, 'seg %d')" % (1000 + i, i))
        c.sql("select pg_switch_wal()")


def wait_filed(work, n, limit=30.0):
    t0 = time.time()
    while len([l for l in manifest(work) if l[0] == "segment"]) < n:
        assert time.time() - t0 < limit, manifest(work)
        time.sleep(0.05)


def test_missing_or_damaged_segment_is_named_by_verify_and_restore(work):
    c, env, arch = archiving(work)
    try:
        r = run(env, "backup", "base")
        assert r.returncode == 0, r.stderr
        fill_segments(c, 4)
        wait_filed(work, 5)
    finally:
        stop(arch)
    r = run(env, "backup", "verify")
    assert r.returncode == 0 and "OK      archive WAL from base backup" in r.stdout, r.stdout + r.stderr
    segs = [l[1] for l in manifest(work) if l[0] == "segment"]
    victim = segs[-2]
    path = os.path.join(wal_dir(work), victim + ".gz")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))
    r = run(env, "backup", "verify")
    assert r.returncode == 6 and victim in r.stdout and "damaged" in r.stdout, r.stdout
    pgdata = os.path.join(work["dir"], "r1")
    r = run(env, "backup", "restore", "--to-latest", "--pgdata", pgdata)
    assert r.returncode == 6 and victim in r.stderr and "before writing anything" in r.stderr, r.stderr
    assert not os.path.exists(pgdata)
    # wal-fetch refuses it too (PostgreSQL stops the recovery on 126)
    r = run(env, "wal-fetch", victim, os.path.join(work["dir"], "x"))
    assert r.returncode == 126 and victim in r.stderr
    os.unlink(path)
    r = run(env, "backup", "verify")
    assert r.returncode == 6 and victim in r.stdout and "missing" in r.stdout, r.stdout
    r = run(env, "backup", "restore", "--to-latest", "--pgdata", pgdata)
    assert r.returncode == 6 and victim in r.stderr and "missing" in r.stderr, r.stderr
    r = run(env, "wal-fetch", victim, os.path.join(work["dir"], "x"))
    assert r.returncode == 126 and "missing" in r.stderr
    # a name the archive never had (past its end): 1, the end of recovery
    r = run(env, "wal-fetch", "0000000500000000000000FF", os.path.join(work["dir"], "x"))
    assert r.returncode == 1


def test_postgres_killed_under_a_running_archiver(work):
    """kill -9 PostgreSQL while the archiver runs: it reconnects (back-off), streams again,
    loses nothing; stopped at the end with status 0."""
    c, env, arch = archiving(work)
    try:
        for k in range(2):
            c.sql("insert into t values (%d, 'before %d')" % (k, k))
            c.kill9()
            time.sleep(1.5)
            c.start()
            c.sql("insert into t values (%d, 'after %d')" % (100 + k, k))
            wait_archived(c, c.sql("select pg_current_wal_lsn()"), limit=90)
    finally:
        stop(arch)
    m = [l[1] for l in manifest(work) if l[0] == "segment"]
    assert m == sorted(m)


def test_slot_guard_drops_the_slot_before_it_fills_the_disk(work):
    """pg_receivewal cannot write (BACKUP_DIR/wal read-only): the slot holds the server's
    WAL; past ARCHIVE_SLOT_MAX_BYTES it is dropped with an alert, the broken archive is
    set aside and archiving begins again.  Doctor-facing state: .archive-pg.json."""
    import json
    c = new_cluster(work)
    alerts = os.path.join(work["dir"], "alerts")
    env = env_for(work, c, ARCHIVE_SLOT_MAX_BYTES="64MB", ARCHIVE_MAX_LAG="1",
                  BACKUP_ALERT_COMMAND='echo "$CITAPLANNER_ALERT_EVENT" >> %s' % alerts)
    c.sql("create table t(id int, v text)")
    arch = start_archiver(work, env)
    try:
        wait_streaming(c)
        os.chmod(wal_dir(work), 0o500)
        deadline = time.time() + 120
        dropped = False
        def events_now():
            return open(alerts).read().split() if os.path.exists(alerts) else []
        while time.time() < deadline and not dropped:
            # small writes until the lag alert (sampled every 2 s) has fired, then
            # the large ones that fill the slot: on a fast machine they filled it
            # before the lag was ever sampled
            lagging = "archive_lagging" in events_now()
            rows = 20000 if lagging else 200
            c.sql("insert into t select g, repeat('y', 500) from generate_series(1, %d) g" % rows)
            if lagging:  # each switch is a new 16 MB segment: 64 MB in four
                c.sql("select pg_switch_wal()")
            dropped = bool(glob.glob(wal_dir(work) + ".broken-*"))
            time.sleep(0.3)
        assert dropped, open(alerts).read() if os.path.exists(alerts) else "no alert"
        events = open(alerts).read().split()
        assert "archive_slot_dropped" in events and "archive_lagging" in events, events
        # archiving begins again: a fresh slot, streaming into a fresh directory
        wait_streaming(c, limit=60)
        wait_archived(c, c.sql("select pg_current_wal_lsn()"))
        # the state is sampled every 2 s: wait for a sample of the new slot
        path = os.path.join(work["dir"], "bk", ".archive-pg.json")
        until = time.time() + 20
        while True:
            state = json.load(open(path))
            ok = state["dropped"] > 0 and state["slot_exists"] and state["retained_bytes"] < 64 << 20
            if ok or time.time() > until:
                break
            time.sleep(0.5)
        assert ok, state
        r = run(env, "doctor")
        line = [l for l in r.stdout.splitlines() if "archive" in l and "slot" in l]
        assert line and "streaming" in line[0] and "NOT" not in line[0], r.stdout
    finally:
        for d in glob.glob(wal_dir(work) + "*"):
            os.chmod(d, 0o700)
        stop(arch)


def test_serve_runs_one_archiver_takes_the_first_base_and_shows_metrics(work):
    """Two serve instances with ARCHIVE=on: one archives (and, with no base backup yet,
    takes one at once), the other stands by; /metrics shows the slot; what serve archived
    restores."""
    import urllib.request
    c = new_cluster(work)
    env = env_for(work, c, ARCHIVE="on", SEED_ON_BOOT="never")
    env.pop("BACKUP_BASE_SCHEDULE")
    assert run(env, "migrate", "deploy").returncode == 0
    c.sql("create table t(id int primary key, v text)")
    procs, ports = [], []
    for _ in range(2):
        ports.append(free_port())
        p = subprocess.Popen(RUNAS + [BIN, "serve"], env=dict(env, LISTEN="127.0.0.1:%d" % ports[-1]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=env["HOME"])
        work["procs"].append(p)
        procs.append(p)
    try:
        wait_streaming(c, limit=60)
        t0 = time.time()
        while not glob.glob(os.path.join(work["dir"], "bk", "base", "*", "base.json")):
            assert time.time() - t0 < 120, "no base backup"
            time.sleep(0.2)
        c.sql("insert into t values (1, 'through serve''s archiver')")
        wait_archived(c, c.sql("select pg_current_wal_lsn()"))
        time.sleep(2.5)  # one reading of the slot
        text = ""
        for port in ports:
            try:
                text += urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
            except OSError:
                pass
        assert "citaplanner_archive_slot_active 1" in text and "citaplanner_archive_lag_seconds" in text, text[-2000:]
    finally:
        logs = [stop(p) for p in procs]
    assert sum("standing by" in l for l in logs) == 1, logs
    pgdata = os.path.join(work["dir"], "latest")
    r = run(env, "backup", "restore", "--to-latest", "--pgdata", pgdata)
    assert r.returncode == 0, r.stderr
    c.stop()
    now = restored_cluster(work, pgdata)
    assert rows(now) == [("1", "through serve's archiver")]


def test_retention_keeps_every_chain_whole(work):
    """BACKUP_KEEP_WEEKLY=1 and MONTHLY=1: the older bases go, then the WAL before the kept
    one, but only when its chain is whole; the kept base still restores."""
    c = new_cluster(work)
    env = env_for(work, c, BACKUP_KEEP_WEEKLY="1", BACKUP_KEEP_MONTHLY="1")
    c.sql("create table t(id int primary key, v text)")
    arch = start_archiver(work, env)
    try:
        wait_streaming(c)
        for i in range(3):
            r = run(env, "backup", "base")
            assert r.returncode == 0, r.stderr
            c.sql("insert into t values (%d, 'b%d')" % (i, i))
            c.sql("select pg_switch_wal()")
            time.sleep(1.1)
        wait_archived(c, c.sql("select pg_current_wal_lsn()"))
        bases = sorted(glob.glob(os.path.join(work["dir"], "bk", "base", "*", "base.json")))
        assert len(bases) == 1, bases  # the last take pruned the two before it
        import json
        start = json.load(open(bases[0]))["start_wal"]
        segs = [l[1] for l in manifest(work) if l[0] == "segment"]
        assert segs and min(segs) >= start, (segs, start)
        # a gap after a base that stays kept (now two): the next take removes no WAL, says why
        victim = segs[-1]
        os.rename(os.path.join(wal_dir(work), victim + ".gz"), os.path.join(work["dir"], "aside.gz"))
        time.sleep(1.1)
        r = run(dict(env, BACKUP_KEEP_WEEKLY="2"), "backup", "base")
        assert r.returncode == 0 and "chain from base backup" in r.stdout and victim in r.stdout, r.stdout
        os.rename(os.path.join(work["dir"], "aside.gz"), os.path.join(wal_dir(work), victim + ".gz"))
        c.sql("insert into t values (9, 'last')")
        wait_archived(c, c.sql("select pg_current_wal_lsn()"))
    finally:
        stop(arch)
    r = run(env, "backup", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    pgdata = os.path.join(work["dir"], "latest")
    r = run(env, "backup", "restore", "--to-latest", "--pgdata", pgdata)
    assert r.returncode == 0, r.stderr
    c.stop()
    now = restored_cluster(work, pgdata)
    assert [x[0] for x in rows(now)] == ["0", "1", "2", "9"]


def test_verify_check_restores_into_a_throwaway_server(work):
    """backup verify --check: the newest base (its row counts recorded in one snapshot with
    a WAL position) replayed from the archive in a throwaway server; the counts agree."""
    c = new_cluster(work)
    env = env_for(work, c, SEED_ON_BOOT="never")
    assert run(env, "migrate", "deploy").returncode == 0
    assert run(env, "seed").returncode == 0
    arch = start_archiver(work, env)
    try:
        wait_streaming(c)
        r = run(env, "backup", "base")
        assert r.returncode == 0, r.stderr
        c.sql("select pg_switch_wal()")
        wait_archived(c, c.sql("select pg_current_wal_lsn()"))
    finally:
        stop(arch)
    r = run(env, "backup", "verify", "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK      archive restore check" in r.stdout and "tables hold the recorded row counts" in r.stdout
    assert not os.path.exists(os.path.join(work["dir"], "bk", ".check-pg.tmp"))
    # a record that disagrees with what the archive restores is a failure naming the table
    import json
    path = glob.glob(os.path.join(work["dir"], "bk", "base", "*", "base.json"))[0]
    o = json.load(open(path))
    assert o["row_counts"]["users"] > 0
    o["row_counts"]["users"] += 1
    json.dump(o, open(path, "w"))
    r = run(env, "backup", "verify", "--check")
    assert r.returncode == 6 and "FAILED  archive restore check" in r.stdout and "users" in r.stdout, r.stdout
