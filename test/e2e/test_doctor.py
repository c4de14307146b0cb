"""`citaplanner doctor [--json]` (issue 8): the guide's troubleshooting list,
each FAIL / WARN provoked for real: a stopped PostgreSQL, a name that does
not resolve, a wrong password, a pending migration, a backup directory that
cannot be written, a stale backup (clock injection), a corrupted newest
backup, the published demo passwords, a weak SESSION_SECRET."""
import json
import os
import shutil
import socket
import subprocess

import pytest

from conftest import ROOT, pg_admin_url, pg_parts, run

THURSDAY = "2025-01-09T02:00:00"
NAMES = ["config", "database", "migrations", "backup_dir", "backup_space", "data_space",
         "backup_age", "backup_daily", "backup_weekly", "backup_monthly", "backup_checksum",
         "pg_tools", "demo_passwords", "session_secret",
         # notifications (issue 17): per-tenant WhatsApp / SMS lines only where configured
         "notify_smtp", "notify_outbox"]


def prepare(db):
    for args in (["migrate", "deploy"], ["seed"]):
        p = run(args, database=db)
        assert p.returncode == 0, p.stderr


def backup(db, bdir, now=THURSDAY):
    p = run(["backup", "--json"], database=db,
            env={"BACKUP_DIR": str(bdir), "CITAPLANNER_FAKE_NOW": now})
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def doctor(db=None, env=None, now=None, url=None):
    e = dict(env or {})
    if now:
        e["CITAPLANNER_FAKE_NOW"] = now
    if url:
        e["DATABASE_URL"] = url
    p = run(["doctor", "--json"], database=db, env=e)
    assert p.returncode in (0, 1), p.stderr
    out = json.loads(p.stdout)
    checks = {c["name"]: c for c in out["checks"]}
    # The schema: every line has a status, a detail, and a fix unless OK.
    for c in out["checks"]:
        assert c["status"] in ("OK", "WARN", "FAIL")
        assert isinstance(c["detail"], str) and c["detail"]
        assert (c["fix"] is None) == (c["status"] == "OK"), c
    s = out["summary"]
    assert s["ok"] + s["warn"] + s["fail"] == len(out["checks"])
    assert s["fail"] == sum(c["status"] == "FAIL" for c in out["checks"])
    assert out["ok"] == (s["fail"] == 0) == (p.returncode == 0)
    return p.returncode, checks, p


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_healthy_install_has_no_fail_and_warns_about_demo_passwords(db, tmp_path):
    bdir = tmp_path / "backups"
    prepare(db)
    backup(db, bdir)
    rc, c, p = doctor(db, {"BACKUP_DIR": str(bdir)}, now="2025-01-09T04:00:00")
    assert rc == 0, p.stdout
    # PostgreSQL's archive (issue 20): one line, OK while ARCHIVE is off
    assert list(c) == (NAMES[:12] + ["archive"] + NAMES[12:] if db.kind == "pg" else NAMES)
    if db.kind == "pg":
        assert c["archive"]["status"] == "OK" and "ARCHIVE=off" in c["archive"]["detail"]
    for name in ("config", "database", "migrations", "backup_dir", "backup_age",
                 "backup_daily", "backup_checksum", "pg_tools", "session_secret"):
        assert c[name]["status"] == "OK", c[name]
    if db.kind == "pg":
        assert "***" in c["config"]["detail"]
        assert pg_parts(db.url)[1] not in p.stdout + p.stderr
        assert "pg_dump" in c["pg_tools"]["detail"]
    assert "2.0 h old" in c["backup_age"]["detail"]
    # The seed's five accounts still hold their published passwords.
    assert c["demo_passwords"]["status"] == "WARN"
    assert "5 demo accounts" in c["demo_passwords"]["detail"]
    assert "admin@citaplanner.com" in c["demo_passwords"]["detail"]

    # One account changes its password (here: the manager's hash, another password).
    db.query("UPDATE users SET password_hash = (SELECT password_hash FROM users "
             "WHERE email = 'manager@citaplanner.com') WHERE email = 'admin@citaplanner.com'")
    _, c, _ = doctor(db, {"BACKUP_DIR": str(bdir)}, now="2025-01-09T04:00:00")
    assert "4 demo accounts" in c["demo_passwords"]["detail"]
    assert "admin@citaplanner.com" not in c["demo_passwords"]["detail"]

    # The text form: one line per check, a fix under each non-OK line.
    p = run(["doctor"], database=db,
            env={"BACKUP_DIR": str(bdir), "CITAPLANNER_FAKE_NOW": "2025-01-09T04:00:00"})
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert any(l.startswith("WARN  demo_passwords") for l in lines)
    assert any(l.startswith("OK    backup_age") for l in lines)
    assert "->" in p.stdout and "FAIL" not in p.stdout.replace("0 FAIL", "")


def test_database_unreachable_is_told_apart(tmp_path):
    env = {"BACKUP_DIR": str(tmp_path / "b")}
    user, password, host, port, _ = pg_parts(pg_admin_url())
    q = lambda s: __import__("urllib.parse").parse.quote(s, safe="")

    # Stopped server: nothing listens on the port.
    rc, c, _ = doctor(env=env, url=f"postgresql://u:pw-Xq93z@127.0.0.1:{closed_port()}/x")
    assert rc == 1 and c["database"]["status"] == "FAIL"
    assert "nothing accepts connections" in c["database"]["detail"]
    assert "start PostgreSQL" in c["database"]["fix"]
    assert c["migrations"]["status"] == "WARN" and "not checked" in c["migrations"]["detail"]
    assert "pw-Xq93z" not in json.dumps(c)

    # A name that does not resolve (.invalid never does: RFC 6761).
    rc, c, _ = doctor(env=env, url="postgresql://u:secret@db.invalid:5432/x")
    assert rc == 1 and "does not resolve" in c["database"]["detail"]

    # The real server, the wrong password.
    rc, c, _ = doctor(env=env, url=f"postgresql://{q(user)}:wrong-{q(password)}@{host}:{port}/postgres")
    assert rc == 1 and c["database"]["detail"].startswith("authentication failed")
    assert password not in json.dumps(c)


def test_pending_migration_fails(db, tmp_path):
    prepare(db)
    mdir = tmp_path / "migrations"
    for dialect in ("pg", "sqlite"):
        shutil.copytree(os.path.join(ROOT, "src", "migrate", "migrations", dialect),
                        mdir / dialect)
        (mdir / dialect / "9000_doctor_extra.sql").write_text(
            "CREATE TABLE doctor_extra (id integer PRIMARY KEY);\n")
    rc, c, _ = doctor(db, {"BACKUP_DIR": str(tmp_path / "b"),
                           "CITAPLANNER_MIGRATIONS_DIR": str(mdir)})
    assert rc == 1
    m = c["migrations"]
    assert m["status"] == "FAIL" and "1 pending" in m["detail"]
    assert "9000_doctor_extra" in m["detail"] and "migrate deploy" in m["fix"]


def test_backup_dir_unwritable_not_a_directory_tmpfs_and_open(tmp_path):
    url = f"sqlite:{tmp_path}/db.sqlite"

    # A file where the directory should be (root ignores permission bits).
    f = tmp_path / "notadir"
    f.write_text("x")
    rc, c, _ = doctor(env={"BACKUP_DIR": str(f)}, url=url)
    assert rc == 1 and c["backup_dir"]["status"] == "FAIL"
    assert "is not a directory" in c["backup_dir"]["detail"]

    # Missing but creatable: a warning, the first backup creates it.
    rc, c, _ = doctor(env={"BACKUP_DIR": str(tmp_path / "new" / "b")}, url=url)
    assert c["backup_dir"]["status"] == "WARN" and "does not exist yet" in c["backup_dir"]["detail"]

    # Readable by others: a warning with the chmod to run.
    d = tmp_path / "open"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    _, c, _ = doctor(env={"BACKUP_DIR": str(d)}, url=url)
    assert c["backup_dir"]["status"] == "WARN" and "0755" in c["backup_dir"]["detail"]
    assert "chmod 700" in c["backup_dir"]["fix"]

    # A tmpfs: backups would vanish at reboot.
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        d = f"/dev/shm/citaplanner-doctor-{os.getpid()}-{tmp_path.name}"
        os.makedirs(d, mode=0o700)
        try:
            _, c, _ = doctor(env={"BACKUP_DIR": d}, url=url)
            assert c["backup_dir"]["status"] == "WARN" and "tmpfs" in c["backup_dir"]["detail"]
        finally:
            shutil.rmtree(d)

    # A read-only mount: a real write fails even as root.  Mounting needs
    # privileges: tried when the test runs as root.
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o700)
    if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs",
                                             str(ro)], capture_output=True).returncode == 0:
        try:
            rc, c, _ = doctor(env={"BACKUP_DIR": str(ro)}, url=url)
            assert rc == 1 and c["backup_dir"]["status"] == "FAIL"
            assert "cannot write" in c["backup_dir"]["detail"]
            assert "Read-only file system" in c["backup_dir"]["detail"]
        finally:
            subprocess.run(["umount", str(ro)])


def test_stale_backup_by_clock_and_corrupted_newest(db, tmp_path):
    bdir = tmp_path / "backups"
    prepare(db)
    env = {"BACKUP_DIR": str(bdir)}

    rc, c, _ = doctor(db, env, now=THURSDAY)
    assert rc == 1 and c["backup_age"]["status"] == "FAIL"
    assert "no good backup" in c["backup_age"]["detail"]
    assert c["backup_checksum"]["status"] == "WARN"

    path = backup(db, bdir)["files"]["daily"]
    rc, c, _ = doctor(db, env, now="2025-01-10T03:00:00")      # 25 h later
    assert c["backup_age"]["status"] == "OK"
    rc, c, _ = doctor(db, env, now="2025-01-10T05:00:00")      # 27 h > 26 h
    assert rc == 1 and c["backup_age"]["status"] == "FAIL"
    assert "BACKUP_MAX_AGE_HOURS=26" in c["backup_age"]["detail"]
    rc, c, _ = doctor(db, dict(env, BACKUP_MAX_AGE_HOURS="48"), now="2025-01-10T05:00:00")
    assert c["backup_age"]["status"] == "OK"

    # One flipped byte in the middle of the newest backup.
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    rc, c, _ = doctor(db, env, now="2025-01-09T03:00:00")
    assert rc == 1 and c["backup_checksum"]["status"] == "FAIL"
    assert "does not match its .sha256" in c["backup_checksum"]["detail"]
    assert "backup verify" in c["backup_checksum"]["fix"]


def test_session_secret_in_production(tmp_path):
    url = f"sqlite:{tmp_path}/db.sqlite"
    env = {"BACKUP_DIR": str(tmp_path / "b"), "CITAPLANNER_ENV": "production"}
    weak = "a" * 40
    rc, c, p = doctor(env=dict(env, SESSION_SECRET=weak), url=url)
    assert c["session_secret"]["status"] == "FAIL" and "weak" in c["session_secret"]["detail"]
    assert weak not in p.stdout + p.stderr
    _, c, _ = doctor(env=dict(env, SESSION_SECRET="9f8e7d6c5b4a39281706f5e4d3c2b1a0fedcba98"),
                     url=url)
    assert c["session_secret"]["status"] == "OK"
    assert "40 characters" in c["session_secret"]["detail"]
