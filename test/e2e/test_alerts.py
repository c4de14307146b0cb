"""Backup alerts (issue 8): BACKUP_ALERT_WEBHOOK, a JSON POST received here
by a listener on loopback; BACKUP_ALERT_COMMAND, run with the facts in its
environment; an undeliverable alert never changes a backup's outcome; the
staleness alert sent by `doctor`, once for the same stale backup."""
import http.server
import json
import os
import socket
import threading

import pytest

from conftest import run

THURSDAY = "2025-01-09T02:00:00"


class Listener:
    """An HTTP server on 127.0.0.1 that records the POSTs it receives; the
    first `fail_first` answers are 500 (to see the retry)."""

    def __init__(self, fail_first=0):
        self.bodies = []
        self.fail_first = fail_first
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                outer.bodies.append((self.path, self.headers.get("Content-Type"), raw))
                status = 500 if len(outer.bodies) <= outer.fail_first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook/token-abc123"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def json_bodies(self):
        return [json.loads(raw) for _, _, raw in self.bodies]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def listener():
    ls = Listener()
    yield ls
    ls.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def failing_backup(tmp_path, env):
    """A backup of a PostgreSQL server that is not running: it fails."""
    url = f"postgresql://alerter:pw-Zk41@127.0.0.1:{closed_port()}/citaplanner"
    e = {"DATABASE_URL": url, "BACKUP_DIR": str(tmp_path / "backups")}
    e.update(env)
    return run(["backup"], env=e), url


def test_failed_backup_posts_the_webhook_with_the_facts(tmp_path):
    ls = Listener(fail_first=1)  # the first answer is 500: the one retry delivers it
    try:
        p, url = failing_backup(tmp_path, {"BACKUP_ALERT_WEBHOOK": ls.url})
    finally:
        ls.close()
    assert p.returncode in (3, 5), p.stderr
    assert len(ls.bodies) == 2, p.stderr  # the failed attempt and the retry
    path, ctype, raw = ls.bodies[-1]
    assert path == "/hook/token-abc123" and ctype == "application/json"
    body = json.loads(raw)
    assert body["event"] == "backup_failed" and body["severity"] == "critical"
    assert body["message"] and "pw-Zk41" not in raw.decode()
    assert body["database"] == url.replace("pw-Zk41", "***")
    assert body["host"] == socket.gethostname()
    assert body["finished_at"].endswith("Z") and body["sent_at"].endswith("Z")
    assert body["program"] == "citaplanner" and "backup_file" in body
    assert "retrying once" in p.stderr and "notified" in p.stderr
    # The webhook's path (its token) never reaches the log.
    assert "token-abc123" not in p.stderr


def test_alert_command_gets_the_facts_in_its_environment_only(tmp_path):
    out = tmp_path / "alert-env.txt"
    cmd = f"env > '{out}'"
    p, url = failing_backup(tmp_path, {"BACKUP_ALERT_COMMAND": cmd, "SESSION_SECRET": "s" * 40})
    assert p.returncode in (3, 5)
    env = dict(l.split("=", 1) for l in out.read_text().splitlines() if "=" in l)
    assert env["CITAPLANNER_ALERT_EVENT"] == "backup_failed"
    assert env["CITAPLANNER_ALERT_SEVERITY"] == "critical"
    assert env["CITAPLANNER_ALERT_DATABASE"] == url.replace("pw-Zk41", "***")
    assert env["CITAPLANNER_ALERT_MESSAGE"]
    assert env["CITAPLANNER_ALERT_FINISHED_AT"].endswith("Z")
    # Nothing of ours leaks into the command: no DATABASE_URL, no secret.
    text = out.read_text()
    assert "DATABASE_URL" not in text and "pw-Zk41" not in text and "s" * 40 not in text
    assert "BACKUP_ALERT_COMMAND run" in p.stderr


def test_undeliverable_alerts_never_change_the_outcome(tmp_path):
    dead = f"http://127.0.0.1:{closed_port()}/hook"
    env = {"BACKUP_ALERT_WEBHOOK": dead, "BACKUP_ALERT_COMMAND": "exit 3"}

    # A failing backup fails the same way with or without a dead alert channel.
    plain, _ = failing_backup(tmp_path, {})
    p, _ = failing_backup(tmp_path, env)
    assert p.returncode == plain.returncode != 0
    assert "alert not delivered" in p.stderr
    assert "BACKUP_ALERT_COMMAND exited with status 3" in p.stderr

    # A good backup with the same dead channels succeeds.
    db = f"sqlite:{tmp_path}/db.sqlite"
    assert run(["migrate", "deploy"], env={"DATABASE_URL": db}).returncode == 0
    p = run(["backup"], env=dict(env, DATABASE_URL=db, BACKUP_DIR=str(tmp_path / "ok")))
    assert p.returncode == 0, p.stderr


def test_doctor_sends_the_stale_alert_once(tmp_path, listener):
    db = f"sqlite:{tmp_path}/db.sqlite"
    bdir = str(tmp_path / "backups")
    env = {"DATABASE_URL": db, "BACKUP_DIR": bdir, "BACKUP_ALERT_WEBHOOK": listener.url}
    assert run(["migrate", "deploy"], env=env).returncode == 0
    assert run(["backup"], env=dict(env, CITAPLANNER_FAKE_NOW=THURSDAY)).returncode == 0
    assert listener.bodies == []  # a good backup sends nothing

    fresh = run(["doctor"], env=dict(env, CITAPLANNER_FAKE_NOW="2025-01-09T10:00:00"))
    assert listener.bodies == [], fresh.stdout
    for _ in range(2):
        p = run(["doctor"], env=dict(env, CITAPLANNER_FAKE_NOW="2025-01-10T12:00:00"))
        assert p.returncode == 1
    bodies = listener.json_bodies()
    assert len(bodies) == 1
    assert bodies[0]["event"] == "backup_stale"
    assert "citaplanner_daily_20250109_020000" in bodies[0]["message"]
    assert bodies[0]["backup_file"].endswith("citaplanner_daily_20250109_020000.sqlite.gz")
    # A day later it is repeated.
    run(["doctor"], env=dict(env, CITAPLANNER_FAKE_NOW="2025-01-11T13:00:00"))
    assert len(listener.bodies) == 2


def test_verify_finding_a_damaged_backup_alerts_and_records_the_result(db, tmp_path, listener):
    """`backup verify` from the command line: the damaged file is reported,
    the webhook hears about it, and .last_verify.json (read by /metrics,
    stats and doctor) counts it."""
    bdir = tmp_path / "backups"
    env = {"BACKUP_DIR": str(bdir), "BACKUP_ALERT_WEBHOOK": listener.url}
    assert run(["migrate", "deploy"], database=db).returncode == 0
    p = run(["backup"], database=db, env=env)
    assert p.returncode == 0, p.stderr
    data = next(bdir.glob("daily/citaplanner_daily_*.gz"))
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    data.write_bytes(bytes(raw))
    p = run(["backup", "verify"], database=db, env=env)
    assert p.returncode == 6, p.stdout + p.stderr
    events = [b["event"] for b in listener.json_bodies()]
    assert "verify_failed" in events, events
    state = json.loads((bdir / ".last_verify.json").read_text())
    assert json.dumps(state).count(data.name) >= 1, state
