"""Nothing left behind by a killed run (issue 22, item 6), on SQLite and
PostgreSQL: `backup`, `backup restore` and `backup verify --deep` are killed
(kill -9) at random moments, and then

- no passfile exists anywhere (the private runtime directory, the backup
  directory, the test's whole tree) once the next command has started;
- no child of the killed command is still alive 1 s later (pg_dump, psql:
  they die with their parent, so a killed restore never commits);
- no scratch database and no unpacked copy of the killed run remains once
  the next command has started;
- the database holds either all of the old data or all of the restored data.

Trials are bounded (TRIALS per command and database) so that the file runs
in about a minute.
"""
import glob
import os
import random
import signal
import subprocess
import time

from conftest import BIN, pg_admin_url, psql, run
from test_restore import env_of, modify, wait_for_child
from test_verify import benv, db_dump, prepare, take

TRIALS = 4  # per command and database: 3 commands x 2 databases x 4 = 24 kills


def descendants(pid):
    """Every process below pid (through all its threads), now."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in glob.glob(f"/proc/{p}/task/*/children"):
            try:
                kids = [int(k) for k in open(task).read().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def alive(pid):
    """Running (a zombie waiting to be reaped by init is dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def leftovers(root):
    """Passfiles and unpacked copies under root."""
    found = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            if "pgpass" in n or ".verify.tmp." in n:
                found.append(os.path.join(d, n))
    return found


def scratch_databases():
    return {r[0] for r in psql(pg_admin_url(), "SELECT datname FROM pg_database WHERE datname "
                                               "LIKE 'citaplanner_verify_%'")}


def recorded_scratch(rundir):
    """The scratch databases our runs recorded (other tests' runs share the server)."""
    names = set()
    for f in rundir.glob("record.*"):
        lines = f.read_text().splitlines()
        if len(lines) >= 2 and lines[0] == "database":
            names.add(lines[1])
    return names


def wait_sessions_gone(db, timeout=10):
    """PostgreSQL: our database's client sessions of pg_dump and psql ended."""
    name = db.url.rsplit("/", 1)[1]
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = psql(pg_admin_url(), "SELECT count(*) FROM pg_stat_activity WHERE application_name "
                                 f"IN ('psql', 'pg_dump') AND datname = '{name}'")[0][0]
        if n == "0":
            return True
        time.sleep(0.05)
    return False


def kill_at_random(db, args, env, span, trial, rnd, child):
    """Start the command, kill -9 it at a random moment (the first trial
    once its child runs, on PostgreSQL), and check its children died."""
    p = subprocess.Popen([BIN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env)
    if trial == 0 and child is not None:
        assert wait_for_child(p.pid, child, 60), f"{child} never started"
        time.sleep(0.05)
    else:
        time.sleep(span * (trial + rnd.random()) / TRIALS)
    kids = descendants(p.pid)
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    time.sleep(1)
    orphans = [k for k in kids if alive(k)]
    assert orphans == [], f"{args[:2]} trial {trial}: children outlived the command: {orphans}"


def timed(db, args, env):
    t0 = time.monotonic()
    p = subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return time.monotonic() - t0


def test_killed_backup_restore_and_deep_verify_leave_nothing_behind(db, tmp_path):
    prepare(db, bulk=40000)
    bdir = tmp_path / "bk"
    rundir = tmp_path / "run"
    env = env_of(db, benv(bdir, RUNTIME_DIRECTORY=str(rundir)))
    old = take(db, bdir, now="2025-01-09T02:00:00", env={"RUNTIME_DIRECTORY": str(rundir)})
    old_dump = db_dump(db)
    modify(db)
    db.query("DELETE FROM bulk WHERE id % 3 = 0")
    new = take(db, bdir, now="2025-01-09T03:00:00", env={"RUNTIME_DIRECTORY": str(rundir)})
    new_dump = db_dump(db)
    pg = db.kind == "pg"
    rnd = random.Random(22)

    def next_command_sweeps(what, trial, scratch_left):
        # The next command starts (a quick verify): what the killed run left goes.
        p = run(["backup", "verify", new], database=db,
                env=benv(bdir, RUNTIME_DIRECTORY=str(rundir)))
        assert p.returncode == 0, p.stdout + p.stderr
        left = leftovers(tmp_path)
        assert left == [], f"{what} trial {trial}: left {left}"
        if pg:
            assert not (scratch_left & scratch_databases()), \
                f"{what} trial {trial}: scratch databases left"

    # backup
    span = timed(db, ["backup", "--tier", "daily"], env)
    for trial in range(TRIALS):
        kill_at_random(db, ["backup", "--tier", "daily"], env, span, trial, rnd,
                       "pg_dump" if pg else None)
        if pg:
            assert wait_sessions_gone(db)
        next_command_sweeps("backup", trial, set())
    # Its half-written files in BACKUP_DIR go with the next backup (under the lock).
    assert run(["backup", "--tier", "daily"], database=db,
               env=benv(bdir, RUNTIME_DIRECTORY=str(rundir))).returncode == 0
    assert not [n for n in os.listdir(bdir / "daily") if ".tmp." in n]

    # restore: the old data or the restored data, never a mix, never a late commit
    span = timed(db, ["backup", "restore", old, "--yes", "--no-safety-backup"], env)
    assert db_dump(db) == old_dump
    assert run(["backup", "restore", new, "--yes", "--no-safety-backup"], database=db,
               env=benv(bdir, RUNTIME_DIRECTORY=str(rundir))).returncode == 0
    outcomes = []
    for trial in range(TRIALS):
        kill_at_random(db, ["backup", "restore", old, "--yes", "--no-safety-backup"], env, span,
                       trial, rnd, "psql" if pg else None)
        if pg:
            assert wait_sessions_gone(db)
        now = db_dump(db)
        assert now in (old_dump, new_dump), f"restore trial {trial}: a mixed state"
        outcomes.append("old" if now == old_dump else "new")
        next_command_sweeps("restore", trial, set())
        if now == old_dump:
            assert run(["backup", "restore", new, "--yes", "--no-safety-backup"], database=db,
                       env=benv(bdir, RUNTIME_DIRECTORY=str(rundir))).returncode == 0
    assert "new" in outcomes, outcomes  # at least one kill landed before the commit

    # verify --deep: its scratch database (PostgreSQL) or its unpacked copy (SQLite)
    span = timed(db, ["backup", "verify", "--deep", new], env)
    for trial in range(TRIALS):
        kill_at_random(db, ["backup", "verify", "--deep", new], env, span, trial, rnd,
                       "psql" if pg else None)
        scratch_left = (recorded_scratch(rundir) & scratch_databases()) if pg else set()
        if pg and trial == 0:
            assert scratch_left, "the first kill was meant to leave a scratch database"
        next_command_sweeps("verify --deep", trial, scratch_left)
    assert db_dump(db) == new_dump
