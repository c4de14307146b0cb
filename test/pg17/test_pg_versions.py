"""PostgreSQL 15 and 17 side by side (`make test-pg17`: a throwaway 15
outside, a throwaway 17 inside, scripts/pg-throwaway.sh): a backup of a 17
server restored into 15 (pg_dump 17 writes settings 15 does not know; they
are skipped with a notice), anything else 15 does not know still failing the
restore with nothing changed, and a backup of a 17 server with only the 15
tools refused, naming the version needed.  Without both servers these tests
fail: they are never skipped.
"""
import gzip
import json
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "e2e"))
from conftest import Database, pg_url_for, psql, run  # noqa: E402
from test_verify import benv, db_dump, prepare, take, write_backup  # noqa: E402


def admin(major):
    url = os.environ.get(f"CITAPLANNER_TEST_PG{major}_URL")
    if not url:
        pytest.fail(f"CITAPLANNER_TEST_PG{major}_URL is not set: run 'make test-pg17' "
                    "(a PostgreSQL 15 and a 17, scripts/pg-throwaway.sh)")
    return url


def fresh(major):
    a = admin(major)
    name = f"v{major}_" + uuid.uuid4().hex[:12]
    psql(a, f'CREATE DATABASE "{name}"')
    return Database("pg", pg_url_for(name, a)), a, name


@pytest.fixture
def pg17():
    db, a, name = fresh(17)
    yield db
    psql(a, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


@pytest.fixture
def pg15():
    db, a, name = fresh(15)
    yield db
    psql(a, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


def server_major(db):
    return int(db.scalar("SHOW server_version_num")) // 10000


def test_a_17_dump_restores_into_15(pg17, pg15, tmp_path):
    assert (server_major(pg17), server_major(pg15)) == (17, 15)
    prepare(pg17)
    bdir = tmp_path / "bk"
    good = take(pg17, bdir, now="2025-01-09T02:00:00")
    raw = gzip.decompress(open(good, "rb").read()).decode()
    assert "SET transaction_timeout = 0;" in raw  # what 15 rejects
    counts = {t: pg17.count(t) for t in ("users", "appointments", "clients", "payments")}

    p = run(["backup", "restore", good, "--yes", "--json"], database=pg15,
            env=benv(bdir, CITAPLANNER_FAKE_NOW="2025-01-10T12:00:00"))
    assert p.returncode == 0, p.stderr
    assert "the dump sets 'transaction_timeout'" in p.stderr and "skipped" in p.stderr
    assert json.loads(p.stdout)["ok"]
    assert {t: pg15.count(t) for t in counts} == counts
    # psql 15 would do for a 15 server, but the newest client is chosen.
    assert "psql: using '" in p.stderr

    # Deep verification of the same backup on the 15 server passes too.
    p = run(["backup", "verify", "--deep", good], database=pg15, env=benv(bdir), timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


def test_an_unknown_statement_still_fails_the_restore_and_changes_nothing(pg17, pg15, tmp_path):
    prepare(pg17)
    prepare(pg15)
    pg15.query("UPDATE clients SET notes = 'before the restore'")
    before = db_dump(pg15)
    bdir = tmp_path / "bk"
    good = take(pg17, bdir, now="2025-01-09T02:00:00")
    raw = gzip.decompress(open(good, "rb").read()).decode()
    # A 17-only statement in the body (not a head setting): a 15 server rejects it.
    marker = "\nCREATE TABLE "
    assert marker in raw
    bad_raw = raw.replace(marker, "\nSET transaction_timeout = 0;\nSELECT pg_catalog.pg_nonexistent_17();\n"
                          + marker.lstrip("\n"), 1)
    data = gzip.compress(bad_raw.encode())
    manifest = json.load(open(good + ".json"))
    bad = str(bdir / "daily" / os.path.basename(good).replace("_020000", "_030000"))
    assert bad != good
    os.remove(good)
    for ext in (".json", ".sha256"):
        os.remove(good + ext)
    write_backup(bad, data, manifest, raw_len=len(bad_raw.encode()))

    p = run(["backup", "restore", bad, "--yes"], database=pg15,
            env=benv(bdir, CITAPLANNER_FAKE_NOW="2025-01-10T12:00:00"))
    assert p.returncode != 0, p.stdout + p.stderr
    assert "transaction_timeout" in p.stderr or "pg_nonexistent_17" in p.stderr, p.stderr
    assert db_dump(pg15) == before


def test_a_17_server_with_only_the_15_tools_is_refused_naming_17(pg17, tmp_path):
    prepare(pg17)
    tools17 = os.environ.get("CITAPLANNER_TEST_PG_BINDIR", "")
    path = ":".join(d for d in os.environ.get("PATH", "").split(":") if d and d != tools17)
    p = run(["backup"], database=pg17,
            env=benv(tmp_path / "bk", PATH=path, PG_DUMP="/usr/lib/postgresql/15/bin/pg_dump"))
    assert p.returncode != 0, p.stdout + p.stderr
    assert "no pg_dump of version 17 or newer" in p.stderr, p.stderr
    assert "install postgresql-client-17" in p.stderr, p.stderr
    assert "/usr/lib/postgresql/15/bin/pg_dump' (15)" in p.stderr, p.stderr
    assert not [f for _, _, fs in os.walk(tmp_path / "bk") for f in fs if f.endswith(".sql.gz")]
