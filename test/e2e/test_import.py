"""Issue 15, item 4: `citaplanner import` copies the original CitaPlanner's
data (the fixture in test/e2e/original/, as Prisma creates it) into an empty
database of ours, on SQLite and PostgreSQL, from the live database and from
one of its backups; a second run changes nothing; a failure midway leaves
the target as it was; the source is never touched."""
import json

import pytest

from conftest import pg_admin_url, run
from original_fixture import original_backup, original_database, pg_dump_text
from test_verify import db_dump

ADMIN_HASH = "$2b$04$BUENTcYBCScfRN/p/NxI/utC5aQ8r7dJZnXd7Nrf9Lffgzr58pdgW"
PRO_HASH = "$2a$04$BUENTcYBCScfRN/p/NxI/utC5aQ8r7dJZnXd7Nrf9Lffgzr58pdgW"
MASTER_HASH = "$2b$04$HVlQeX2tgxhwtYE.WV/RhO6r7WmYoXW.C8/.ihAcskWoenye8Q/We"


@pytest.fixture
def original():
    d = original_database()
    yield d
    d.drop()


def imp(db, *args, env=None):
    p = run(["import", "--json", *args], database=db, env=env, timeout=300)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = None
    return p, out


def tables_of(out):
    return {t["source"]: t for t in out["tables"]}


def check_imported(db, out):
    t = tables_of(out)
    assert t["tenants"]["imported"] == 1
    assert t["users"]["imported"] == 4 and t["users"]["refused"] == 1  # CLIENT
    reasons = {n["id"]: n for n in t["users"]["notes"]}
    assert reasons["clt0user00000000000client"]["outcome"] == "refused"
    assert "CLIENT" in reasons["clt0user00000000000client"]["reason"]
    assert reasons["clt0user0000000000super"]["outcome"] == "changed"
    assert t["services"]["imported"] == 2 and t["services"]["changed"] == 1
    assert "199.995" in t["services"]["notes"][0]["reason"]
    assert t["service_users"]["imported"] == 2 and t["service_users"]["changed"] == 1
    assert t["appointments"]["imported"] == 3 and t["appointments"]["changed"] == 1
    assert t["appointments"]["notes"][0]["id"] == "clt0appt0000000000000002"
    assert t["payments"]["imported"] == 1 and t["master_admin_config"]["imported"] == 1
    assert "subdomain" in t["tenants"]["unplaced_columns"]
    assert "externalEventUid" in t["appointments"]["unplaced_columns"]

    assert db.count("tenants") == 1 and db.count("branches") == 1
    assert db.scalar("SELECT email FROM tenants") == "hola@spabella.mx"
    roles = dict(db.query("SELECT email, role FROM users"))
    assert roles == {"admin@spabella.mx": "ADMIN", "root@spabella.mx": "ADMIN",
                     "lupita@spabella.mx": "PROFESSIONAL", "recepcion@spabella.mx": "RECEPTIONIST"}
    hashes = dict(db.query("SELECT email, password_hash FROM users"))
    assert hashes["admin@spabella.mx"] == ADMIN_HASH and hashes["lupita@spabella.mx"] == PRO_HASH
    prices = dict(db.query("SELECT name, price_cents FROM services"))
    assert {k: int(v) for k, v in prices.items()} == {"Facial": 35000, "Masaje": 20000}
    assert int(db.scalar("SELECT duration_min FROM services WHERE name = 'Masaje'")) == 90
    assert sorted(int(r[0]) for r in db.query("SELECT commission_pct FROM service_professionals")) \
        == [36, 40]
    assert db.count("clients") == 2 and db.count("working_hours") == 2
    st = sorted((r[0], int(r[1])) for r in db.query("SELECT status, price_cents FROM appointments"))
    assert st == [("CANCELLED", 20000), ("COMPLETED", 35000), ("CONFIRMED", 35000)]
    assert int(db.scalar("SELECT amount_cents FROM payments")) == 35000
    assert db.scalar("SELECT password_hash FROM master_admin_config") == MASTER_HASH
    assert db.count("import_map") == 1 + 1 + 4 + 2 + 2 + 2 + 2 + 3 + 1 + 1


def test_import_from_the_live_database_then_again_changes_nothing(db, original):
    before_src = pg_dump_text(original.url)
    p, out = imp(db, "--from", original.url)
    assert p.returncode == 0, p.stdout + p.stderr
    check_imported(db, out)
    assert pg_dump_text(original.url) == before_src  # the source is never touched

    after = db_dump(db)
    p, out = imp(db, "--from", original.url)
    assert p.returncode == 0, p.stdout + p.stderr
    assert all(t["imported"] == 0 for t in out["tables"]), out
    assert tables_of(out)["appointments"]["already"] == 3
    assert db_dump(db) == after

    # The text report, too.
    p = run(["import", "--from", original.url], database=db)
    assert p.returncode == 0 and "REFUSED users 'clt0user00000000000client'" in p.stdout


def test_import_from_a_backup_of_it(db, original, tmp_path):
    path = original_backup(original.url, tmp_path / "citaplanner_daily_20250101_020000.sql.gz")
    args = ["--from-backup", path]
    if db.kind == "sqlite":
        args += ["--scratch-server", pg_admin_url()]
    p, out = imp(db, *args)
    assert p.returncode == 0, p.stdout + p.stderr
    check_imported(db, out)
    after = db_dump(db)
    p, out = imp(db, *args)
    assert p.returncode == 0, p.stdout + p.stderr
    assert db_dump(db) == after


def data_of(db):
    """The dump without sequence positions: PostgreSQL's identity sequences advance
    even in a transaction that is rolled back; every row is as it was."""
    return "\n".join(l for l in db_dump(db).splitlines() if "pg_catalog.setval" not in l)


def test_a_failure_midway_leaves_the_target_as_it_was_and_a_rerun_resumes(db, original):
    p = run(["migrate", "deploy"], database=db)
    assert p.returncode == 0, p.stderr
    before = data_of(db)
    p, out = imp(db, "--from", original.url, env={"CITAPLANNER_IMPORT_FAIL_AT": "appointments"})
    assert p.returncode != 0, p.stdout + p.stderr
    assert "rolled back" in p.stderr
    assert data_of(db) == before
    p, out = imp(db, "--from", original.url)
    assert p.returncode == 0, p.stdout + p.stderr
    check_imported(db, out)


def test_a_target_holding_other_data_is_refused(db, original):
    for args in (["migrate", "deploy"], ["seed"]):
        assert run(args, database=db).returncode == 0
    before = db_dump(db)
    p, out = imp(db, "--from", original.url)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "empty database" in p.stderr
    assert db_dump(db) == before
