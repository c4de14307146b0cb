"""`citaplanner backup restore` (SPEC §6 "Restoring"), run as an operator
would, on SQLite and PostgreSQL: the confirmation on a terminal, the
refusal without one, the prerestore backup, atomicity under kill -9 and
under a dump that fails halfway, an old backup migrated forward, a newer
one refused, the lock, and a running `serve` that keeps working.
"""
import glob
import fcntl
import gzip
import json
import os
import pty
import random
import shutil
import signal
import subprocess
import time
import uuid

from conftest import BIN, ROOT, Database, pg_admin_url, pg_parts, pg_url_for, psql, run
from server import Server
from test_verify import add_bulk, benv, db_dump, prepare, take, write_backup

PROMPT = "This will OVERWRITE all current data. Type 'SI' to confirm:"


def env_of(db, extra=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": os.environ.get("TZ", "UTC"),
         "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
         "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
         "LOG_LEVEL": "info", "DATABASE_URL": db.url}
    e.update(extra or {})
    return e


def restore_on_tty(db, bdir, path, answer, *args):
    """Run restore with a real terminal on stdin, typing answer at the prompt."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([BIN, "backup", "restore", path, *args], stdin=slave,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env_of(db, benv(bdir)))
        os.close(slave)
        slave = -1
        os.write(master, answer.encode() + b"\n")
        out, err = p.communicate(timeout=120)
        return p.returncode, out, err
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)


def modify(db):
    """Change the data after a backup, in a way the backup does not have."""
    db.query("DELETE FROM payments")
    db.query("DELETE FROM appointments")
    db.query("UPDATE clients SET notes = 'changed after the backup'")


def counts(db):
    return {t: db.count(t) for t in ("users", "appointments", "clients", "payments")}


# ---------------------------------------------------------------- the prompt

def test_only_SI_on_a_terminal_proceeds(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    modify(db)
    changed = db_dump(db)
    for answer in ("si", "yes", "", "SI please", " SI"):
        rc, out, err = restore_on_tty(db, bdir, good, answer)
        assert rc == 7, f"{answer!r}: {rc} {out} {err}"
        assert PROMPT in out and "cancelled" in err, (out, err)
        assert db_dump(db) == changed, answer
    # Shown before the question: target (redacted), backup, date, row counts.
    assert "target:" in out and "taken:" in out
    assert os.path.basename(good) in out and "users 5, appointments 6, clients 6" in out
    if db.kind == "pg":
        assert ":***@" in out and pg_parts(db.url)[1] not in out
    assert not os.path.isdir(bdir / "prerestore") or not os.listdir(bdir / "prerestore")

    rc, out, err = restore_on_tty(db, bdir, good, "SI")
    assert rc == 0, out + err
    assert counts(db) == {"users": 5, "appointments": 6, "clients": 6, "payments": 3}
    assert db.count("clients", "WHERE notes = 'changed after the backup'") == 0


def test_no_terminal_without_yes_refuses_at_once(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    modify(db)
    before = db_dump(db)
    # stdin an open pipe that never gets a byte: waiting on it would hang.
    p = subprocess.Popen([BIN, "backup", "restore", good], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env_of(db, benv(bdir)))
    t0 = time.monotonic()
    try:
        p.wait(timeout=10)
    finally:
        p.stdin.close()
    out, err = p.stdout.read(), p.stderr.read()
    assert p.returncode == 7, out + err
    assert time.monotonic() - t0 < 10
    assert "--yes" in err and PROMPT not in out
    # The guide's spelling refuses the same way.
    p = run(["backup", "--restore", good], database=db, env=benv(bdir), input="SI\n")
    assert p.returncode == 7 and "--yes" in p.stderr
    assert db_dump(db) == before


# ---------------------------------------------------------------- --yes, prerestore

def test_yes_restores_and_the_prerestore_backup_brings_back_the_state_before(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir, now="2025-01-09T02:00:00")
    at_backup = db_dump(db)
    modify(db)
    db.query("INSERT INTO clients (tenant_id, first_name, last_name, phone) "
             "SELECT id, 'Nueva', 'Clienta', '+52 55 9999 0001' FROM tenants LIMIT 1")
    before = db_dump(db)

    p = run(["backup", "restore", good, "--yes", "--json"], database=db,
            env=benv(bdir, CITAPLANNER_FAKE_NOW="2025-01-10T12:00:00"))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["ok"] and out["migrations_applied"] == 0
    assert out["rows"]["clients"] == {"backup": 6, "now": 6}
    assert out["rows"]["appointments"] == {"backup": 6, "now": 6}
    assert out["rows"]["users"] == {"backup": 5, "now": 5}
    assert db_dump(db) == at_backup
    pre = out["prerestore"]
    assert pre.endswith("citaplanner_prerestore_20250110_120000" +
                        (".sqlite.gz" if db.kind == "sqlite" else ".sql.gz"))
    assert run(["backup", "verify", pre], database=db, env=benv(bdir)).returncode == 0

    # The safety backup holds exactly the state before the restore.
    p = run(["backup", "restore", pre, "--yes", "--no-safety-backup"], database=db,
            env=benv(bdir))
    assert p.returncode == 0, p.stderr
    assert db_dump(db) == before
    assert "clients" in p.stdout and "prerestore backup:" not in p.stdout

    # Rotation keeps the newest 3 prerestore backups.
    for i in range(3):
        p = run(["backup", "--restore", good, "--yes"], database=db,
                env=benv(bdir, CITAPLANNER_FAKE_NOW=f"2025-01-1{i + 1}T12:00:00"))
        assert p.returncode == 0, p.stderr
    names = sorted(n for n in os.listdir(bdir / "prerestore") if n.endswith(".gz"))
    assert [n[len("citaplanner_prerestore_"):][:15] for n in names] == \
        ["20250111_120000", "20250112_120000", "20250113_120000"]


def test_lock_held_exits_8_and_changes_nothing(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    modify(db)
    before = db_dump(db)
    with open(bdir / ".lock", "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        f.write(f"{os.getpid()}\n")
        f.flush()
        p = run(["backup", "restore", good, "--yes"], database=db, env=benv(bdir))
    assert p.returncode == 8, p.stderr
    assert str(os.getpid()) in p.stderr
    assert db_dump(db) == before


# ---------------------------------------------------------------- atomicity

def wait_for_child(pid, comm, timeout):
    """True once process pid has a child named comm (spawned by any of its
    threads).  Other children come and go meanwhile (pg_dump of the
    prerestore backup): one that exits while being looked at is skipped."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return False
        kids = []
        for task in glob.glob(f"/proc/{pid}/task/*/children"):
            try:
                kids += open(task).read().split()
            except OSError:
                pass
        for k in kids:
            try:
                if open(f"/proc/{k}/comm").read().strip() == comm:
                    return True
            except OSError:
                pass
        time.sleep(0.005)
    return False


def test_kill_9_at_random_moments_leaves_the_old_or_the_new_data(db, tmp_path):
    prepare(db, bulk=60000)
    bdir = tmp_path / "bk"
    old = take(db, bdir, now="2025-01-09T02:00:00")
    old_dump = db_dump(db)
    modify(db)
    db.query("DELETE FROM bulk WHERE id % 3 = 0")
    new = take(db, bdir, now="2025-01-09T03:00:00")
    new_dump = db_dump(db)
    assert old_dump != new_dump

    # How long a whole restore takes, to aim the kills inside it.
    t0 = time.monotonic()
    p = run(["backup", "restore", old, "--yes"], database=db, env=benv(bdir))
    span = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    assert db_dump(db) == old_dump
    assert run(["backup", "restore", new, "--yes", "--no-safety-backup"], database=db,
               env=benv(bdir)).returncode == 0

    rnd = random.Random(5)
    outcomes = []
    for trial in range(6):
        p = subprocess.Popen([BIN, "backup", "restore", old, "--yes"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env_of(db, benv(bdir)))
        if trial == 0 and db.kind == "pg":
            # Once for certain while psql is being fed the dump.
            assert wait_for_child(p.pid, "psql", 60), "psql never started"
            time.sleep(0.05)
        else:
            # Spread over the run, from start-up to the commit and beyond.
            time.sleep(span * (trial + rnd.random()) / 6)
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        if db.kind == "pg":
            # psql notices its input ended; wait until it has gone.
            deadline = time.time() + 30
            while time.time() < deadline and psql(pg_admin_url(), (
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql' "
                    f"AND datname = '{db.url.rsplit('/', 1)[1]}'"))[0][0] != "0":
                time.sleep(0.1)
        now = db_dump(db)
        assert now in (old_dump, new_dump), f"trial {trial}: a mixed state after kill -9"
        outcomes.append("old" if now == old_dump else "new")
        if now == old_dump:
            assert run(["backup", "restore", new, "--yes", "--no-safety-backup"], database=db,
                       env=benv(bdir)).returncode == 0
    # The lock died with the process, and what it left is cleaned: a restore runs.
    p = run(["backup", "restore", old, "--yes"], database=db, env=benv(bdir))
    assert p.returncode == 0, p.stderr
    assert db_dump(db) == old_dump
    left = [n for d, _, files in os.walk(bdir) for n in files if ".tmp." in n]
    assert left == [], left
    assert "new" in outcomes, outcomes  # at least one kill landed before the commit


def test_dump_failing_halfway_leaves_the_database_unchanged(tmp_path):
    """PostgreSQL: a backup that verifies (header, closing line, hashes) but
    whose SQL fails in the middle; the restore rolls everything back."""
    name = "t_" + uuid.uuid4().hex[:16]
    psql(pg_admin_url(), f'CREATE DATABASE "{name}"')
    try:
        db = Database("pg", pg_url_for(name))
        prepare(db, bulk=20000)
        bdir = tmp_path / "bk"
        good = take(db, bdir)
        manifest = json.load(open(good + ".json"))
        raw = gzip.decompress(open(good, "rb").read()).decode()
        # After the first table's data is loaded, a statement that fails.
        i = raw.index("\\.\n", raw.index("COPY public.")) + 3
        bad = (raw[:i] + "\nINSERT INTO public.no_such_table VALUES (1);\n" + raw[i:]).encode()
        path = str(tmp_path / "citaplanner_daily_20250101_000000.sql.gz")
        write_backup(path, gzip.compress(bad), manifest, raw_len=len(bad))
        assert run(["backup", "verify", path], database=db, env=benv(bdir)).returncode == 0

        modify(db)
        before = db_dump(db)
        p = run(["backup", "restore", path, "--yes"], database=db, env=benv(bdir))
        assert p.returncode == 5, p.stdout + p.stderr
        assert "no_such_table" in p.stderr and "unchanged" in p.stderr
        assert db_dump(db) == before
    finally:
        psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


# ---------------------------------------------------------------- the schema loaded

def cut_schema(db, good, tmp_path):
    """The backup good with its indexes, constraints and triggers gone, as
    a dump cut just before that section would hold (the closing line put
    back): bytes of a whole, well-formed backup, and its uncompressed size."""
    if db.kind == "pg":
        raw = gzip.decompress(open(good, "rb").read()).decode()
        first = raw.index("ADD CONSTRAINT")
        cut = raw.rindex("\n--\n-- Name: ", 0, first)
        closing = raw.rindex("\n--\n-- PostgreSQL database dump complete")
        bad = (raw[:cut] + raw[closing:]).encode()
        assert b"appointments_no_overlap" not in bad
        return gzip.compress(bad), len(bad)
    import sqlite3
    copy = str(tmp_path / "cut.sqlite")
    with open(copy, "wb") as f:
        f.write(gzip.decompress(open(good, "rb").read()))
    con = sqlite3.connect(copy)
    for kind, name in con.execute("SELECT type, name FROM sqlite_master WHERE type IN "
                                  "('index', 'trigger') AND name NOT LIKE 'sqlite_%'").fetchall():
        con.execute(f'DROP {kind} "{name}"')
    con.commit()
    con.execute("VACUUM")
    con.close()
    raw = open(copy, "rb").read()
    return gzip.compress(raw), len(raw)


def test_a_backup_without_its_indexes_and_constraints_is_refused(db, tmp_path):
    """A dump cut just before its index and constraint section (SQLite: a
    database without its indexes and triggers), sidecar and manifest
    recomputed: whole to the quick check, refused by verify --deep and by
    restore (exit 7), which leaves the old data."""
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    manifest = json.load(open(good + ".json"))
    objects = manifest["schema_objects"]
    assert any("appointments_no_overlap" in o for o in objects), objects
    data, raw_len = cut_schema(db, good, tmp_path)
    ext = ".sql.gz" if db.kind == "pg" else ".sqlite.gz"
    path = str(tmp_path / f"citaplanner_daily_20250101_000000{ext}")
    write_backup(path, data, manifest, raw_len=raw_len)

    p = run(["backup", "verify", path], database=db, env=benv(bdir))
    assert p.returncode == 0, p.stdout + p.stderr
    p = run(["backup", "verify", "--deep", path], database=db, env=benv(bdir), timeout=300)
    assert p.returncode == 6, p.stdout + p.stderr
    assert "the schema lacks" in p.stdout, p.stdout

    modify(db)
    before = db_dump(db)
    p = run(["backup", "restore", path, "--yes"], database=db, env=benv(bdir))
    assert p.returncode == 7, p.stdout + p.stderr
    assert "schema" in p.stderr and "manifest" in p.stderr, p.stderr
    assert db_dump(db) == before
    # A manifest without the list (an older backup's shape): the no-double-booking
    # guard every version of ours has is still required.
    older = {k: v for k, v in manifest.items() if k != "schema_objects"}
    path = str(tmp_path / f"citaplanner_daily_20250102_000000{ext}")
    write_backup(path, data, older, raw_len=raw_len)
    p = run(["backup", "restore", path, "--yes"], database=db, env=benv(bdir))
    assert p.returncode == 7, p.stdout + p.stderr
    assert "appointments_no_overlap" in p.stderr, p.stderr
    assert db_dump(db) == before
    # The good backup itself still restores.
    p = run(["backup", "restore", good, "--yes", "--no-safety-backup"], database=db,
            env=benv(bdir))
    assert p.returncode == 0, p.stdout + p.stderr


# ---------------------------------------------------------------- schema versions

def migrations_dir(tmp_path, extra):
    """A copy of the real migrations, plus `extra` ({name: (pg sql, sqlite sql)})."""
    d = tmp_path / "migrations"
    for dialect in ("pg", "sqlite"):
        shutil.copytree(os.path.join(ROOT, "src", "migrate", "migrations", dialect), d / dialect)
        for name, sql in extra.items():
            (d / dialect / name).write_text(sql[0 if dialect == "pg" else 1])
    return str(d)


def test_old_backup_is_migrated_forward_and_a_newer_one_refused(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "bk"
    old = take(db, bdir, now="2025-01-09T02:00:00")
    mdir = migrations_dir(tmp_path, {"9000_client_vip.sql": (
        "ALTER TABLE clients ADD COLUMN vip boolean NOT NULL DEFAULT false;\n",
        "ALTER TABLE clients ADD COLUMN vip INTEGER NOT NULL DEFAULT 0;\n")})
    newer = {"CITAPLANNER_MIGRATIONS_DIR": mdir}
    p = run(["migrate", "deploy"], database=db, env=newer)
    assert p.returncode == 0, p.stderr
    db.query("UPDATE clients SET vip = true" if db.kind == "pg" else "UPDATE clients SET vip = 1")
    new = take(db, bdir, now="2025-01-09T03:00:00", env=newer)
    assert json.load(open(new + ".json"))["schema_version"] == "9000_client_vip"

    # A program that knows 9000 restores the old backup and migrates it forward.
    p = run(["backup", "restore", old, "--yes", "--json"], database=db, env=benv(bdir, **newer))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["migrations_applied"] == 1 and out["schema_version"] == "9000_client_vip"
    assert db.count("clients", "WHERE vip = " + ("false" if db.kind == "pg" else "0")) == 6

    # This program does not know 9000: it refuses the newer backup, changing nothing.
    before = db_dump(db)
    p = run(["backup", "restore", new, "--yes"], database=db, env=benv(bdir))
    assert p.returncode == 7, p.stdout + p.stderr
    assert "9000_client_vip" in p.stderr and "newer" in p.stderr
    assert db_dump(db) == before


def test_backup_with_an_unknown_schema_sorting_before_ours_is_refused(db, tmp_path):
    """Any migration this program does not know means a newer program made
    the backup, wherever its name sorts."""
    prepare(db)
    bdir = tmp_path / "bk"
    path = take(db, bdir)
    with open(path + ".json") as f:
        manifest = json.load(f)
    manifest["schema_version"] = "0000_from_a_newer_release"
    with open(path + ".json", "w") as f:
        json.dump(manifest, f)
    before = db_dump(db)
    p = run(["backup", "restore", path, "--yes"], database=db, env=benv(bdir))
    assert p.returncode == 7, p.stdout + p.stderr
    assert "0000_from_a_newer_release" in p.stderr and "newer" in p.stderr
    assert db_dump(db) == before


# ---------------------------------------------------------------- serve

def test_serve_keeps_working_after_a_restore(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    modify(db)
    with Server(db, env={"BACKUP_DIR": str(bdir)}) as srv:
        srv.wait_ready()
        status, _, _ = srv.request("GET", "/readyz")
        assert status == 200
        p = run(["backup", "restore", good, "--yes"], database=db, env=benv(bdir))
        assert p.returncode == 0, p.stderr
        for _ in range(5):
            status, _, body = srv.request("GET", "/readyz")
            assert status == 200, body
        # Its connections see the restored data: the demo admin logs in.
        status, _, body = srv.request("POST", "/api/v1/auth/login",
                                      {"email": "admin@citaplanner.com", "password": "admin123"})
        assert status == 200, body
        assert srv.proc.poll() is None
    assert db.count("appointments") == 6
