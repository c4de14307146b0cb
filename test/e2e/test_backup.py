"""`citaplanner backup` (SPEC §6 "Layout" and "Taking a backup"), run as an
operator would, on SQLite and PostgreSQL.

Every test that takes `db` runs once per database.  The clock of a run is
set with CITAPLANNER_FAKE_NOW (local time; TZ=UTC here) where the day
matters.
"""
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

from conftest import BIN, ROOT, pg_admin_url, pg_parts, pg_url_for, psql, run

NAME_RE = re.compile(r"^citaplanner_(daily|weekly|monthly|premigrate|prerestore)_"
                     r"(\d{8})_(\d{6})\.(sql|sqlite)\.gz$")
TIERS = ["daily", "weekly", "monthly", "premigrate", "prerestore"]
THURSDAY = "2025-01-09T02:00:00"


# ---------------------------------------------------------------- helpers

def prepare(cp, db):
    """The schema and the demo data, through the real commands."""
    p = cp(["migrate", "deploy"], database=db)
    assert p.returncode == 0, p.stderr
    p = cp(["seed"], database=db)
    assert p.returncode == 0, p.stderr


def take(cp, db, bdir, *args, now=None, env=None, timeout=120):
    e = {"BACKUP_DIR": str(bdir)}
    if now:
        e["CITAPLANNER_FAKE_NOW"] = now
    if env:
        e.update(env)
    return cp(["backup", *args], database=db, env=e, timeout=timeout)


def take_ok(cp, db, bdir, *args, now=None, env=None):
    p = take(cp, db, bdir, "--json", *args, now=now, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def data_files(bdir):
    """Every final-named data file under bdir, as paths, sorted."""
    out = []
    for t in TIERS:
        d = os.path.join(bdir, t)
        if os.path.isdir(d):
            out += [os.path.join(d, n) for n in os.listdir(d)
                    if NAME_RE.match(n) and NAME_RE.match(n).group(1) == t]
    return sorted(out)


def all_files(bdir):
    """{relative path: sha256} of every file in the tier directories."""
    out = {}
    for t in TIERS:
        d = os.path.join(bdir, t)
        if not os.path.isdir(d):
            continue
        for n in os.listdir(d):
            with open(os.path.join(d, n), "rb") as f:
                out[f"{t}/{n}"] = hashlib.sha256(f.read()).hexdigest()
    return out


def sha256sum_check(path):
    """`cd dir && sha256sum -c NAME.sha256`, exactly as the guide shows."""
    d, n = os.path.split(path)
    return subprocess.run(["sha256sum", "-c", n + ".sha256"], cwd=d, capture_output=True,
                          text=True)


def assert_complete(path):
    """A final-named data file: its checksum passes and its manifest describes it."""
    p = sha256sum_check(path)
    assert p.returncode == 0, f"{path}: {p.stdout} {p.stderr}"
    with open(path + ".json") as f:
        m = json.load(f)
    assert m["file"] == os.path.basename(path)
    assert m["bytes"]["compressed"] == os.path.getsize(path)
    with open(path, "rb") as f:
        assert m["sha256"] == hashlib.sha256(f.read()).hexdigest()
    return m


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def live_counts(db, tables):
    return {t: db.count(t) for t in tables}


def add_bulk(db, rows, random_data=False):
    """A table of `rows` rows beside the application's, to make dumps bigger."""
    if db.kind == "pg":
        note = ("decode(md5(random()::text) || md5(random()::text), 'hex')" if random_data else
                "md5(g::text) || ' appointment note ' || repeat(md5((g % 977)::text), 3)")
        kind = "bytea" if random_data else "text"
        db.query(f"CREATE TABLE IF NOT EXISTS bulk (id bigint, note {kind}); "
                 f"INSERT INTO bulk SELECT g, {note} FROM generate_series(1, {rows}) g")
    else:
        note = ("randomblob(32)" if random_data else
                "hex(randomblob(16)) || ' appointment note ' || (i % 977)")
        db.query("CREATE TABLE IF NOT EXISTS bulk (id INTEGER, note)")
        db.query(f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) "
                 f"INSERT INTO bulk SELECT i, {note} FROM s")


def pg_env(url):
    user, password, host, port, dbname = pg_parts(url)
    return dict(os.environ, PGPASSWORD=password, PGUSER=user, PGHOST=host, PGPORT=str(port),
                PGDATABASE=dbname)


def pg_dump_text(url):
    """A plain dump, without the per-run random \\restrict keys."""
    p = subprocess.run(["pg_dump", "--no-owner", "--no-acl"], env=pg_env(url),
                       capture_output=True, text=True, check=True)
    return "\n".join(l for l in p.stdout.splitlines()
                     if not l.startswith(("\\restrict", "\\unrestrict")))


@pytest.fixture
def scratch_pg():
    """Extra PostgreSQL databases for a test, dropped afterwards."""
    made = []

    def make():
        name = "t_" + uuid.uuid4().hex[:16]
        psql(pg_admin_url(), f'CREATE DATABASE "{name}"')
        made.append(name)
        return pg_url_for(name)

    yield make
    for name in made:
        psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


# ---------------------------------------------------------------- layout

def test_first_backup_creates_missing_dir_with_names_modes_sums_and_manifest(db, cp, tmp_path):
    prepare(cp, db)
    bdir = tmp_path / "volume" / "not" / "there"
    r = take_ok(cp, db, bdir, now=THURSDAY)

    ext = "sql" if db.kind == "pg" else "sqlite"
    name = f"citaplanner_daily_20250109_020000.{ext}.gz"
    path = str(bdir / "daily" / name)
    assert r["ok"] and r["tiers"] == ["daily"]
    assert r["files"] == {"daily": path}
    assert data_files(bdir) == [path]
    assert r["database"] == ("postgresql" if db.kind == "pg" else "sqlite")

    # Directories 0700, files 0600 (log file included).
    assert mode(bdir) == 0o700
    for sub in TIERS + ["logs"]:
        assert mode(bdir / sub) == 0o700, sub
    for f in (path, path + ".sha256", path + ".json", str(bdir / "logs" / "backup_20250109.log")):
        assert mode(f) == 0o600, f

    # The sidecar is exactly sha256sum's line, and sha256sum -c accepts it.
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert open(path + ".sha256").read() == f"{digest}  {name}\n"
    assert r["sha256"] == digest
    m = assert_complete(path)

    tables = ["tenants", "branches", "users", "services", "clients", "appointments", "payments"]
    assert m["format"] == 1 and m["program"] == "citaplanner" and m["version"]
    assert m["tier"] == "daily" and m["tiers"] == ["daily"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", m["started_at"])
    assert m["started_at"] == "2025-01-09T02:00:00Z"
    assert m["finished_at"] >= m["started_at"]
    assert m["database"]["kind"] == r["database"]
    assert m["database"]["server_version"].startswith("PostgreSQL " if db.kind == "pg" else "SQLite ")
    latest = db.scalar("SELECT name FROM _migrations WHERE finished_at IS NOT NULL "
                       "ORDER BY name DESC LIMIT 1")
    assert m["schema_version"] == latest
    for t in tables:
        assert m["tables"][t] == db.count(t), t
    assert m["tables"]["users"] == 5 and m["tables"]["appointments"] == 6
    assert m["bytes"]["compressed"] == os.path.getsize(path) == r["bytes"]["compressed"]
    assert m["bytes"]["uncompressed"] == r["bytes"]["uncompressed"]
    with gzip.open(path) as g:
        assert len(g.read()) == m["bytes"]["uncompressed"]

    log = open(bdir / "logs" / "backup_20250109.log").read()
    assert "backup: complete" in log and "summary: daily 1, weekly 0, monthly 0" in log
    assert re.search(r"in \d+\.\d+ s \(\d+\.\d+ MB/s\)", log), log

    # list: the backup, its tier, time, size, sidecars.
    p = cp(["backup", "list", "--json"], database=db, env={"BACKUP_DIR": str(bdir)})
    assert p.returncode == 0, p.stderr
    lst = json.loads(p.stdout)
    assert lst["count"] == 1 and lst["tiers"]["daily"] == 1
    b = lst["backups"][0]
    assert b == {"tier": "daily", "file": name, "path": path, "time": "2025-01-09T02:00:00",
                 "format": ext, "size": os.path.getsize(path), "has_sha256": True,
                 "has_manifest": True, "origin": "citaplanner"}
    os.unlink(path + ".json")
    p = cp(["backup", "list"], database=db, env={"BACKUP_DIR": str(bdir)})
    assert p.returncode == 0 and "MISSING" in p.stdout and name in p.stdout
    assert "other tool" in p.stdout  # no manifest: as another tool's backup


def test_hand_restore_gives_the_same_data_while_writes_go_on(db, cp, tmp_path, scratch_pg):
    """gunzip | psql (PostgreSQL) / gunzip > x.db (SQLite) restores by hand; the
    copy is one snapshot although a writer keeps inserting during the backup."""
    prepare(cp, db)
    add_bulk(db, 60000)
    stop = threading.Event()
    written = [0]

    def writer():
        if db.kind == "sqlite":
            con = sqlite3.connect(db.path, timeout=30, isolation_level=None)
            i = 0
            while not stop.is_set():
                con.execute("INSERT INTO bulk (id, note) VALUES (?, 'concurrent')", (10**9 + i,))
                i += 1
            con.close()
            written[0] = i
        else:
            p = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], env=pg_env(db.url),
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
            i = 0
            while not stop.is_set():
                p.stdin.write(f"INSERT INTO bulk (id, note) VALUES ({10**9 + i}, 'concurrent');\n")
                p.stdin.flush()
                i += 1
                time.sleep(0.0005)
            p.stdin.close()
            p.wait()
            written[0] = i

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.2)
        r = take_ok(cp, db, tmp_path / "bk", now=THURSDAY)
    finally:
        stop.set()
        t.join()
    assert written[0] > 0
    path = r["files"]["daily"]
    m = assert_complete(path)

    if db.kind == "sqlite":
        out = tmp_path / "x.db"
        with open(out, "wb") as f:
            subprocess.run(["gunzip", "-c", path], stdout=f, check=True)
        p = subprocess.run(["sqlite3", str(out), "PRAGMA integrity_check;"], capture_output=True,
                           text=True)
        assert p.stdout.strip() == "ok", p.stdout + p.stderr
        con = sqlite3.connect(out)
        for table, n in m["tables"].items():
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == n, table
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        con.close()
        # Same data as the source, apart from rows written after the snapshot.
        src = sqlite3.connect(db.path)
        copy = sqlite3.connect(out)
        for table in ["tenants", "users", "clients", "appointments", "payments", "_migrations"]:
            assert (src.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() ==
                    copy.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()), table
        src.close()
        copy.close()
    else:
        target = scratch_pg()
        p = subprocess.run(f"gunzip -c '{path}' | psql -X -q -v ON_ERROR_STOP=1",
                           shell=True, env=pg_env(target), capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        for table, n in m["tables"].items():
            assert int(psql(target, f'SELECT count(*) FROM "{table}"')[0][0]) == n, table
        # Once the writer's rows are gone from the source too, the two dumps are equal.
        cut = m["tables"]["bulk"] - 60000
        db.query(f"DELETE FROM bulk WHERE id >= {10**9 + cut}")
        assert pg_dump_text(db.url) == pg_dump_text(target)


# ---------------------------------------------------------------- tiers

def test_sunday_first_and_sunday_the_first_get_linked_tiers(db, cp, tmp_path):
    prepare(cp, db)
    cases = [("2025-01-09T02:00:00", ["daily"]),             # a Thursday
             ("2025-01-05T02:00:00", ["daily", "weekly"]),   # a Sunday
             ("2025-02-01T02:00:00", ["daily", "monthly"]),  # the 1st, a Saturday
             ("2025-06-01T02:00:00", ["daily", "weekly", "monthly"])]  # Sunday the 1st
    bdir = tmp_path / "bk"
    for now, tiers in cases:
        r = take_ok(cp, db, bdir, now=now)
        assert r["tiers"] == tiers, now
        assert sorted(r["files"]) == sorted(tiers)
        inodes = {os.stat(p).st_ino for p in r["files"].values()}
        assert len(inodes) == 1, "extra tiers must be links to one file"
        stamp = now.replace("-", "").replace(":", "").replace("T", "_")
        for tier, p in r["files"].items():
            assert os.path.basename(p) == f"citaplanner_{tier}_{stamp}.{'sql' if db.kind == 'pg' else 'sqlite'}.gz"
            assert os.path.dirname(p) == str(bdir / tier)
            m = assert_complete(p)
            assert m["tier"] == tier and m["tiers"] == tiers
            assert os.stat(p).st_nlink == len(tiers)
    # --tier forces one tier; BACKUP_WEEKLY_DAY moves the weekly day.
    r = take_ok(cp, db, bdir, "--tier", "monthly", now="2025-01-09T03:00:00")
    assert r["tiers"] == ["monthly"]
    r = take_ok(cp, db, bdir, now="2025-01-09T04:00:00", env={"BACKUP_WEEKLY_DAY": "4"})
    assert r["tiers"] == ["daily", "weekly"]
    p = take(cp, db, bdir, "--tier", "hourly")
    assert p.returncode == 2 and "hourly" in p.stderr
    p = take(cp, db, bdir, now="yesterday")
    assert p.returncode == 2 and "CITAPLANNER_FAKE_NOW" in p.stderr


# ---------------------------------------------------------------- rotation

def test_rotation_keeps_newest_n_by_name_and_touches_nothing_else(db, cp, tmp_path):
    prepare(cp, db)
    bdir = tmp_path / "bk"
    env = {"BACKUP_KEEP_DAILY": "3"}
    take_ok(cp, db, bdir, now="2025-01-06T02:00:00", env=env)
    # Files that are not ours, or not in their tier's directory, or an old
    # backup whose file is the newest on disk: rotation judges by name.
    ours = bdir / "daily" / "citaplanner_daily_20240101_020000.sql.gz"
    for suffix in ("", ".sha256", ".json"):
        (bdir / "daily" / (ours.name + suffix)).write_text("old")
    foreign = [bdir / "daily" / "notes.txt", bdir / "daily" / "citaplanner_daily_2024.sql.gz",
               bdir / "daily" / "citaplanner_weekly_20240101_020000.sql.gz",
               bdir / "daily" / "citaplanner_daily_20240101_020000.sql.gz.bak", bdir / "mine.txt"]
    for f in foreign:
        f.write_text("mine")
    weekly_old = [bdir / "weekly" / f"citaplanner_weekly_2024010{d}_020000.sql.gz" for d in (1, 2)]
    for w in weekly_old:
        w.write_text("w")
    for day in ("07", "08", "09"):
        take_ok(cp, db, bdir, now=f"2025-01-{day}T02:00:00", env=env)
    names = sorted(os.path.basename(p) for p in data_files(bdir))
    daily = [n for n in names if n.startswith("citaplanner_daily_")]
    assert [n[18:33] for n in daily] == ["20250107_020000", "20250108_020000", "20250109_020000"]
    assert not any(os.path.exists(str(ours) + s) for s in ("", ".sha256", ".json"))
    for f in foreign + weekly_old:
        assert f.exists(), f
    for p in data_files(bdir):
        if "/daily/" in p:
            assert_complete(p)
    log = "".join(open(bdir / "logs" / n).read() for n in os.listdir(bdir / "logs"))
    assert "rotation: deleted" in log and "citaplanner_daily_20240101_020000" in log

    # A failed backup never rotates, even with a keep count that would delete.
    before = all_files(bdir)
    bad = type("Bad", (), {})()
    if db.kind == "pg":
        bad.url = db.url + "_missing"
    else:
        bad.url = f"sqlite:{tmp_path}/missing/none.db"
    p = take(cp, bad, bdir, now="2025-01-10T02:00:00", env={"BACKUP_KEEP_DAILY": "1"})
    assert p.returncode == 5, p.stderr
    assert all_files(bdir) == before

    # prune --dry-run shows, prune deletes, both keep the newest.
    p = cp(["backup", "prune", "--dry-run", "--json"], database=db,
           env={"BACKUP_DIR": str(bdir), "BACKUP_KEEP_DAILY": "1"})
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["dry_run"] is True and out["count"] == 2
    assert sorted(b["file"][18:33] for b in out["would_delete"]) == ["20250107_020000", "20250108_020000"]
    assert all_files(bdir) == before
    p = cp(["backup", "prune"], database=db, env={"BACKUP_DIR": str(bdir), "BACKUP_KEEP_DAILY": "1"})
    assert p.returncode == 0, p.stderr
    assert "deleted" in p.stdout
    daily = [os.path.basename(p) for p in data_files(bdir) if "/daily/" in p]
    assert [n[18:33] for n in daily] == ["20250109_020000"]
    for f in foreign + weekly_old:
        assert f.exists(), f


# ---------------------------------------------------------------- failures

def fake_pg_dump(tmp_path, body):
    """A pg_dump stand-in (PG_DUMP) that reports the real version."""
    # The server's own version: pg_dump on PATH (scripts/pg-throwaway.sh puts
    # PostgreSQL 17's first when it runs a 17 server).
    real = shutil.which("pg_dump")
    script = tmp_path / f"pg_dump_{uuid.uuid4().hex[:6]}"
    script.write_text("#!/bin/bash\n"
                      f"REAL={real}\n"
                      'if [ "$1" = --version ]; then exec "$REAL" --version; fi\n' + body + "\n")
    script.chmod(0o755)
    return str(script)


def assert_failed_cleanly(p, bdir, before, code=5):
    assert p.returncode == code, p.stdout + p.stderr
    assert all_files(bdir) == before, "old backups changed or a file was left"
    for t in TIERS:
        assert not [n for n in os.listdir(bdir / t) if ".tmp." in n], t


def test_failing_dump_leaves_nothing_and_exits_5(db, cp, tmp_path):
    prepare(cp, db)
    bdir = tmp_path / "bk"
    take_ok(cp, db, bdir, now="2025-01-08T02:00:00")
    before = all_files(bdir)
    bad = type("Bad", (), {})()
    if db.kind == "pg":
        bad.url = db.url + "_nope"  # a wrong database name
    else:
        junk = tmp_path / "junk.db"
        junk.write_bytes(b"this is not a database" * 1000)
        bad.url = f"sqlite:{junk}"
    p = take(cp, bad, bdir, now=THURSDAY)
    assert_failed_cleanly(p, bdir, before)
    assert "backup failed" in p.stderr
    log = open(bdir / "logs" / "backup_20250109.log").read()
    assert "backup failed" in log and "alert" in log
    if db.kind == "pg":
        assert "_nope" in log and "does not exist" in log
        # pg_dump failing: its status and first stderr lines are reported.
        fake = fake_pg_dump(tmp_path, 'echo "pg_dump: error: something broke" >&2\nexit 1')
        p = take(cp, db, bdir, now=THURSDAY, env={"PG_DUMP": fake})
        assert_failed_cleanly(p, bdir, before)
        assert "pg_dump failed (exit status 1): pg_dump: error: something broke" in p.stderr
        # A dump cut short, although pg_dump says it succeeded: no closing line.
        fake = fake_pg_dump(tmp_path, '"$REAL" "$@" | head -c 3000\nexit 0')
        p = take(cp, db, bdir, now=THURSDAY, env={"PG_DUMP": fake})
        assert_failed_cleanly(p, bdir, before)
        assert "closing line" in p.stderr
        # A PG_DUMP older than the server is passed over for one that fits,
        # and the backup says which it used (test_pg_versions.py: none fits).
        old = tmp_path / "pg_dump_12"
        old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.9'\n")
        old.chmod(0o755)
        p = take(cp, db, bdir, now=THURSDAY, env={"PG_DUMP": str(old)})
        assert p.returncode == 0, p.stderr
        used = re.search(r"pg_dump: using '([^']+)' \(pg_dump \(PostgreSQL\) (\d+)", p.stderr)
        assert used and "pg_dump_12" not in used.group(1) and int(used.group(2)) >= 15, p.stderr


class CuttingForwarder:
    """A TCP relay to PostgreSQL that cuts every connection once `limit` bytes
    have come from the server: the server "stops" in the middle of a dump."""

    def __init__(self, target, limit):
        self.target = target
        self.limit = limit
        self.sent = 0
        self.cut = threading.Event()
        self.socks = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(20)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.cut.is_set():
                c.close()
                continue
            u = socket.create_connection(self.target)
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pipe, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, True), daemon=True).start()

    def _pipe(self, a, b, from_server):
        try:
            while not self.cut.is_set():
                d = a.recv(65536)
                if not d:
                    break
                if from_server:
                    with self.lock:
                        self.sent += len(d)
                        if self.sent > self.limit:
                            self._cut_all()
                            return
                b.sendall(d)
        except OSError:
            pass
        finally:
            for x in (a, b):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _cut_all(self):
        self.cut.set()
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        self._cut_all()


@pytest.mark.parametrize("backend", ["pg"])
def test_server_stopped_mid_dump_leaves_nothing(db, cp, tmp_path):
    prepare(cp, db)
    add_bulk(db, 60000)
    bdir = tmp_path / "bk"
    take_ok(cp, db, bdir, now="2025-01-08T02:00:00")
    before = all_files(bdir)
    user, password, host, port, dbname = pg_parts(db.url)
    fwd = CuttingForwarder((host, port), limit=2_000_000)
    q = lambda s: urllib.parse.quote(s, safe="")
    via = type("Via", (), {"url": f"postgresql://{q(user)}:{q(password)}@127.0.0.1:{fwd.port}/{q(dbname)}"})()
    try:
        p = take(cp, via, bdir, now=THURSDAY)
    finally:
        fwd.close()
    assert fwd.cut.is_set(), "the dump finished before the cut: make it bigger"
    assert_failed_cleanly(p, bdir, before)
    assert "pg_dump" in p.stderr


def test_kill_9_at_random_moments_never_leaves_a_bad_final_file(db, cp, tmp_path):
    prepare(cp, db)
    add_bulk(db, 40000)
    bdir = tmp_path / "bk"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
           "DATABASE_URL": db.url, "BACKUP_DIR": str(bdir), "BACKUP_KEEP_DAILY": "100"}
    t0 = time.monotonic()
    take_ok(cp, db, bdir, env={"BACKUP_KEEP_DAILY": "100"})
    span = max(time.monotonic() - t0, 0.2)
    rng = random.Random(4)
    killed = runs = mid_write = 0
    # 20 kills; a run that ends before its kill is one more good backup.
    while killed < 20 and runs < 60:
        runs += 1
        proc = subprocess.Popen([BIN, "backup"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # span includes start-up and exit: most kills land inside the run.
        time.sleep(rng.uniform(0, span * 0.8))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        # After every kill: a final-named file is complete, or absent.
        for path in data_files(bdir):
            assert_complete(path)
        if any(".tmp." in n for t in TIERS for n in os.listdir(bdir / t)):
            mid_write += 1
    assert killed == 20, f"only {killed} of {runs} runs were killed"
    # Many kills landed while temporary files were open: the cleanup was exercised.
    assert mid_write >= 5, f"only {mid_write} kills landed mid-write"
    r = take_ok(cp, db, bdir, env={"BACKUP_KEEP_DAILY": "100"})
    assert_complete(r["files"]["daily"])
    for t in TIERS:
        for n in os.listdir(bdir / t):
            assert ".tmp." not in n, n
            if n.endswith((".sha256", ".json")):
                assert os.path.exists(bdir / t / n.rsplit(".", 1)[0]), f"orphan {n}"
    assert not [n for n in os.listdir(bdir) if n.startswith(".pgpass")]


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    assert p.returncode == 0, f"cannot mount a tmpfs (the tests run as root): {p.stderr}"
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill_until_free(mnt, free_bytes):
    st = os.statvfs(mnt)
    avail = st.f_bavail * st.f_frsize
    with open(mnt / "filler", "ab") as f:
        f.write(b"\0" * max(avail - free_bytes, 0))


def test_disk_full_is_clear_and_leaves_nothing(db, cp, small_disk, tmp_path):
    prepare(cp, db)
    bdir = small_disk / "bk"
    first = take_ok(cp, db, bdir, now="2025-01-08T02:00:00")
    before = all_files(bdir)
    # Hard to compress data, more than the space left, but a previous backup
    # small enough that the preflight lets the run start: ENOSPC mid-write.
    add_bulk(db, 20000 if db.kind == "sqlite" else 35000, random_data=True)
    if db.kind == "sqlite":
        # Room for the uncompressed copy, not for the compressed file as well.
        free = sum(os.path.getsize(db.path + s) for s in ("", "-wal") if os.path.exists(db.path + s))
        fill_until_free(small_disk, free + 300 * 1024)
    else:
        fill_until_free(small_disk, 900 * 1024)
    p = take(cp, db, bdir, now=THURSDAY)
    assert p.returncode in (5, 9), p.stderr
    assert "space" in p.stderr.lower(), p.stderr
    assert_failed_cleanly(p, bdir, before, code=p.returncode)
    assert_complete(first["files"]["daily"])
    # No room at all: refused before dumping, with the figures.
    fill_until_free(small_disk, 16 * 1024)
    p = take(cp, db, bdir, now=THURSDAY)
    assert p.returncode == 9, p.stderr
    assert "available" in p.stderr and "needed" in p.stderr
    assert_failed_cleanly(p, bdir, before, code=9)
    assert_complete(first["files"]["daily"])


def test_concurrent_runs_one_succeeds_the_other_exits_8(db, cp, tmp_path):
    prepare(cp, db)
    add_bulk(db, 30000)
    bdir = tmp_path / "bk"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
           "DATABASE_URL": db.url, "BACKUP_DIR": str(bdir)}
    lockfile = bdir / ".lock"
    for attempt in range(5):
        a = subprocess.Popen([BIN, "backup"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        # Wait until A holds the lock, then freeze it there.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and a.poll() is None:
            if lockfile.exists() and lockfile.read_text().strip() == str(a.pid):
                break
            time.sleep(0.002)
        a.send_signal(signal.SIGSTOP)
        held = lockfile.exists() and lockfile.read_text().strip() == str(a.pid)
        if held:
            b = cp(["backup"], database=db, env={"BACKUP_DIR": str(bdir)})
            prune = cp(["backup", "prune"], database=db, env={"BACKUP_DIR": str(bdir)})
        a.send_signal(signal.SIGCONT)
        out, err = a.communicate(timeout=120)
        assert a.returncode == 0, err
        if held:
            break
    else:
        pytest.fail("the first backup never held the lock long enough to test")
    assert b.returncode == 8, b.stderr
    assert f"another backup or restore is running (pid {a.pid})" in b.stderr
    assert prune.returncode == 8, prune.stderr
    assert len([p for p in data_files(bdir) if "/daily/" in p]) == attempt + 1
    for p in data_files(bdir):
        assert_complete(p)


@pytest.mark.parametrize("backend", ["pg"])
def test_password_never_on_a_command_line(db, cp, tmp_path):
    prepare(cp, db)
    add_bulk(db, 150000)
    bdir = tmp_path / "bk"
    _, password, _, _, _ = pg_parts(db.url)
    secrets = [password.encode(), urllib.parse.quote(password, safe="").encode()]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
           "DATABASE_URL": db.url, "BACKUP_DIR": str(bdir)}
    proc = subprocess.Popen([BIN, "backup"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    seen_pg_dump = False
    leaks = []
    while proc.poll() is None:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if any(s in cmd for s in secrets):
                leaks.append(cmd)
            if b"pg_dump" in cmd and b"--snapshot" in cmd:
                seen_pg_dump = True
                try:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        environ = f.read()
                except OSError:
                    continue
                if any(s in environ for s in secrets):
                    leaks.append(b"environ of pg_dump")
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert seen_pg_dump, "pg_dump finished before it could be seen: make the dump bigger"
    assert not leaks, leaks
    for text in [out, err] + [open(bdir / "logs" / n, "rb").read() for n in os.listdir(bdir / "logs")]:
        assert not any(s in text for s in secrets)
    for path in data_files(bdir):
        assert password not in open(path + ".json").read()


def peak_rss_kib(args, env):
    """Run args; return (exit status, stderr, peak RSS in KiB).  The kernel's
    high-water mark (VmHWM) of the process, polled until it exits: wait4's
    ru_maxrss would include the memory of the Python process it was forked
    from."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = []
    t = threading.Thread(target=lambda: err.append(proc.stderr.read()))
    t.start()
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.01)
    t.join()
    return proc.returncode, err[0].decode(errors="replace"), peak


def test_slow_500mb_dump_keeps_peak_rss_under_64mib(db, cp, tmp_path):
    """At least 500 MB of dump (SQLite: of database file) in bounded memory."""
    bdir = tmp_path / "bk"
    try:
        if db.kind == "pg":
            db.query("CREATE TABLE big (id bigint, note text); "
                     "INSERT INTO big SELECT g, md5(g::text) || ' ' || "
                     "repeat(md5((g % 1009)::text), 7) FROM generate_series(1, 2200000) g")
        else:
            os.makedirs(os.path.dirname(db.path), exist_ok=True)
            con = sqlite3.connect(db.path)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT)")
            con.execute("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                        "WHERE i < 2400000) INSERT INTO big SELECT i, hex(randomblob(16)) || ' ' || "
                        "substr(hex(zeroblob(100)), 1, 180) || (i % 1009) FROM s")
            con.commit()
            con.close()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC",
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
               "DATABASE_URL": db.url, "BACKUP_DIR": str(bdir), "CITAPLANNER_FAKE_NOW": THURSDAY}
        status, err, rss = peak_rss_kib([BIN, "backup", "--json"], env)
        assert status == 0, err
        (path,) = data_files(bdir)
        with open(path + ".json") as f:
            m = json.load(f)
        assert m["bytes"]["uncompressed"] >= 500 * 1000 * 1000, m["bytes"]
        assert rss < 64 * 1024, f"peak RSS {rss} KiB"
        assert sha256sum_check(path).returncode == 0
    finally:
        # pytest keeps the last runs' temporary directories: not these 500 MB.
        shutil.rmtree(bdir, ignore_errors=True)
        if db.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db.path + suffix):
                    os.unlink(db.path + suffix)


def test_pg_backup_sh_passes_its_arguments(db, cp, tmp_path):
    prepare(cp, db)
    bdir = tmp_path / "bk"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
           "DATABASE_URL": db.url, "BACKUP_DIR": str(bdir), "CITAPLANNER_BIN": BIN,
           "CITAPLANNER_FAKE_NOW": THURSDAY}
    script = os.path.join(ROOT, "scripts", "pg_backup.sh")
    p = subprocess.run([script], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "backup written:" in p.stdout
    p = subprocess.run([script, "list", "--json"], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["count"] == 1
    p = subprocess.run([script, "--tier", "bogus"], env=env, capture_output=True, text=True)
    assert p.returncode == 2
