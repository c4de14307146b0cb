"""`citaplanner migrate deploy|status|resolve|reset` on both databases: the
ledger, failed and modified migrations, resolving them, reset, concurrent
deploys (SPEC §2, the runner's Prisma Migrate semantics).

Tests that need their own migrations copy the built-in ones into a temporary
directory and point CITAPLANNER_MIGRATIONS_DIR at it."""
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess

import pytest

from conftest import BIN, ROOT, run

MIGRATIONS = os.path.join(ROOT, "src", "migrate", "migrations")
BUILT_IN = sorted(f[:-4] for f in os.listdir(os.path.join(MIGRATIONS, "sqlite"))
                  if re.match(r"^\d{4}_\w+\.sql$", f))
LATEST = BUILT_IN[-1]


def dialect(db):
    return "pg" if db.kind == "pg" else "sqlite"


@pytest.fixture
def migdir(tmp_path):
    """A copy of the built-in migrations; returns (env, directory) helpers."""
    d = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, d)
    return d


def write(migdir, db, name, text):
    path = migdir / dialect(db) / f"{name}.sql"
    path.write_text(text)
    return path


def ledger(db):
    """The ledger rows: [name, finished?, rolled back?, logs] by id."""
    rows = db.query("SELECT name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, "
                    "coalesce(logs, '') FROM _migrations ORDER BY id")
    truth = lambda v: v in (1, "1", "t", True)
    return [[r[0], truth(r[1]), truth(r[2]), r[3]] for r in rows]


def has_table(db, name):
    if db.kind == "sqlite":
        return db.count("sqlite_master", f"WHERE type = 'table' AND name = '{name}'") == 1
    return db.count("information_schema.tables",
                    f"WHERE table_schema = 'public' AND table_name = '{name}'") == 1


def status_json(cp, db, env=None):
    r = cp(["migrate", "status", "--json"], database=db, env=env)
    out = json.loads(r.stdout)
    return r.returncode, {m["name"]: m for m in out["migrations"]}, out["up_to_date"]


def test_deploy_on_empty_database_then_status(db, cp):
    r = cp(["migrate", "status"], database=db)
    assert r.returncode == 4, r.stderr
    assert re.search(rf"^{LATEST}\s+pending$", r.stdout, re.M), r.stdout
    # status only reads: it does not even create the ledger.
    assert not has_table(db, "_migrations")

    r = cp(["migrate", "deploy"], database=db)
    assert r.returncode == 0, r.stderr
    for name in BUILT_IN:
        assert re.search(rf"^applied {name} \(", r.stdout, re.M), r.stdout

    r = cp(["migrate", "status"], database=db)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^0001_init\s+applied\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00$", r.stdout,
                     re.M), r.stdout
    assert "database is up to date" in r.stdout

    rc, items, current = status_json(cp, db)
    assert rc == 0 and current is True
    assert list(items) == BUILT_IN
    assert items["0001_init"]["state"] == "applied"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", items["0001_init"]["finished_at"])

    # The ledger: one finished row per migration, with the file's SHA-256.
    assert ledger(db) == [[n, True, False, ""] for n in BUILT_IN]
    with open(os.path.join(MIGRATIONS, dialect(db), "0001_init.sql"), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    assert db.scalar("SELECT checksum FROM _migrations WHERE name = '0001_init'") == want


def test_second_deploy_applies_nothing(db, cp):
    assert cp(["migrate", "deploy"], database=db).returncode == 0
    before = ledger(db)
    r = cp(["migrate", "deploy"], database=db)
    assert r.returncode == 0, r.stderr
    assert "applied" not in r.stdout
    assert r.stdout.strip() == "database is up to date"
    assert ledger(db) == before
    r = cp(["migrate", "deploy", "--json"], database=db)
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"applied": [], "up_to_date": True}


def test_new_migration_is_pending_then_applied_alone(db, cp, migdir):
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(migdir)}
    assert cp(["migrate", "deploy"], database=db, env=env).returncode == 0
    write(migdir, db, "0900_add_loyalty", "CREATE TABLE loyalty (id INTEGER PRIMARY KEY, "
                                          "points INTEGER NOT NULL DEFAULT 0);\n"
                                          "CREATE INDEX loyalty_points_idx ON loyalty (points);\n")
    rc, items, current = status_json(cp, db, env)
    assert rc == 4 and current is False
    assert items["0900_add_loyalty"] == {"name": "0900_add_loyalty", "state": "pending",
                                         "finished_at": None}
    assert items["0001_init"]["state"] == "applied"

    r = cp(["migrate", "deploy", "--json"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"applied": ["0900_add_loyalty"], "up_to_date": True}
    assert has_table(db, "loyalty")
    assert cp(["migrate", "status"], database=db, env=env).returncode == 0
    # Files that are not NNNN_name.sql are not migrations.
    (migdir / dialect(db) / "README").write_text("notes")
    (migdir / dialect(db) / "0950_backup.sql~").write_text("DROP TABLE tenants;")
    (migdir / dialect(db) / "950_short.sql").write_text("DROP TABLE tenants;")
    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "database is up to date", r.stdout
    assert has_table(db, "tenants")


def test_migrations_apply_in_name_order(db, cp, migdir):
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(migdir)}
    # Written out of order; 0902 needs 0901's table.
    write(migdir, db, "0902_b", "INSERT INTO order_probe (step) VALUES ('b');\n")
    write(migdir, db, "0901_a", "CREATE TABLE order_probe (step TEXT NOT NULL);\n"
                                "INSERT INTO order_probe (step) VALUES ('a');\n")
    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    names = re.findall(r"^applied (\S+)", r.stdout, re.M)
    assert names == BUILT_IN + ["0901_a", "0902_b"]
    assert [r[0] for r in db.query("SELECT step FROM order_probe ORDER BY step")] == ["a", "b"]


def test_edited_applied_migration_is_reported_and_blocks_deploy(db, cp, migdir):
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(migdir)}
    assert cp(["migrate", "deploy"], database=db, env=env).returncode == 0
    path = migdir / dialect(db) / "0001_init.sql"
    path.write_text(path.read_text() + "\n-- an edit after the fact\n")
    write(migdir, db, "0900_later", "CREATE TABLE later (id INTEGER);\n")

    r = cp(["migrate", "status"], database=db, env=env)
    assert r.returncode == 4
    assert re.search(r"^0001_init\s+modified", r.stdout, re.M), r.stdout
    rc, items, current = status_json(cp, db, env)
    assert rc == 4 and not current and items["0001_init"]["state"] == "modified"

    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 4
    assert "'0001_init'" in r.stderr and "modified" in r.stderr, r.stderr
    assert not has_table(db, "later")  # refused before running anything

    # The operator accepts the edit: the new checksum is recorded.
    r = cp(["migrate", "resolve", "--applied", "0001_init"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    assert cp(["migrate", "deploy"], database=db, env=env).returncode == 0
    assert has_table(db, "later")
    assert cp(["migrate", "status"], database=db, env=env).returncode == 0


BAD = ("CREATE TABLE half_done (id INTEGER);\n"
       "INSERT INTO no_such_table (x) VALUES (1);\n")
FIXED = "CREATE TABLE half_done (id INTEGER);\n"


def test_failing_migration_is_rolled_back_recorded_and_blocks(db, cp, migdir):
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(migdir)}
    write(migdir, db, "0900_bad", BAD)
    write(migdir, db, "0901_after", "CREATE TABLE after_bad (id INTEGER);\n")

    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 4, r.stderr
    assert "migration '0900_bad' failed" in r.stderr and "no_such_table" in r.stderr, r.stderr
    assert re.search(r"^applied 0001_init", r.stdout, re.M)  # the ones before it stay
    assert has_table(db, "tenants")
    assert not has_table(db, "half_done")  # its first, valid statement was rolled back
    assert not has_table(db, "after_bad")  # nothing after it ran
    rows = ledger(db)
    assert [r[:3] for r in rows] == [[n, True, False] for n in BUILT_IN] + \
        [["0900_bad", False, False]]
    assert "no_such_table" in rows[-1][3]

    rc, items, current = status_json(cp, db, env)
    assert rc == 4 and not current
    assert items["0900_bad"]["state"] == "failed"
    assert items["0901_after"]["state"] == "pending"

    # Fixing the file is not enough: the failure must be resolved first.
    write(migdir, db, "0900_bad", FIXED)
    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 4
    assert "resolve --rolled-back 0900_bad" in r.stderr, r.stderr
    assert not has_table(db, "half_done")

    r = cp(["migrate", "resolve", "--rolled-back", "0900_bad"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    rc, items, _ = status_json(cp, db, env)
    assert rc == 4 and items["0900_bad"]["state"] == "rolled_back"

    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    assert re.findall(r"^applied (\S+)", r.stdout, re.M) == ["0900_bad", "0901_after"]
    assert has_table(db, "half_done") and has_table(db, "after_bad")
    assert [r[:3] for r in ledger(db) if r[0] == "0900_bad"] == [
        ["0900_bad", False, True], ["0900_bad", True, False]]
    assert cp(["migrate", "status"], database=db, env=env).returncode == 0


def test_failed_migration_resolved_as_applied_is_not_run(db, cp, migdir):
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(migdir)}
    write(migdir, db, "0900_bad", BAD)
    assert cp(["migrate", "deploy"], database=db, env=env).returncode == 4
    r = cp(["migrate", "resolve", "--applied", "0900_bad", "--json"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"name": "0900_bad", "state": "applied"}
    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "database is up to date", r.stdout
    assert not has_table(db, "half_done")
    rc, items, current = status_json(cp, db, env)
    assert rc == 0 and current and items["0900_bad"]["state"] == "applied"


def test_resolve_a_pending_migration_as_applied_is_a_baseline(db, cp, migdir):
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(migdir)}
    assert cp(["migrate", "deploy"], database=db, env=env).returncode == 0
    write(migdir, db, "0900_by_hand", "CREATE TABLE by_hand (id INTEGER);\n")
    r = cp(["migrate", "resolve", "--applied", "0900_by_hand"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    assert "0900_by_hand" in r.stdout
    assert cp(["migrate", "status"], database=db, env=env).returncode == 0
    assert not has_table(db, "by_hand")


def test_resolve_refusals(db, cp):
    assert cp(["migrate", "deploy"], database=db).returncode == 0
    before = ledger(db)
    r = cp(["migrate", "resolve", "--applied", "0999_nope"], database=db)
    assert r.returncode == 2 and "unknown migration '0999_nope'" in r.stderr, r.stderr
    r = cp(["migrate", "resolve", "--rolled-back", "0999_nope"], database=db)
    assert r.returncode == 2, r.stderr
    r = cp(["migrate", "resolve", "--rolled-back", "0001_init"], database=db)
    assert r.returncode == 4 and "not failed" in r.stderr, r.stderr
    r = cp(["migrate", "resolve", "--applied", "0001_init"], database=db)
    assert r.returncode == 4 and "already applied" in r.stderr, r.stderr
    r = cp(["migrate", "resolve"], database=db)
    assert r.returncode == 2
    r = cp(["migrate", "resolve", "--applied", "0001_init", "--rolled-back", "0001_init"],
           database=db)
    assert r.returncode == 2
    assert ledger(db) == before


def test_database_newer_than_the_program(db, cp):
    assert cp(["migrate", "deploy"], database=db).returncode == 0
    db.query("INSERT INTO _migrations (name, checksum, started_at, finished_at) VALUES "
             "('9999_from_the_future', 'abc', '2030-01-01 00:00:00+00', "
             "'2030-01-01 00:00:01+00')")
    rc, items, current = status_json(cp, db)
    assert rc == 4 and not current
    assert items["9999_from_the_future"]["state"] == "unknown"
    r = cp(["migrate", "deploy"], database=db)
    assert r.returncode == 4
    assert "9999_from_the_future" in r.stderr and "newer" in r.stderr, r.stderr


def test_reset_refuses_without_force_then_empties_and_reapplies(db, cp):
    assert cp(["migrate", "deploy"], database=db).returncode == 0
    db.query("INSERT INTO tenants (name, email, timezone) VALUES ('Spa', 's@x.com', 'UTC')")

    r = cp(["migrate", "reset"], database=db)
    assert r.returncode == 2
    assert "deletes ALL DATA" in r.stderr and "--force" in r.stderr, r.stderr
    assert db.count("tenants") == 1

    r = cp(["migrate", "reset", "--force"], database=db)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^applied 0001_init", r.stdout, re.M), r.stdout
    assert db.count("tenants") == 0
    assert ledger(db) == [[n, True, False, ""] for n in BUILT_IN]
    assert cp(["migrate", "status"], database=db).returncode == 0
    # A table outside the model goes too.
    db.query("CREATE TABLE stray (id INTEGER)")
    r = cp(["migrate", "reset", "--force", "--json"], database=db)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"applied": BUILT_IN, "up_to_date": True}
    assert not has_table(db, "stray")


def test_usage_errors_and_help(cp, tmp_path):
    url = f"sqlite:{tmp_path}/x.db"
    env = {"DATABASE_URL": url}
    r = cp(["migrate", "--help"])
    assert r.returncode == 0
    for word in ("deploy", "status", "resolve", "--applied", "--rolled-back", "reset",
                 "--force", "--json", "CITAPLANNER_MIGRATIONS_DIR"):
        assert word in r.stdout, word
    assert cp(["migrate"], env=env).returncode == 2
    assert cp(["migrate", "upgrade"], env=env).returncode == 2
    assert cp(["migrate", "deploy", "extra"], env=env).returncode == 2
    assert cp(["migrate", "deploy", "--force"], env=env).returncode == 2
    assert cp(["migrate", "status", "--applied", "0001_init"], env=env).returncode == 2
    assert not os.path.exists(tmp_path / "x.db")  # usage errors touch nothing


def test_unreachable_database_exits_3_without_showing_the_password(cp):
    r = cp(["migrate", "status"],
           env={"DATABASE_URL": "postgresql://citaplanner:s3cr3t-pw@127.0.0.1:1/citaplanner"})
    assert r.returncode == 3, r.stderr
    assert "s3cr3t-pw" not in r.stderr + r.stdout


def test_bad_migrations_dir_is_an_error(db, cp, tmp_path):
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(tmp_path / "missing")}
    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 2, r.stderr
    assert "CITAPLANNER_MIGRATIONS_DIR" in r.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_database_file_is_private(db, cp):
    assert cp(["migrate", "deploy"], database=db).returncode == 0
    assert stat.S_IMODE(os.stat(db.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(db.path)).st_mode) == 0o700


def test_concurrent_deploys_apply_each_migration_once(db, cp):
    # PostgreSQL: an advisory lock; SQLite: flock on a file beside the database.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
           "DATABASE_URL": db.url, "LOG_LEVEL": "info"}
    procs = [subprocess.Popen([BIN, "migrate", "deploy"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    for rc, out, err in results:
        assert rc == 0, err
    applied = [n for _, out, _ in results for n in re.findall(r"^applied (\S+)", out, re.M)]
    assert sorted(applied) == BUILT_IN  # each applied by exactly one process
    assert ledger(db) == [[n, True, False, ""] for n in BUILT_IN]
    assert cp(["migrate", "status"], database=db).returncode == 0


def test_0008_normalises_clients_phones_where_unambiguous(db, cp, migdir):
    """Issue 16: clients' numbers to E.164 with the tenant's code; a number
    that is none, or that two clients would share, is left as it was."""
    env = {"CITAPLANNER_MIGRATIONS_DIR": str(migdir)}
    later = [p for p in (migdir / dialect(db)).iterdir() if p.name >= "0008"]
    kept = {p: p.read_text() for p in later}
    for p in later:
        p.unlink()
    assert cp(["migrate", "deploy"], database=db, env=env).returncode == 0
    db.query("INSERT INTO tenants (name, email, timezone) VALUES ('Spa', 'spa@example.com', 'UTC')")
    phones = {"55 1111 0001": "+525511110001", "+52 55 1111 0002": "+525511110002",
              "0052 55 1111 0003": "+525511110003", "+52 1 55 1111 0004": "+525511110004",
              "(55) 1111-0007": "+525511110007", "+525511110006": "+525511110006",
              "no tengo": "no tengo", "55-1111-0005": "55-1111-0005", "5511110005": "5511110005"}
    for i, raw in enumerate(phones):
        db.query("INSERT INTO clients (tenant_id, first_name, phone) "
                 f"SELECT id, 'C{i}', '{raw}' FROM tenants WHERE email = 'spa@example.com'")
    for p, text in kept.items():
        p.write_text(text)
    r = cp(["migrate", "deploy"], database=db, env=env)
    assert r.returncode == 0, r.stderr
    got = dict((row[0], row[1]) for row in db.query(
        "SELECT first_name, phone FROM clients ORDER BY id"))
    assert got == {f"C{i}": want for i, want in enumerate(phones.values())}
    assert not has_table(db, "phone_norm_0008")
