"""The archive's range and health in `GET /api/v1/admin/backups` ("archive")
and in `backup list` (issue 20: "the data-safety page and backup list show
'recoverable to any moment from … to … (N s ago)' and the archive's health"),
one computation for both (archive/status.h).  SQLite with the archiver
inside serve; PostgreSQL with serve's archiver on a cluster of the test's
own, prepared for replication as test_archive_pg.py prepares it."""
import json
import os
import shutil
import subprocess
import time
import urllib.request
from datetime import datetime, timezone

import test_archive_pg as apg
import test_archive_sqlite as asq

MASTER_PASSWORD = "master-pass-31337"


class Api:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.token = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def login(self, limit=60.0):
        t0 = time.time()
        while True:
            try:
                self.token = self.call("POST", "/api/v1/admin/login", {"password": MASTER_PASSWORD})["token"]
                return self
            except OSError:
                assert time.time() - t0 < limit, "serve did not answer"
                time.sleep(0.2)

    def archive(self):
        return self.call("GET", "/api/v1/admin/backups")["archive"]

    def wait_archive(self, pred, limit=60.0):
        t0 = time.time()
        while True:
            a = self.archive()
            if pred(a):
                return a
            assert time.time() - t0 < limit, a
            time.sleep(0.3)


def iso_ms(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000


def no_secret(a, *secrets):
    text = json.dumps(a)
    assert "/" not in text.replace("\\/", ""), text  # no path, no URL
    for s in secrets:
        assert s not in text, text


def test_sqlite_range_and_health_through_serve(tmp_path):
    env = asq.env_for(tmp_path, ARCHIVE_SQLITE="on", SEED_ON_BOOT="never", ARCHIVE_MAX_LAG="2")
    env.pop("CITAPLANNER_FAKE_NOW", None)
    assert asq.run(env, "migrate", "deploy").returncode == 0
    r = subprocess.run([asq.BIN, "admin", "master-password"], env=env, input=MASTER_PASSWORD + "\n",
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # archiving off: "off", no range
    port = asq.free_port()
    off = subprocess.Popen([asq.BIN, "serve"], env=dict(env, ARCHIVE_SQLITE="off", LISTEN="127.0.0.1:%d" % port),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        a = Api(port).login().archive()
        assert a["kind"] == "sqlite" and a["health"] == "off" and a["from"] is None and a["code"] is None, a
    finally:
        asq.stop(off)
    port = asq.free_port()
    srv = subprocess.Popen([asq.BIN, "serve"], env=dict(env, LISTEN="127.0.0.1:%d" % port),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        api = Api(port).login()
        asq.wait_ready(tmp_path, 30)
        c = asq.connect(tmp_path / "app.db")
        t_commit = int(time.time() * 1000)
        c.execute("insert into t values(1, 'shown')")
        asq.wait_shipped(tmp_path, t_commit)
        a = api.wait_archive(lambda a: a["health"] == "ok" and a["to"] and iso_ms(a["to"]) >= t_commit)
        assert a["kind"] == "sqlite" and a["bases"] == 1 and a["segments"] >= 1 and a["code"] is None, a
        assert iso_ms(a["from"]) <= iso_ms(a["to"]) and 0 <= a["seconds_ago"] < 30, a
        assert a["max_lag_seconds"] == 2 and a["lag_seconds"] == 0, a
        no_secret(a, str(tmp_path))
        # backup list says the same, from the same computation
        r = asq.run(env, "backup", "list")
        assert r.returncode == 0, r.stderr
        line = [l for l in r.stdout.splitlines() if l.startswith("archive: recoverable")]
        assert line and a["from"][:19].replace("T", " ") in line[0], r.stdout
        assert "1 generation, " in line[0] and "archive health: ok" in r.stdout, r.stdout
        # the archive cannot be written (its generation replaced by a file): retried while
        # within ARCHIVE_MAX_LAG (amber), failing beyond it (red), ok again once it can
        gen = os.path.dirname(asq.manifests(tmp_path)[-1])
        shutil.move(gen, gen + ".aside")
        open(gen, "w").close()
        for i in range(2, 6):
            c.execute("insert into t values(%d, 'unarchived')" % i)
        a = api.wait_archive(lambda a: a["health"] != "ok", limit=20)
        assert a["health"] in ("lagging", "failing") and a["code"] == "archive_failed", a
        a = api.wait_archive(lambda a: a["health"] == "failing", limit=20)
        assert a["code"] == "archive_failed" and a["lag_seconds"] > 2, a
        r = asq.run(env, "backup", "list")
        assert "archive health: failing (archive_failed)" in r.stdout, r.stdout
        os.unlink(gen)
        shutil.move(gen + ".aside", gen)
        a = api.wait_archive(lambda a: a["health"] == "ok", limit=30)
    finally:
        asq.stop(srv)


def test_sqlite_archiver_that_stopped_is_failing(tmp_path):
    """A standalone archiver killed -9: once its report is ARCHIVE_STALE_S old, failing
    (archive_stopped), though ARCHIVE_SQLITE is off for this serve; the range stays."""
    env = asq.env_for(tmp_path)
    asq.connect(tmp_path / "app.db").execute("insert into t values(1, 'x')")
    arch = asq.start_archiver(env)
    asq.wait_ready(tmp_path)
    time.sleep(0.5)
    arch.kill()
    arch.wait()
    rec = tmp_path / "bk" / ".archive-sqlite.json"
    state = json.loads(rec.read_text())
    r = asq.run(env, "backup", "list")
    assert "archive health: ok" in r.stdout and "recoverable to any moment" in r.stdout, r.stdout
    # the report as it stands 61 s later (its time moved back, not the test's clock forward)
    state["time_ms"] -= 61000
    state["ok_ms"] -= 61000
    rec.write_text(json.dumps(state))
    r = asq.run(env, "backup", "list")
    assert "archive health: failing (archive_stopped)" in r.stdout and "recoverable to any moment" in r.stdout, r.stdout


def test_postgres_range_and_health_through_serve(work):
    c = apg.new_cluster(work)
    env = apg.env_for(work, c, ARCHIVE="on", SEED_ON_BOOT="never", ARCHIVE_MAX_LAG="1")
    env.pop("BACKUP_BASE_SCHEDULE")
    assert apg.run(env, "migrate", "deploy").returncode == 0
    r = subprocess.run(apg.RUNAS + [apg.BIN, "admin", "master-password"], env=env, input=MASTER_PASSWORD + "\n",
                       capture_output=True, text=True, cwd=env["HOME"])
    assert r.returncode == 0, r.stderr
    c.sql("create table t(id int primary key, v text)")
    port = asq.free_port()
    p = subprocess.Popen(apg.RUNAS + [apg.BIN, "serve"], env=dict(env, LISTEN="127.0.0.1:%d" % port),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=env["HOME"])
    work["procs"].append(p)
    try:
        api = Api(port).login()
        apg.wait_streaming(c, limit=60)
        c.sql("insert into t values (1, 'shown')")
        apg.wait_archived(c, c.sql("select pg_current_wal_lsn()"))
        a = api.wait_archive(lambda a: a["health"] == "ok" and a["from"] is not None, limit=120)
        assert a["kind"] == "postgresql" and a["bases"] == 1 and a["segments"] >= 1 and a["code"] is None, a
        assert iso_ms(a["from"]) <= iso_ms(a["to"]) and a["seconds_ago"] < 60 and a["max_lag_seconds"] == 1, a
        no_secret(a, apg.PASSWORD, "Arch%20p", work["dir"])
        r = apg.run(env, "backup", "list")
        assert "archive: recoverable to any moment from %s" % a["from"][:19].replace("T", " ") in r.stdout, r.stdout
        assert "1 base backup, " in r.stdout and "archive health: ok" in r.stdout, r.stdout
        # the archive cannot be written: pg_receivewal fails, the slot falls behind: the
        # lag past ARCHIVE_MAX_LAG (1 s) or the stream down shows, with its code
        os.chmod(apg.wal_dir(work), 0o500)
        t0, k = time.time(), 1
        while True:
            k += 1
            c.sql("insert into t select g + 1000 * %d, 'w' from generate_series(1, 50) g" % k)
            c.sql("select pg_switch_wal()")  # a new segment: a file pg_receivewal cannot create
            a = api.archive()
            if a["health"] != "ok" or time.time() - t0 > 60:
                break
            time.sleep(0.5)
        assert a["health"] in ("lagging", "failing") and a["code"] in ("archive_lagging", "archive_failed"), a
        r = apg.run(env, "backup", "list")
        assert "archive health: lagging" in r.stdout or "archive health: failing" in r.stdout, r.stdout
        os.chmod(apg.wal_dir(work), 0o700)
        a = api.wait_archive(lambda a: a["health"] == "ok", limit=120)
        # A report older than ARCHIVE_STALE_S (60 s) is a stopped archiver, unless the
        # archiver is taking a base backup (its loop pauses; pg_receivewal streams on)
        apg.stop(p)
        state = os.path.join(env["BACKUP_DIR"], ".archive-pg.json")
        rec = json.load(open(state))
        rec["time"] -= 300
        with open(state, "w") as f:
            json.dump(rec, f)
        r = apg.run(env, "backup", "list")
        assert "archive health: failing (archive_stopped)" in r.stdout, r.stdout
        marker = os.path.join(env["BACKUP_DIR"], ".archive-pg-base")
        with open(marker, "w") as f:
            f.write("%d\n" % os.getpid())
        r = apg.run(env, "backup", "list")
        assert "archive health: ok" in r.stdout, r.stdout
        gone = subprocess.Popen(["true"])
        gone.wait()
        with open(marker, "w") as f:
            f.write("%d\n" % gone.pid)
        r = apg.run(env, "backup", "list")
        assert "archive health: failing (archive_stopped)" in r.stdout, r.stdout
    finally:
        os.chmod(apg.wal_dir(work), 0o700)
        apg.stop(p)


work = apg.work
