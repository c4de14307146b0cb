"""Issue 15, item 3: serve, migrate deploy and doctor recognise the original
CitaPlanner's database (Prisma's _prisma_migrations, camelCase columns):
exit 4 at once, nothing changed, no backup taken, and the message names
`citaplanner import --from ...` into an empty database."""
import json
import os
import sqlite3
import time

import pytest

from conftest import run
from original_fixture import original_database, pg_dump_text
from server import free_port


@pytest.fixture
def original():
    d = original_database()
    yield d
    d.drop()


def check_refused(p, started):
    assert p.returncode == 4, p.stdout + p.stderr
    assert "original CitaPlanner" in p.stderr, p.stderr
    assert "citaplanner import --from" in p.stderr, p.stderr
    assert time.monotonic() - started < 20  # at once, not after retries


@pytest.mark.parametrize("args", [["serve"], ["migrate", "deploy"]])
def test_boot_on_the_originals_database_exits_4_and_changes_nothing(original, tmp_path, args):
    bdir = tmp_path / "bk"
    before = pg_dump_text(original.url)
    t0 = time.monotonic()
    p = run(args, database=original, timeout=60,
            env={"BACKUP_DIR": str(bdir), "LISTEN": f"127.0.0.1:{free_port()}"})
    check_refused(p, t0)
    assert "relation" not in p.stderr  # not a failed migration
    assert pg_dump_text(original.url) == before
    backups = [f for _, _, fs in os.walk(bdir) for f in fs if ".gz" in f] if bdir.exists() else []
    assert backups == []


def test_doctor_says_the_same(original, tmp_path):
    p = run(["doctor", "--json"], database=original, env={"BACKUP_DIR": str(tmp_path / "bk")})
    checks = {c["name"]: c for c in json.loads(p.stdout)["checks"]}
    m = checks["migrations"]
    assert m["status"] == "FAIL" and "original CitaPlanner" in m["detail"], m
    assert "citaplanner import --from" in m["fix"]


def test_a_sqlite_file_with_prismas_ledger_is_recognised_too(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE "_prisma_migrations" (id TEXT PRIMARY KEY, migration_name TEXT)')
    con.execute('CREATE TABLE "tenants" (id TEXT PRIMARY KEY, "createdAt" TEXT)')
    con.commit()
    con.close()
    def dump():
        c = sqlite3.connect(path)
        try:
            return "\n".join(c.iterdump())
        finally:
            c.close()
    before = dump()
    t0 = time.monotonic()
    p = run(["migrate", "deploy"], env={"DATABASE_URL": f"sqlite:{path}"})
    check_refused(p, t0)
    assert dump() == before  # (opening it may switch the journal to WAL; the content stays)
