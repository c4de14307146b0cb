"""Issue 15, items 1 and 2: the original CitaPlanner's backups (its exact
pipeline: absolute-path sidecar, no manifest) list, verify, deep-verify,
restore and can be adopted; damaged ones are still caught; rotation keeps
the newest good one of a tier; a mirror does not alert for them; doctor
counts them.  Restore decides the schema from the dump: the original's
Prisma schema and unknown schemas are refused before anything changes."""
import gzip
import hashlib
import json
import os
import shutil

import pytest

from conftest import run
from original_fixture import (PgDatabase, original_backup, original_database, pg_dump_text,
                              run_sql_file)
from test_verify import benv, db_dump, prepare

STAMP = "20250101_020000"


@pytest.fixture
def ours_pg():
    """A PostgreSQL database of ours, with the demo data."""
    d = PgDatabase()
    prepare(d)
    yield d
    d.drop()


def alert_env(tmp_path):
    flag = tmp_path / "alerted"
    return flag, {"BACKUP_ALERT_COMMAND": f"echo \"$CITAPLANNER_ALERT_MESSAGE\" >> {flag}"}


def test_original_backup_lists_verifies_deep_verifies_and_restores(ours_pg, db, tmp_path):
    bdir = tmp_path / "bk"
    path = original_backup(ours_pg.url, bdir / "daily" / f"citaplanner_daily_{STAMP}.sql.gz")
    assert open(path + ".sha256").read().split()[1] == path  # absolute, as sha256sum wrote it
    flag, aenv = alert_env(tmp_path)

    p = run(["backup", "list", "--json"], database=db, env=benv(bdir))
    assert p.returncode == 0, p.stderr
    [item] = json.loads(p.stdout)["backups"]
    assert item["origin"] == "other tool" and item["has_manifest"] is False
    p = run(["backup", "list"], database=db, env=benv(bdir))
    assert "other tool" in p.stdout

    p = run(["backup", "verify"], database=db, env=benv(bdir, **aenv))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "verified, no manifest (made by another tool)" in p.stdout
    assert "1 OK, 0 FAILED" in p.stdout and not flag.exists()

    # Moved elsewhere, its sidecar still names the old absolute path: a warning.
    moved = tmp_path / "elsewhere" / os.path.basename(path)
    moved.parent.mkdir()
    shutil.copy(path, moved)
    shutil.copy(path + ".sha256", str(moved) + ".sha256")
    p = run(["backup", "verify", str(moved)], database=db, env=benv(bdir))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "another directory" in p.stderr
    # A relative path and the bare name are accepted too.
    digest = open(path + ".sha256").read().split()[0]
    for named in (f"./{moved.name}", moved.name):
        with open(str(moved) + ".sha256", "w") as f:
            f.write(f"{digest}  {named}\n")
        p = run(["backup", "verify", str(moved)], database=db, env=benv(bdir))
        assert p.returncode == 0, p.stdout + p.stderr

    if db.kind == "pg":
        p = run(["backup", "verify", "--deep", path], database=db, env=benv(bdir))
        assert p.returncode == 0, p.stdout + p.stderr
        # Restore into another database of ours: the backup's rows come back.
        prepare(db)
        db.query("DELETE FROM payments; DELETE FROM appointments")
        p = run(["backup", "restore", path, "--yes", "--json"], database=db, env=benv(bdir))
        assert p.returncode == 0, p.stdout + p.stderr
        assert db.count("appointments") == int(ours_pg_count(ours_pg, "appointments")) > 0


def test_damaged_original_backups_are_still_caught(ours_pg, tmp_path):
    bdir = tmp_path / "bk"
    good = original_backup(ours_pg.url, bdir / "daily" / f"citaplanner_daily_{STAMP}.sql.gz")
    data = open(good, "rb").read()
    raw = gzip.decompress(data)
    flag, aenv = alert_env(tmp_path)

    def write(name, content, sidecar_of=None):
        p = str(bdir / "daily" / name)
        with open(p, "wb") as f:
            f.write(content)
        with open(p + ".sha256", "w") as f:
            f.write(f"{hashlib.sha256(sidecar_of or content).hexdigest()}  {p}\n")
        return p

    cases = {
        write("citaplanner_daily_20250102_020000.sql.gz", data[: len(data) // 2]): "truncated",
        write("citaplanner_daily_20250103_020000.sql.gz",
              gzip.compress(raw[: len(raw) * 2 // 3])): "closing line",
        write("citaplanner_daily_20250104_020000.sql.gz", data,
              sidecar_of=b"another file"): "SHA-256 mismatch",
    }
    for path, why in cases.items():
        p = run(["backup", "verify", path], env=benv(bdir, **aenv))
        assert p.returncode == 6, p.stdout + p.stderr
        assert "FAILED" in p.stdout and why in p.stdout, p.stdout
    assert flag.exists()  # damage still alerts


def test_adopt_makes_them_ours(ours_pg, tmp_path):
    bdir = tmp_path / "bk"
    a = original_backup(ours_pg.url, bdir / "daily" / f"citaplanner_daily_{STAMP}.sql.gz")
    b = original_backup(ours_pg.url, bdir / "weekly" / "citaplanner_weekly_20250105_020000.sql.gz")
    p = run(["backup", "adopt", "--deep", b], database=ours_pg, env=benv(bdir))
    assert p.returncode == 0, p.stdout + p.stderr
    p = run(["backup", "adopt", "--json"], database=ours_pg, env=benv(bdir))
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert [r["file"] for r in out["results"]] == [a]  # b already has a manifest
    ma, mb = json.load(open(a + ".json")), json.load(open(b + ".json"))
    assert ma["origin"] == mb["origin"] == "adopted"
    assert ma["tables"] is None
    assert mb["tables"]["appointments"] == int(ours_pg_count(ours_pg, "appointments"))
    assert ma["schema_version"] == mb["schema_version"] and ma["schema_version"]
    assert open(a + ".sha256").read() == f"{ma['sha256']}  {os.path.basename(a)}\n"
    p = run(["backup", "list", "--json"], database=ours_pg, env=benv(bdir))
    assert {i["origin"] for i in json.loads(p.stdout)["backups"]} == {"adopted"}
    p = run(["backup", "verify", "--deep"], database=ours_pg, env=benv(bdir))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no manifest" not in p.stdout


def ours_pg_count(d, table):
    from conftest import psql
    return psql(d.url, f"SELECT count(*) FROM {table}")[0][0]


def test_rotation_keeps_the_newest_good_one_of_a_tier(ours_pg, tmp_path):
    bdir = tmp_path / "bk"
    old = original_backup(ours_pg.url, bdir / "daily" / "citaplanner_daily_20250101_020000.sql.gz")
    data = open(old, "rb").read()
    newer = str(bdir / "daily" / "citaplanner_daily_20250102_020000.sql.gz")
    with open(newer, "wb") as f:
        f.write(data[: len(data) // 2])  # damaged, and newest
    env = benv(bdir, BACKUP_KEEP_DAILY="1")
    p = run(["backup", "prune"], env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert os.path.exists(old) and os.path.exists(newer)
    assert "newest good backup" in p.stderr
    # Once a newer good one exists, the old one goes by the usual count.
    original_backup(ours_pg.url, bdir / "daily" / "citaplanner_daily_20250103_020000.sql.gz")
    p = run(["backup", "prune"], env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not os.path.exists(old) and not os.path.exists(newer)


def test_mirror_does_not_alert_and_doctor_counts_them(ours_pg, tmp_path):
    bdir = tmp_path / "bk"
    original_backup(ours_pg.url, bdir / "daily" / f"citaplanner_daily_{STAMP}.sql.gz")
    flag, aenv = alert_env(tmp_path)
    env = benv(bdir, BACKUP_MIRROR_DIR=str(tmp_path / "mirror"), **aenv)
    p = run(["doctor", "--json"], database=ours_pg,
            env=dict(env, CITAPLANNER_FAKE_NOW="2025-01-01T08:00:00"))
    checks = {c["name"]: c for c in json.loads(p.stdout)["checks"]}
    assert checks["backup_age"]["status"] == "OK", checks["backup_age"]
    assert f"citaplanner_daily_{STAMP}" in checks["backup_age"]["detail"]
    p = run(["backup", "--tier", "daily"], database=ours_pg, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not flag.exists(), flag.read_text()


# ---------------------------------------------------------------- item 2

@pytest.mark.parametrize("how", ["premigrate", "pipeline"])
def test_restore_refuses_the_originals_schema_and_changes_nothing(ours_pg, tmp_path, how):
    orig = original_database()
    try:
        bdir = tmp_path / "bk"
        if how == "premigrate":
            # What `serve` on the original's database took before this issue: ours, schema null.
            p = run(["backup", "--tier", "premigrate", "--json"], database=orig, env=benv(bdir))
            assert p.returncode == 0, p.stderr
            path = json.loads(p.stdout)["files"]["premigrate"]
            assert json.load(open(path + ".json"))["schema_version"] is None
        else:
            path = original_backup(orig.url, bdir / "daily" / f"citaplanner_daily_{STAMP}.sql.gz")
        before = pg_dump_text(ours_pg.url)
        p = run(["backup", "restore", path, "--yes"], database=ours_pg, env=benv(bdir))
        assert p.returncode == 7, p.stdout + p.stderr
        assert "original CitaPlanner" in p.stderr and f"citaplanner import --from-backup {path}" \
            in p.stderr
        assert pg_dump_text(ours_pg.url) == before
        assert not os.path.isdir(bdir / "prerestore") or not os.listdir(bdir / "prerestore")
    finally:
        orig.drop()


def test_restore_refuses_an_unknown_schema(ours_pg, tmp_path):
    other = PgDatabase()
    try:
        from conftest import psql
        psql(other.url, "CREATE TABLE inventory (sku text primary key, qty int); "
                        "INSERT INTO inventory VALUES ('a', 1)")
        path = original_backup(other.url, tmp_path / "bk" / "daily" /
                               f"citaplanner_daily_{STAMP}.sql.gz")
        before = pg_dump_text(ours_pg.url)
        p = run(["backup", "restore", path, "--yes"], database=ours_pg, env=benv(tmp_path / "bk"))
        assert p.returncode == 7, p.stdout + p.stderr
        assert "not a CitaPlanner schema" in p.stderr
        assert pg_dump_text(ours_pg.url) == before
    finally:
        other.drop()


def test_restore_reads_a_newer_schema_from_the_dump_when_there_is_no_manifest(ours_pg, tmp_path):
    """Ours, but from a newer program, made by another tool (no manifest to say so)."""
    from test_restore import migrations_dir
    mdir = migrations_dir(tmp_path, {"9000_client_vip.sql": (
        "ALTER TABLE clients ADD COLUMN vip boolean NOT NULL DEFAULT false;\n",
        "ALTER TABLE clients ADD COLUMN vip INTEGER NOT NULL DEFAULT 0;\n")})
    newer = PgDatabase()
    try:
        for args in (["migrate", "deploy"], ["seed"]):
            assert run(args, database=newer, env={"CITAPLANNER_MIGRATIONS_DIR": mdir}).returncode == 0
        path = original_backup(newer.url, tmp_path / "bk" / "daily" /
                               f"citaplanner_daily_{STAMP}.sql.gz")
        before = pg_dump_text(ours_pg.url)
        p = run(["backup", "restore", path, "--yes"], database=ours_pg, env=benv(tmp_path / "bk"))
        assert p.returncode == 7, p.stdout + p.stderr
        assert "9000_client_vip" in p.stderr and "newer" in p.stderr
        assert pg_dump_text(ours_pg.url) == before
    finally:
        newer.drop()
