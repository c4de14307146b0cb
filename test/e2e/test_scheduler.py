"""Backups taken by `serve` itself (SPEC §6 "Scheduling") and the
pre-migration backup of the boot sequence (SPEC §4 step 4)."""
import glob
import os
import shutil
import subprocess
import time

import pytest

from conftest import ROOT, run
from server import Server


def final_backups(backup_dir, tier="daily"):
    return sorted(p for p in glob.glob(os.path.join(backup_dir, tier, "citaplanner_*.gz")))


def assert_backup_dir_consistent(backup_dir):
    """No temporary file left; every final data file has both sidecars and
    its checksum verifies with sha256sum -c."""
    leftovers = [p for p in glob.glob(os.path.join(backup_dir, "*", ".*")) if ".tmp." in p]
    assert leftovers == [], leftovers
    for data in glob.glob(os.path.join(backup_dir, "*", "citaplanner_*.gz")):
        assert os.path.exists(data + ".json"), data
        d, name = os.path.split(data)
        p = subprocess.run(["sha256sum", "-c", name + ".sha256"], cwd=d, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_catch_up_backup_runs_soon_after_ready(db, tmp_path):
    bdir = str(tmp_path / "backups")
    with Server(db, {"BACKUP_SCHEDULE": "0 2 * * *", "BACKUP_DIR": bdir}) as s:
        s.wait_ready()
        wait_for(lambda: len(final_backups(bdir)) == 1 and
                 os.path.exists(final_backups(bdir)[0] + ".json"), 60, "the catch-up backup")
        assert s.stop() == 0, s.log
    assert "older than a day" in s.log
    assert "backups scheduled at '0 2 * * *'" in s.log
    assert_backup_dir_consistent(bdir)
    # A second start finds a fresh backup: no catch-up.
    with Server(db, {"BACKUP_SCHEDULE": "0 2 * * *", "BACKUP_DIR": bdir}) as s:
        s.wait_ready()
        time.sleep(6)
        assert s.stop() == 0
    assert "older than a day" not in s.log
    assert len(final_backups(bdir)) == 1


def test_schedule_off_takes_no_backup(db, tmp_path):
    bdir = str(tmp_path / "backups")
    with Server(db, {"BACKUP_SCHEDULE": "off", "BACKUP_DIR": bdir}) as s:
        s.wait_ready()
        time.sleep(6)
        assert s.stop() == 0
    assert "scheduled backups are off" in s.log
    assert final_backups(bdir) == []


@pytest.mark.parametrize("backend", ["pg"])
def test_two_instances_take_one_backup(db, tmp_path):
    bdir = str(tmp_path / "backups")
    env = {"BACKUP_SCHEDULE": "0 2 * * *", "BACKUP_DIR": bdir}
    with Server(db, env) as a, Server(db, env) as b:
        a.wait_ready()
        b.wait_ready()
        wait_for(lambda: len(final_backups(bdir)) >= 1, 60, "a backup")
        time.sleep(4)  # the other instance's attempt, had it run, would show by now
        assert a.stop() == 0 and b.stop() == 0
    assert len(final_backups(bdir)) == 1, final_backups(bdir)
    assert_backup_dir_consistent(bdir)


SLOW_AGE = """#!/usr/bin/python3
# A stand-in for age that passes its input through slowly (16 kB every 50 ms):
# the backup it serves is observably running for seconds.
import sys, time
while True:
    b = sys.stdin.buffer.read1(16384)
    if not b:
        break
    sys.stdout.buffer.write(b)
    sys.stdout.buffer.flush()
    time.sleep(0.05)
"""


def add_ballast(db):
    """About 4 MB of random bytes: seconds of backup through SLOW_AGE."""
    if db.kind == "sqlite":
        db.query("CREATE TABLE ballast (b BLOB)")
        db.query("INSERT INTO ballast VALUES (randomblob(4000000))")
    else:
        db.query("CREATE TABLE ballast (b bytea)")
        db.query("INSERT INTO ballast SELECT decode(string_agg(md5(random()::text), ''), 'hex') "
                 "FROM generate_series(1, 250000)")


def test_sigterm_during_a_backup_leaves_no_partial_file(db, tmp_path):
    """SIGTERM while the catch-up backup is writing its data file: the run is
    cancelled, and the partial (temporary) file it was writing is removed.
    The backup is slowed by the CITAPLANNER_AGE hook (encryption through a
    program we name), so that the signal surely lands while it runs."""
    bdir = str(tmp_path / "backups")
    assert run(["migrate", "deploy"], database=db).returncode == 0
    add_ballast(db)
    age = tmp_path / "slow-age"
    age.write_text(SLOW_AGE)
    age.chmod(0o755)
    env = {"BACKUP_SCHEDULE": "0 2 * * *", "BACKUP_DIR": bdir, "CITAPLANNER_AGE": str(age),
           "BACKUP_ENCRYPT_RECIPIENT": "age1" + "q" * 58}
    partial = lambda: [p for p in glob.glob(os.path.join(bdir, "daily", ".citaplanner_*"))
                       if ".tmp." in p and os.path.getsize(p) > 0]
    with Server(db, env) as s:
        s.wait_ready()
        wait_for(lambda: "older than a day" in s.log, 30, "the catch-up announcement")
        wait_for(partial, 30, "the backup's partial data file")
        seen = partial()
        assert final_backups(bdir) == [] and "backup: complete" not in s.log
        s.proc.terminate()
        assert s.wait_exit(30) == 0, s.log
    assert "cancelled" in s.log, s.log
    assert "backup: complete" not in s.log, s.log
    assert not any(os.path.exists(p) for p in seen), seen
    assert [p for p in os.listdir(os.path.join(bdir, "daily")) if p.startswith("citaplanner_")] == []
    assert_backup_dir_consistent(bdir)


def migrations_with_extra(tmp_path, extra_sql):
    mdir = tmp_path / "migrations"
    for dialect in ("pg", "sqlite"):
        shutil.copytree(os.path.join(ROOT, "src", "migrate", "migrations", dialect), mdir / dialect)
        (mdir / dialect / "9000_test_extra.sql").write_text(extra_sql)
    return str(mdir)


def test_pending_migration_on_a_database_with_data_takes_a_premigrate_backup(db, tmp_path):
    bdir = str(tmp_path / "backups")
    assert run(["migrate", "deploy"], database=db).returncode == 0
    assert run(["seed"], database=db).returncode == 0
    mdir = migrations_with_extra(tmp_path, "CREATE TABLE test_extra (id INTEGER PRIMARY KEY);\n")
    with Server(db, {"BACKUP_DIR": bdir, "CITAPLANNER_MIGRATIONS_DIR": mdir}) as s:
        s.wait_ready()
        assert s.stop() == 0
    assert "step 4/8: pre-migration backup: '" in s.log, s.log
    pre = final_backups(bdir, "premigrate")
    assert len(pre) == 1
    assert_backup_dir_consistent(bdir)
    assert db.count("test_extra") == 0  # the migration ran after the backup


def test_failed_premigrate_backup_stops_the_boot_before_migrating(db, tmp_path):
    assert run(["migrate", "deploy"], database=db).returncode == 0
    assert run(["seed"], database=db).returncode == 0
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    mdir = migrations_with_extra(tmp_path, "CREATE TABLE test_extra (id INTEGER PRIMARY KEY);\n")
    with Server(db, {"BACKUP_DIR": str(blocker), "CITAPLANNER_MIGRATIONS_DIR": mdir}) as s:
        rc = s.wait_exit(60)
    assert rc == 5, s.log
    assert "not migrating" in s.log
    tables = [r[0] for r in db.query(
        "SELECT name FROM sqlite_master WHERE type='table'" if db.kind == "sqlite"
        else "SELECT tablename FROM pg_tables WHERE schemaname='public'")]
    assert "test_extra" not in tables


def test_fresh_database_needs_no_premigrate_backup(db, tmp_path):
    bdir = str(tmp_path / "backups")
    with Server(db, {"BACKUP_DIR": bdir}) as s:
        s.wait_ready()
        assert s.stop() == 0
    assert "pre-migration backup: not needed" in s.log
    assert final_backups(bdir, "premigrate") == []
