"""`citaplanner stats [--json]` (issue 8): database size, tables with rows
and sizes, connections (PostgreSQL) or files (SQLite), and the backup volume,
on both databases.  The object's shape is documented in src/ops/stats.h."""
import json
import os

from conftest import run

THURSDAY = "2025-01-09T02:00:00"


def prepare(db, bdir):
    for args in (["migrate", "deploy"], ["seed"]):
        p = run(args, database=db)
        assert p.returncode == 0, p.stderr


def backup(db, bdir, now):
    p = run(["backup", "--json"], database=db,
            env={"BACKUP_DIR": str(bdir), "CITAPLANNER_FAKE_NOW": now})
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def stats(db, bdir, now=None, json_out=True):
    env = {"BACKUP_DIR": str(bdir)}
    if now:
        env["CITAPLANNER_FAKE_NOW"] = now
    p = run(["stats"] + (["--json"] if json_out else []), database=db, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout) if json_out else p.stdout


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_backup_ref(ref):
    assert set(ref) >= {"file", "path", "tier", "time", "age_seconds", "size_bytes",
                        "duration_seconds", "good"}
    assert os.path.isfile(ref["path"]) and ref["path"].endswith(ref["file"])
    assert is_int(ref["size_bytes"]) and ref["size_bytes"] == os.path.getsize(ref["path"])
    assert is_int(ref["age_seconds"]) and ref["age_seconds"] >= 0
    assert ref["time"].endswith("Z")


def test_stats_json_schema_rows_sizes_and_backups(db, tmp_path):
    bdir = tmp_path / "backups"
    prepare(db, bdir)

    # Before any backup: the directory does not exist, nothing is good, stale.
    s = stats(db, bdir)
    assert s["format"] == 1
    assert s["backups"]["exists"] is False and s["backups"]["count"] == 0
    assert s["backups"]["newest_good"] is None and s["backups"]["stale"] is True

    backup(db, bdir, THURSDAY)
    s = stats(db, bdir, now="2025-01-09T05:00:00")
    d = s["database"]
    assert d["kind"] == ("postgresql" if db.kind == "pg" else "sqlite")
    assert "***" in d["url"] or db.kind == "sqlite"
    assert is_int(d["size_bytes"]) and d["size_bytes"] > 0
    names = [t["name"] for t in d["tables"]]
    assert names == sorted(names)
    for want in ("users", "appointments", "clients", "payments", "services"):
        assert want in names
    for t in d["tables"]:
        assert is_int(t["rows"]) and t["rows_estimated"] is False
        # Exact row counts: compare with the database itself.
        assert t["rows"] == db.count(f'"{t["name"]}"'), t
        assert t["size_bytes"] is None or (is_int(t["size_bytes"]) and t["size_bytes"] > 0)
    if db.kind == "pg":
        assert d["table_sizes_from"] == "catalog" and d["files"] is None
        assert isinstance(d["connections"], list) and len(d["connections"]) >= 1
        for c in d["connections"]:
            assert is_int(c["pid"]) and is_int(c["age_seconds"]) and isinstance(c["state"], str)
        # The stats command's own connection is one of them, active.
        assert any(c["state"] == "active" for c in d["connections"])
        assert all(t["size_bytes"] > 0 for t in d["tables"])
    else:
        assert d["connections"] is None
        f = d["files"]
        assert f["path"] == db.path and f["database_bytes"] == os.path.getsize(db.path)
        assert is_int(f["wal_bytes"]) and is_int(f["shm_bytes"])
        assert d["table_sizes_from"] in ("dbstat", "page_count")

    b = s["backups"]
    assert b["exists"] is True and b["dir"] == str(bdir)
    # A Thursday: the daily tier only (weekly on Sunday, monthly on the 1st).
    assert b["count"] == 1
    daily = b["tiers"]["daily"]
    assert daily["count"] == 1 and daily["size_bytes"] == b["size_bytes"] > 0
    check_backup_ref(daily["newest"])
    check_backup_ref(daily["newest_good"])
    assert daily["newest"]["good"] is True
    assert daily["newest"]["file"].startswith("citaplanner_daily_20250109_020000")
    # Taken at 02:00 by the injected clock, looked at 05:00: three hours (the run's
    # own seconds at most on top).
    assert 3 * 3600 - 5 <= daily["newest"]["age_seconds"] <= 3 * 3600
    assert daily["last_run"]["ok"] is True and daily["last_run"]["error"] is None
    for t in ("weekly", "monthly", "premigrate", "prerestore"):
        assert b["tiers"][t] == {"count": 0, "size_bytes": 0, "newest": None,
                                 "newest_good": None, "last_run": None}
    v = b["volume"]
    assert is_int(v["total_bytes"]) and is_int(v["free_bytes"])
    assert v["used_bytes"] == v["total_bytes"] - v["free_bytes"]
    assert b["newest_good"]["file"] == daily["newest"]["file"]
    assert b["stale"] is False and b["max_age_hours"] == 26

    # Thirty hours later the same backup is stale.
    assert stats(db, bdir, now="2025-01-10T08:00:00")["backups"]["stale"] is True


def test_stats_text_is_a_readable_table(db, tmp_path):
    bdir = tmp_path / "backups"
    prepare(db, bdir)
    backup(db, bdir, THURSDAY)
    out = stats(db, bdir, now="2025-01-09T03:00:00", json_out=False)
    assert "TABLE" in out and "ROWS" in out
    lines = {l.split()[0]: l.split() for l in out.splitlines() if l.strip()}
    assert lines["users"][1] == str(db.count("users"))
    assert lines["daily"][1] == "1"
    assert "citaplanner_daily_20250109_020000" in out
    assert ("PID" in out) == (db.kind == "pg")
    # The password never shows.
    if db.kind == "pg":
        assert "***" in out
        from conftest import pg_parts
        assert pg_parts(db.url)[1] not in out
