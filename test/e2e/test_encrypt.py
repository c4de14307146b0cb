"""Encrypted backups (issue 10): BACKUP_ENCRYPT_RECIPIENT pipes the gzip
stream through the real `age`; the standard tool decrypts the file by hand;
quick verification needs no key; deep verification and restore decrypt with
BACKUP_DECRYPT_IDENTITY; a wrong identity fails clearly; and no plaintext
file appears in BACKUP_DIR or the temporary directory meanwhile.

Every test runs once per database (`db` fixture).
"""
import gzip
import hashlib
import json
import os
import subprocess
import threading

import pytest

from conftest import run

FRIDAY = "2025-01-10T02:00:00"


def keypair(path):
    """A real age identity file; returns its public key."""
    p = subprocess.run(["age-keygen", "-o", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return next(l.split(": ")[1].strip() for l in open(path) if l.startswith("# public key: "))


def prepare(db):
    for args in (["migrate", "deploy"], ["seed"]):
        p = run(args, database=db)
        assert p.returncode == 0, p.stderr


PLAIN_MAGIC = (b"\x1f\x8b", b"SQLite format 3", b"--", b"PGDMP")


class PlaintextWatch:
    """Polls directories while an operation runs and records any file whose
    first bytes are plaintext (gzip, SQLite, a SQL dump)."""

    def __init__(self, *dirs):
        self.dirs = [str(d) for d in dirs]
        self.seen = set()
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)

    def scan(self):
        for d in self.dirs:
            for root, _, files in os.walk(d):
                for f in files:
                    p = os.path.join(root, f)
                    if f.endswith((".json", ".sha256", ".log")) or f in (".lock",):
                        continue
                    try:
                        with open(p, "rb") as fh:
                            head = fh.read(16)
                    except OSError:
                        continue
                    if any(head.startswith(m) for m in PLAIN_MAGIC):
                        self.seen.add(p)

    def loop(self):
        while not self.stop.is_set():
            self.scan()

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.t.join()
        self.scan()


def test_encrypted_backup_decrypts_by_hand_verifies_and_restores(db, tmp_path):
    prepare(db)
    key = tmp_path / "key.txt"
    recipient = keypair(key)
    bdir, tmpd = tmp_path / "backups", tmp_path / "tmp"
    tmpd.mkdir()
    env = {"BACKUP_DIR": str(bdir), "TMPDIR": str(tmpd), "CITAPLANNER_FAKE_NOW": FRIDAY,
           "BACKUP_ENCRYPT_RECIPIENT": recipient}
    clients = db.count("clients")
    assert clients > 0

    # The watch does see plaintext: an unencrypted backup trips it.
    with PlaintextWatch(tmp_path / "plain") as w:
        p = run(["backup"], database=db, env={"BACKUP_DIR": str(tmp_path / "plain")})
    assert p.returncode == 0 and w.seen, p.stderr

    with PlaintextWatch(bdir, tmpd) as w:
        p = run(["backup", "--json"], database=db, env=env)
    assert p.returncode == 0, p.stderr
    assert not w.seen, w.seen
    out = json.loads(p.stdout)
    path = out["files"]["daily"]
    ext = ".sqlite.gz.age" if db.kind == "sqlite" else ".sql.gz.age"
    assert path.endswith(ext), path
    assert sorted(os.listdir(bdir / "daily")) == sorted(
        [os.path.basename(path) + s for s in ("", ".json", ".sha256")])
    raw = open(path, "rb").read()
    assert raw.startswith(b"age-encryption.org/v1\n")

    # The sidecar covers the encrypted file, as sha256sum -c checks it.
    sha = hashlib.sha256(raw).hexdigest()
    assert open(path + ".sha256").read() == f"{sha}  {os.path.basename(path)}\n"
    c = subprocess.run(["sha256sum", "-c", os.path.basename(path) + ".sha256"],
                       cwd=os.path.dirname(path), capture_output=True, text=True)
    assert c.returncode == 0, c.stdout + c.stderr
    m = json.load(open(path + ".json"))
    assert json.dumps(m).count(sha) == 1 and out["sha256"] == sha

    # By hand, with the standard tool: age -d -i key.txt FILE | gunzip.
    d = subprocess.run(["age", "-d", "-i", str(key), path], capture_output=True)
    assert d.returncode == 0, d.stderr
    plain = gzip.decompress(d.stdout)
    if db.kind == "sqlite":
        assert plain.startswith(b"SQLite format 3\0")
    else:
        assert b"-- PostgreSQL database dump\n" in plain[:200]
        assert b"-- PostgreSQL database dump complete" in plain[-200:]

    # Quick verification needs no key.
    p = run(["backup", "verify", path], database=db, env={"BACKUP_DIR": str(bdir)})
    assert p.returncode == 0, p.stdout + p.stderr
    # Deep needs one, and passes with it.
    p = run(["backup", "verify", "--deep", path], database=db, env={"BACKUP_DIR": str(bdir)})
    assert p.returncode != 0 and "BACKUP_DECRYPT_IDENTITY" in p.stdout + p.stderr
    with PlaintextWatch(bdir, tmpd) as w:
        p = run(["backup", "verify", "--deep", path], database=db,
                env={"BACKUP_DIR": str(bdir), "TMPDIR": str(tmpd),
                     "BACKUP_DECRYPT_IDENTITY": str(key)})
    assert p.returncode == 0, p.stdout + p.stderr
    assert not w.seen, w.seen

    # A damaged ciphertext fails quick verification, without a key.
    bad = tmp_path / os.path.basename(path)
    broken = bytearray(raw)
    broken[len(broken) // 2] ^= 0xFF
    bad.write_bytes(bytes(broken))
    for s in (".json", ".sha256"):
        open(str(bad) + s, "w").write(open(path + s).read())
    p = run(["backup", "verify", str(bad)], database=db, env={"BACKUP_DIR": str(bdir)})
    assert p.returncode != 0 and "SHA-256 mismatch" in p.stdout

    # Restore: the data comes back, decrypted through a pipe.
    db.query("DELETE FROM payments")
    db.query("DELETE FROM appointments")
    db.query("DELETE FROM clients")
    assert db.count("clients") == 0
    p = run(["backup", "restore", path, "--yes"], database=db,
            env={"BACKUP_DIR": str(bdir), "BACKUP_ENCRYPT_RECIPIENT": recipient})
    assert p.returncode != 0 and "BACKUP_DECRYPT_IDENTITY" in p.stdout + p.stderr
    assert db.count("clients") == 0
    with PlaintextWatch(bdir, tmpd) as w:
        p = run(["backup", "restore", path, "--yes"], database=db,
                env={"BACKUP_DIR": str(bdir), "TMPDIR": str(tmpd),
                     "BACKUP_ENCRYPT_RECIPIENT": recipient,
                     "BACKUP_DECRYPT_IDENTITY": str(key),
                     "CITAPLANNER_FAKE_NOW": "2025-01-10T03:00:00"})
    assert p.returncode == 0, p.stdout + p.stderr
    assert not w.seen, w.seen
    assert db.count("clients") == clients
    # The prerestore backup was encrypted too.
    pre = os.listdir(bdir / "prerestore")
    assert pre and all(".gz.age" in f for f in pre), pre


def test_wrong_identity_fails_clearly_and_changes_nothing(db, tmp_path):
    prepare(db)
    recipient = keypair(tmp_path / "key.txt")
    keypair(tmp_path / "other.txt")
    bdir = tmp_path / "backups"
    env = {"BACKUP_DIR": str(bdir), "CITAPLANNER_FAKE_NOW": FRIDAY,
           "BACKUP_ENCRYPT_RECIPIENT": recipient}
    p = run(["backup"], database=db, env=env)
    assert p.returncode == 0, p.stderr
    path = next(str(bdir / "daily" / f) for f in os.listdir(bdir / "daily")
                if f.endswith(".age"))
    wrong = dict(env, BACKUP_DECRYPT_IDENTITY=str(tmp_path / "other.txt"))

    p = run(["backup", "verify", "--deep", path], database=db, env=wrong)
    assert p.returncode != 0
    assert "cannot decrypt" in p.stdout and "no identity matched" in p.stdout, p.stdout

    clients = db.count("clients")
    db.query("DELETE FROM payments")
    db.query("DELETE FROM appointments")
    db.query("DELETE FROM clients")
    p = run(["backup", "restore", path, "--yes", "--no-safety-backup"], database=db, env=wrong)
    assert p.returncode != 0
    assert "no identity matched" in p.stdout + p.stderr, p.stdout + p.stderr
    assert db.count("clients") == 0  # unchanged: nothing was restored
    assert clients > 0
