"""The messaging credentials sealed at rest (issue 17): AES-256-GCM under
SECRETS_KEY_FILE (src/common/seal.c, src/notify/secrets.c), on both
databases.  Never in clear in the database file, a backup, the server's log
or an answer; a key replaced makes them "unreadable" (nothing sent, doctor
names them) until entered again; plaintext left from before is sealed when
the sender starts.
"""
import gzip
import json
import os
import pathlib
import stat
import subprocess
import time

import pytest

from conftest import BIN, Database, pg_admin_url, pg_url_for, psql
from notify_fakes import TW_SID, TW_TOKEN, WA_PHONE_ID, WA_TOKEN, ApiFake, SmtpFake, wait_for
from server import Server
from test_appointments import BookingServer, future_monday
from test_notify import FROM, book, client, rows, wa_post, wa_text

APP_SECRET = "meta-app-secret-" + "z" * 16
SECRETS = (WA_TOKEN, APP_SECRET, TW_TOKEN)
COLS = ("whatsapp_token", "whatsapp_app_secret", "twilio_auth_token")


class World:
    def __init__(self, db, tmp, smtp, api):
        self.db, self.tmp, self.smtp, self.api = db, tmp, smtp, api
        self.key = tmp / "keys" / "secrets.key"
        self.env = {"SMTP_URL": smtp.url(), "SMTP_FROM": FROM, "WHATSAPP_API_URL": api.url,
                    "TWILIO_API_URL": api.url, "SECRETS_KEY_FILE": str(self.key),
                    "LOG_LEVEL": "debug"}
        self.srv = None

    def start(self):
        self.srv = BookingServer(self.db, Server(self.db, env=self.env).wait_ready())
        return self.srv

    def stop(self):
        if self.srv is not None:
            assert self.srv.server.stop() == 0, self.srv.server.log
            self.srv = None

    def run(self, *args, env=None):
        e = {"PATH": os.environ["PATH"], "TZ": "UTC", "DATABASE_URL": self.db.url,
             "BACKUP_DIR": str(self.tmp / "backups"), **self.env, **(env or {})}
        return subprocess.run([BIN, *args], env=e, capture_output=True, text=True, timeout=120)

    def doctor(self):
        r = self.run("doctor", "--json")
        return r, {c["name"]: c for c in json.loads(r.stdout)["checks"]}

    def stored(self):
        return self.srv.sql(f"SELECT {', '.join(COLS)} FROM notification_settings "
                            "WHERE tenant_id = 1")[0]


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def w(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sec")
    name = None
    if request.param == "sqlite":
        path = tmp / "data" / "citaplanner.db"
        db = Database("sqlite", f"sqlite:{path}", str(path))
    else:
        name = "t_" + os.urandom(8).hex()
        psql(pg_admin_url(), f'CREATE DATABASE "{name}"')
        db = Database("pg", pg_url_for(name, pg_admin_url()))
    with SmtpFake() as smtp, ApiFake() as api:
        world = World(db, tmp, smtp, api)
        try:
            world.start()
            yield world
        finally:
            if world.srv is not None:
                world.srv.server.stop()
            if name is not None:
                psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                     check=False)


def save(w, **fields):
    st, b = w.srv.call("admin", "PUT", "/api/v1/notifications/settings", fields)
    assert st == 200, b
    return b


def test_sealed_in_the_database_its_file_a_backup_and_never_logged(w):
    assert not w.key.exists()
    b = save(w, whatsapp_enabled=True, sms_enabled=True, whatsapp_phone_number_id=WA_PHONE_ID,
             whatsapp_token=WA_TOKEN, whatsapp_app_secret=APP_SECRET, twilio_account_sid=TW_SID,
             twilio_auth_token=TW_TOKEN, twilio_from="+15005550006")
    assert [b[c] for c in COLS] == ["set"] * 3
    # the key: made on the first save, 32 bytes, 0600
    st = w.key.stat()
    assert st.st_size == 32 and stat.S_IMODE(st.st_mode) == 0o600
    # the columns hold v1:<nonce>:<ciphertext>, each different, none the secret
    stored = w.stored()
    assert all(v.startswith("v1:") and v.count(":") == 2 for v in stored), stored
    assert len(set(stored)) == 3 and not any(s in v for s in SECRETS for v in stored)
    # sending still works with them (the fakes check the token)
    client(w.srv, 1, "whatsapp")
    a = book(w.srv, future_monday(2), 10, 1)
    assert wait_for(lambda: [r for r in rows(w.srv, a["id"]) if r["status"] == "sent"], 3), \
        rows(w.srv, a["id"])
    assert w.api.of("whatsapp")[-1]["headers"]["Authorization"] == f"Bearer {WA_TOKEN}"
    # the webhook opens the app secret
    st, _ = wa_post(w.srv, wa_text("525511110001", "hola"), secret=APP_SECRET)
    assert st == 200
    # the database file itself (SQLite, with its WAL) holds none in clear
    if w.db.kind == "sqlite":
        raw = b"".join(pathlib.Path(w.db.path + sfx).read_bytes()
                       for sfx in ("", "-wal") if os.path.exists(w.db.path + sfx))
        assert b"v1:" in raw and not any(s.encode() in raw for s in SECRETS)
    # a backup (pg_dump's text, SQLite's copy) holds the ciphertext only, and no key
    r = w.run("backup")
    assert r.returncode == 0, r.stderr
    dumps = [p for p in (w.tmp / "backups").rglob("*.gz")]
    assert dumps, list((w.tmp / "backups").rglob("*"))
    raw = gzip.decompress(dumps[0].read_bytes())
    assert b"v1:" in raw and not any(s.encode() in raw for s in SECRETS)
    key = w.key.read_bytes()
    assert not any(key in p.read_bytes() for p in (w.tmp / "backups").rglob("*") if p.is_file())
    manifest = json.loads(pathlib.Path(str(dumps[0]) + ".json").read_text())
    assert "secrets_key" not in manifest  # not encrypted: the key stays out
    # never in a log line, an answer or the doctor's report
    st, g = w.srv.call("admin", "GET", "/api/v1/notifications/settings")
    r, checks = w.doctor()
    assert checks["notify_secrets"]["status"] == "OK", checks["notify_secrets"]
    assert checks["notify_whatsapp"]["status"] == "OK", checks["notify_whatsapp"]
    text = w.srv.server.log + json.dumps(g) + json.dumps(b) + r.stdout + r.stderr
    assert not any(s in text for s in SECRETS)
    # SECRETS_KEY_FILE unset: beside the SQLite file, else data/secrets.key (in the cwd)
    r = w.run("doctor", "--json", env={"SECRETS_KEY_FILE": ""})
    d = {c["name"]: c for c in json.loads(r.stdout)["checks"]}["notify_secrets"]["detail"]
    default = (os.path.dirname(w.db.path) + "/secrets.key" if w.db.kind == "sqlite"
               else "data/secrets.key")
    assert f"'{default}'" in d, d


def test_a_replaced_key_makes_them_unreadable_until_entered_again(w):
    good = w.key.read_bytes()
    # a sealed value moved to another column does not open there
    w.srv.sql("UPDATE notification_settings SET whatsapp_app_secret = whatsapp_token")
    st, g = w.srv.call("admin", "GET", "/api/v1/notifications/settings")
    assert g["whatsapp_app_secret"] == "unreadable" and g["whatsapp_token"] == "set"
    save(w, whatsapp_app_secret=APP_SECRET)
    # another key (a backup restored elsewhere, a lost file)
    w.key.write_bytes(os.urandom(32))
    try:
        st, g = w.srv.call("admin", "GET", "/api/v1/notifications/settings")
        assert [g[c] for c in COLS] == ["unreadable"] * 3, g
        r, checks = w.doctor()
        d = checks["notify_secrets"]
        assert d["status"] == "FAIL" and d["fix"], d
        assert all(f"tenant 1: {c}" in d["detail"] for c in COLS), d
        assert checks["notify_whatsapp"]["status"] == "FAIL"
        # nothing sent: the message fails with a reason that says what to do
        n = len(w.api.of("whatsapp"))
        a = book(w.srv, future_monday(3), 11, 1)
        failed = wait_for(lambda: [r for r in rows(w.srv, a["id"]) if r["status"] == "failed"], 3)
        assert failed and "enter it again" in failed[0]["error"], rows(w.srv, a["id"])
        assert len(w.api.of("whatsapp")) == n
        # a reply signed with the real secret is refused: the secret is not known
        st, _ = wa_post(w.srv, wa_text("525511110001", "hola"), secret=APP_SECRET)
        assert st == 403
        # entered again: sealed under the new key, sent again
        b = save(w, whatsapp_token=WA_TOKEN)
        assert b["whatsapp_token"] == "set" and b["twilio_auth_token"] == "unreadable"
        a = book(w.srv, future_monday(3), 14, 1)
        assert wait_for(lambda: [r for r in rows(w.srv, a["id"]) if r["status"] == "sent"], 3)
    finally:
        w.key.write_bytes(good)
    st, g = w.srv.call("admin", "GET", "/api/v1/notifications/settings")
    assert g["twilio_auth_token"] == "set" and g["whatsapp_token"] == "unreadable"
    save(w, whatsapp_token=WA_TOKEN)


def test_a_bad_key_file_is_named_and_nothing_is_lost(w):
    good = w.key.read_bytes()
    w.key.write_bytes(b"short")
    try:
        st, b = w.srv.call("admin", "PUT", "/api/v1/notifications/settings",
                           {"twilio_auth_token": "new-token-123"})
        assert st == 500 and b["error"]["code"] == "secrets_key_unavailable", b
        # the log is read by a thread: wait for the line rather than race it
        assert wait_for(lambda: str(w.key) in w.srv.server.log
                        and "32 bytes" in w.srv.server.log, 5), w.srv.server.log
        r, checks = w.doctor()
        assert checks["notify_secrets"]["status"] == "FAIL"
        assert str(w.key) in checks["notify_secrets"]["detail"]
    finally:
        w.key.write_bytes(good)
    st, g = w.srv.call("admin", "GET", "/api/v1/notifications/settings")
    assert [g[c] for c in COLS] == ["set"] * 3, g  # the old values kept


def test_plaintext_left_from_before_is_sealed_when_the_sender_starts(w):
    w.srv.sql(f"UPDATE notification_settings SET twilio_auth_token = '{TW_TOKEN}'")
    st, g = w.srv.call("admin", "GET", "/api/v1/notifications/settings")
    assert g["twilio_auth_token"] == "set"  # read as it is meanwhile
    w.stop()
    w.start()
    assert wait_for(lambda: w.stored()[2].startswith("v1:"), 5), w.stored()
    assert "plaintext credential(s) sealed" in w.srv.server.log
    assert TW_TOKEN not in w.srv.server.log
    st, g = w.srv.call("admin", "GET", "/api/v1/notifications/settings")
    assert [g[c] for c in COLS] == ["set"] * 3, g


def test_an_encrypted_backup_carries_the_key_and_a_restore_elsewhere_puts_it_back(w):
    ident = w.tmp / "age-identity.txt"
    if not ident.exists():
        subprocess.run(["age-keygen", "-o", str(ident)], check=True, capture_output=True)
    recipient = [ln.split(": ")[1] for ln in ident.read_text().splitlines()
                 if ln.startswith("# public key: ")][0]
    bdir = w.tmp / "enc-backups"
    enc = {"BACKUP_DIR": str(bdir), "BACKUP_ENCRYPT_RECIPIENT": recipient,
           "BACKUP_DECRYPT_IDENTITY": str(ident)}
    r = w.run("backup", env=enc)
    assert r.returncode == 0, r.stderr
    data = next(p for p in bdir.rglob("*.gz.age"))
    manifest = json.loads(pathlib.Path(str(data) + ".json").read_text())
    assert manifest["secrets_key"] and w.key.read_bytes() not in manifest["secrets_key"].encode()
    # a new machine: another database, no key file yet
    name = None
    if w.db.kind == "sqlite":
        path = w.tmp / "elsewhere" / "data" / "citaplanner.db"
        path.parent.parent.mkdir()
        other = Database("sqlite", f"sqlite:{path}", str(path))
    else:
        name = "t_" + os.urandom(8).hex()
        psql(pg_admin_url(), f'CREATE DATABASE "{name}"')
        other = Database("pg", pg_url_for(name, pg_admin_url()))
    new_key = w.tmp / "elsewhere" / "keys" / "secrets.key"
    there = {**enc, "DATABASE_URL": other.url, "SECRETS_KEY_FILE": str(new_key)}
    try:
        r = w.run("backup", "restore", str(data), "--yes", "--no-safety-backup", env=there)
        assert r.returncode == 0, r.stderr
        assert new_key.read_bytes() == w.key.read_bytes()
        assert stat.S_IMODE(new_key.stat().st_mode) == 0o600
        r = w.run("doctor", "--json", env=there)
        checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
        assert checks["notify_secrets"]["status"] == "OK", checks["notify_secrets"]
        # a different key there: refused before anything changes, unless --force
        other_key = os.urandom(32)
        new_key.write_bytes(other_key)
        r = w.run("backup", "restore", str(data), "--yes", "--no-safety-backup", env=there)
        assert r.returncode == 7 and str(new_key) in r.stderr and "--force" in r.stderr, r.stderr
        assert new_key.read_bytes() == other_key
        r = w.run("backup", "restore", str(data), "--yes", "--no-safety-backup", "--force",
                  env=there)
        assert r.returncode == 0, r.stderr
        assert new_key.read_bytes() == w.key.read_bytes()
        assert pathlib.Path(str(new_key) + ".replaced").read_bytes() == other_key
        assert not any(s in r.stdout + r.stderr for s in SECRETS)
    finally:
        if name is not None:
            psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)
