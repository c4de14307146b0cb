"""Backups copied off BACKUP_DIR (issue 10): BACKUP_MIRROR_DIR gets a
verified copy of every backup (data file, .sha256, manifest) and the same
rotation; the local manifest records the copy; `backup list` shows where
each backup is; a broken mirror neither fails nor delays the local backup,
is alerted, shows in `doctor`, and catches up on the next run.

Every test runs once per database (`db` fixture).
"""
import hashlib
import json
import os
import re
import subprocess
import time

from conftest import run
from server import Server

DAYS = ["2025-01-07T02:00:00", "2025-01-08T02:00:00", "2025-01-09T02:00:00"]


def prepare(db):
    for args in (["migrate", "deploy"], ["seed"]):
        p = run(args, database=db)
        assert p.returncode == 0, p.stderr


def leftovers(tmpd):
    """What a command left in its TMPDIR: everything but its private runtime
    directory (TMPDIR/citaplanner-UID, kept between runs), which must be empty."""
    left = []
    for f in os.listdir(tmpd):
        p = os.path.join(tmpd, f)
        if f == f"citaplanner-{os.geteuid()}" and os.path.isdir(p):
            left += [f"{f}/{g}" for g in os.listdir(p)]
        else:
            left.append(f)
    return left


def data_files(d, tier="daily"):
    p = os.path.join(str(d), tier)
    if not os.path.isdir(p):
        return []
    return sorted(f for f in os.listdir(p) if f.endswith((".gz", ".age")))


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_mirror_copies_land_verify_and_rotate(db, tmp_path):
    prepare(db)
    bdir, mdir = tmp_path / "backups", tmp_path / "mirror"
    env = {"BACKUP_DIR": str(bdir), "BACKUP_MIRROR_DIR": str(mdir), "BACKUP_KEEP_DAILY": "2"}
    for now in DAYS:
        p = run(["backup", "--tier", "daily"], database=db,
                env=dict(env, CITAPLANNER_FAKE_NOW=now))
        assert p.returncode == 0, p.stderr
        assert "mirror: '" in p.stderr and "copied to" in p.stderr, p.stderr

    local = data_files(bdir)
    assert len(local) == 2 and data_files(mdir) == local  # the same rotation
    for name in local:
        lp, mp = bdir / "daily" / name, mdir / "daily" / name
        assert sha(lp) == sha(mp)
        assert open(str(mp) + ".sha256").read() == open(str(lp) + ".sha256").read()
        m = json.load(open(str(lp) + ".json"))
        assert m["locations"]["mirror"]["path"] == str(mp)
        # The copy verifies on its own, as a remote backup.
        v = run(["backup", "verify", str(mp)], database=db, env=env)
        assert v.returncode == 0, v.stdout + v.stderr

    p = run(["backup", "list", "--json"], database=db, env=env)
    assert p.returncode == 0, p.stderr
    assert [b["locations"] for b in json.loads(p.stdout)["backups"]] == [["local", "mirror"]] * 2
    p = run(["backup", "list"], database=db, env=env)
    assert "local+mirror" in p.stdout
    p = run(["doctor"], database=db, env=env)
    assert "backup_remote" in p.stdout and "every backup has a verified copy" in p.stdout, p.stdout

    # A copy damaged on the mirror is noticed by its verification.
    mp = mdir / "daily" / local[0]
    raw = bytearray(open(mp, "rb").read())
    raw[len(raw) // 2] ^= 0xFF
    open(mp, "wb").write(bytes(raw))
    v = run(["backup", "verify", str(mp)], database=db, env=env)
    assert v.returncode != 0


def test_broken_mirror_never_fails_the_backup_and_catches_up(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "backups"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the mirror's parent should be\n")
    mdir = blocker / "mirror"
    alerts = tmp_path / "alerts.txt"
    env = {"BACKUP_DIR": str(bdir), "BACKUP_MIRROR_DIR": str(mdir),
           "BACKUP_ALERT_COMMAND": f"echo \"$CITAPLANNER_ALERT_EVENT\" >> {alerts}"}

    t0 = time.monotonic()
    p = run(["backup", "--tier", "daily", "--json"], database=db,
            env=dict(env, CITAPLANNER_FAKE_NOW=DAYS[0]))
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ok"] is True
    assert took < 30
    assert "mirror" in p.stderr and "retried on the next run" in p.stderr, p.stderr
    assert "backup_remote_failed" in open(alerts).read()
    assert len(data_files(bdir)) == 1
    p = run(["backup", "list", "--json"], database=db, env=env)
    assert [b["locations"] for b in json.loads(p.stdout)["backups"]] == [["local"]]
    p = run(["doctor"], database=db, env=env)
    assert "1 backup not copied to" in p.stdout, p.stdout
    with Server(db, env) as srv:
        srv.wait_ready()
        status, _, body = srv.request("GET", "/metrics")
        assert status == 200
        assert 'citaplanner_backup_remote_missing{remote="mirror"} 1\n' in body, body
        assert re.search(r'citaplanner_backup_remote_lag_seconds\{remote="mirror"\} \d+\n', body)

    # A second run while the mirror is still down: still no failure.
    p = run(["backup", "--tier", "daily"], database=db,
            env=dict(env, CITAPLANNER_FAKE_NOW=DAYS[1]))
    assert p.returncode == 0, p.stderr
    p = run(["doctor"], database=db, env=env)
    assert "2 backups not copied to" in p.stdout, p.stdout

    # The mirror comes back: the next run copies what it missed.
    blocker.unlink()
    p = run(["backup", "--tier", "daily"], database=db,
            env=dict(env, CITAPLANNER_FAKE_NOW=DAYS[2]))
    assert p.returncode == 0, p.stderr
    local = data_files(bdir)
    assert len(local) == 3 and data_files(mdir) == local
    for name in local:
        assert sha(bdir / "daily" / name) == sha(mdir / "daily" / name)
    p = run(["backup", "list", "--json"], database=db, env=env)
    assert [b["locations"] for b in json.loads(p.stdout)["backups"]] == [["local", "mirror"]] * 3
    p = run(["doctor"], database=db, env=env)
    assert "every backup has a verified copy" in p.stdout, p.stdout


def test_encrypted_backups_are_mirrored_encrypted(db, tmp_path):
    prepare(db)
    k = subprocess.run(["age-keygen", "-o", str(tmp_path / "key.txt")], capture_output=True,
                       text=True)
    assert k.returncode == 0, k.stderr
    recipient = next(l.split(": ")[1].strip() for l in open(tmp_path / "key.txt")
                     if l.startswith("# public key: "))
    bdir, mdir = tmp_path / "backups", tmp_path / "mirror"
    env = {"BACKUP_DIR": str(bdir), "BACKUP_MIRROR_DIR": str(mdir), "BACKUP_KEEP_DAILY": "1",
           "BACKUP_ENCRYPT_RECIPIENT": recipient}
    for now in DAYS[:2]:
        p = run(["backup", "--tier", "daily"], database=db,
                env=dict(env, CITAPLANNER_FAKE_NOW=now))
        assert p.returncode == 0, p.stderr
    # Rotation counts the .age files, here and on the mirror.
    (name,) = data_files(mdir)
    assert data_files(bdir) == [name] and "20250108" in name
    assert name.endswith(".gz.age")
    assert open(mdir / "daily" / name, "rb").read().startswith(b"age-encryption.org/v1\n")
    p = run(["backup", "verify", "--deep", str(mdir / "daily" / name)], database=db,
            env=dict(env, BACKUP_DECRYPT_IDENTITY=str(tmp_path / "key.txt")))
    assert p.returncode == 0, p.stdout + p.stderr


# ---------------------------------------------------------------- S3

import socket
import threading
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT

S3RVER = os.path.join(ROOT, "test", "node_modules", ".bin", "s3rver")
BUCKET = "citaplanner-backups"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3rver:
    """The real s3rver (npm, test/package.json) on loopback, in its own directory."""

    def __init__(self, tmp):
        if not os.path.exists(S3RVER):
            pytest.fail("s3rver is missing: run scripts/install-deps.sh --test (npm ci in test/)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Its log (a file, never a pipe that could fill) shows the requests it served.
        self.log = os.path.join(str(tmp), "s3rver.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [S3RVER, "-d", os.path.join(str(tmp), "data"), "-a", "127.0.0.1", "-p",
                 str(self.port), "--configure-bucket", BUCKET], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/{BUCKET}?list-type=2", timeout=2).read()
                return
            except OSError:
                assert self.proc.poll() is None, self.log_text()
                time.sleep(0.1)
        raise AssertionError("s3rver did not start")

    def log_text(self):
        return open(self.log, encoding="utf-8", errors="replace").read()

    def keys(self, prefix):
        body = urllib.request.urlopen(
            f"{self.url}/{BUCKET}?list-type=2&prefix={prefix}", timeout=10).read()
        ns = {"s3": "http://doc.s3.amazonaws.com/2006-03-01/"}
        return sorted(k.text for k in ET.fromstring(body).iterfind(".//s3:Key", ns))

    def get(self, key):
        return urllib.request.urlopen(f"{self.url}/{BUCKET}/{key}", timeout=10).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    srv = S3rver(tmp_path_factory.mktemp("s3rver"))
    yield srv
    srv.stop()


def s3_env(endpoint, bdir, prefix):
    return {"BACKUP_DIR": str(bdir), "BACKUP_S3_URL": f"s3://{BUCKET}/{prefix}",
            "BACKUP_S3_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "S3RVER",
            "AWS_SECRET_ACCESS_KEY": "S3RVER", "BACKUP_S3_TIMEOUT": "2"}


def test_s3_copies_land_verify_rotate_and_restore(db, tmp_path, s3):
    prepare(db)
    bdir = tmp_path / "backups"
    prefix = f"t{os.getpid()}{db.kind}{time.monotonic_ns()}/prod"
    env = dict(s3_env(s3.url, bdir, prefix), BACKUP_KEEP_DAILY="2")
    for now in DAYS:
        p = run(["backup", "--tier", "daily"], database=db,
                env=dict(env, CITAPLANNER_FAKE_NOW=now))
        assert p.returncode == 0, p.stderr
        assert "uploaded to 's3://" in p.stderr, p.stderr
        # The secret never reaches a log line.
        assert "S3RVER" not in p.stderr.replace("AWS_ACCESS_KEY_ID", "")

    local = data_files(bdir)
    assert len(local) == 2
    want = sorted(f"{prefix}/daily/{n}{s}" for n in local for s in ("", ".json", ".sha256"))
    assert s3.keys(prefix + "/") == want  # landed, and rotated as locally
    for name in local:
        lp = bdir / "daily" / name
        assert s3.get(f"{prefix}/daily/{name}") == open(lp, "rb").read()
        m = json.load(open(str(lp) + ".json"))
        assert m["locations"]["s3"]["path"] == f"s3://{BUCKET}/{prefix}/daily/{name}"
    p = run(["backup", "list", "--json"], database=db, env=env)
    assert [b["locations"] for b in json.loads(p.stdout)["backups"]] == [["local", "s3"]] * 2
    p = run(["doctor"], database=db, env=env)
    assert "every backup has a verified copy in the s3" in p.stdout, p.stdout

    # verify and restore take the remote backup: downloaded, verified, used, removed.
    tmpd = tmp_path / "tmp"
    tmpd.mkdir()
    url = f"s3://{BUCKET}/{prefix}/daily/{local[0]}"
    p = run(["backup", "verify", url], database=db, env=dict(env, TMPDIR=str(tmpd)))
    assert p.returncode == 0, p.stdout + p.stderr
    assert leftovers(tmpd) == []
    clients = db.count("clients")
    db.query("DELETE FROM payments")
    db.query("DELETE FROM appointments")
    db.query("DELETE FROM clients")
    p = run(["backup", "restore", url, "--yes", "--no-safety-backup"], database=db,
            env=dict(env, TMPDIR=str(tmpd)))
    assert p.returncode == 0, p.stdout + p.stderr
    assert db.count("clients") == clients > 0
    assert leftovers(tmpd) == []
    p = run(["backup", "verify", f"s3://{BUCKET}/{prefix}/daily/nothing"], database=db, env=env)
    assert p.returncode != 0


class Faulty:
    """A loopback server that misbehaves: 'hang' accepts and never answers;
    'drop' reads part of the request, then closes the connection."""

    def __init__(self, mode):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.mode = mode
        self.conns = []
        self.seen = 0
        self.stop = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.mode == "drop":
                try:
                    self.seen += len(c.recv(600))
                except OSError:
                    pass
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                c.close()

    def close(self):
        self.stop = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.mark.parametrize("fault", ["refuse", "hang", "drop"])
def test_broken_s3_never_fails_the_backup_and_catches_up(db, tmp_path, s3, fault):
    prepare(db)
    bdir = tmp_path / "backups"
    prefix = f"f{os.getpid()}{db.kind}{fault}{time.monotonic_ns()}"
    alerts = tmp_path / "alerts.txt"
    bad = None
    if fault == "refuse":
        endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    else:
        bad = Faulty(fault)
        endpoint = bad.url
    env = dict(s3_env(endpoint, bdir, prefix),
               BACKUP_ALERT_COMMAND=f"echo \"$CITAPLANNER_ALERT_EVENT\" >> {alerts}")
    try:
        t0 = time.monotonic()
        p = run(["backup", "--tier", "daily", "--json"], database=db,
                env=dict(env, CITAPLANNER_FAKE_NOW=DAYS[0]))
        took = time.monotonic() - t0
    finally:
        if bad:
            bad.close()
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ok"] is True
    assert "the backup s3 " in p.stderr and "retried on the next run" in p.stderr, p.stderr
    assert took < 20, took  # BACKUP_S3_TIMEOUT=2 bounds a hung service
    if fault == "drop":
        assert bad.seen > 0  # the upload had started
    assert "backup_remote_failed" in open(alerts).read()
    (name,) = data_files(bdir)
    p = run(["doctor"], database=db, env=env)
    assert "1 backup not copied to the s3" in p.stdout, p.stdout

    # The service is back: the next run uploads both backups.
    env = s3_env(s3.url, bdir, prefix)
    p = run(["backup", "--tier", "daily"], database=db,
            env=dict(env, CITAPLANNER_FAKE_NOW=DAYS[1]))
    assert p.returncode == 0, p.stderr
    local = data_files(bdir)
    assert len(local) == 2 and name in local
    keys = s3.keys(prefix + "/")
    assert keys == sorted(f"{prefix}/daily/{n}{s}" for n in local
                          for s in ("", ".json", ".sha256"))
    for n in local:
        assert s3.get(f"{prefix}/daily/{n}") == open(bdir / "daily" / n, "rb").read()
    p = run(["backup", "list", "--json"], database=db, env=env)
    assert [b["locations"] for b in json.loads(p.stdout)["backups"]] == [["local", "s3"]] * 2


# ------------------------------------------------- S3 multipart, credentials file

PART = 2048  # bytes: a demo backup (several kB) goes up in several parts


def one_backup(db, env, now=DAYS[0]):
    p = run(["backup", "--tier", "daily"], database=db, env=dict(env, CITAPLANNER_FAKE_NOW=now))
    assert p.returncode == 0, p.stderr
    return p


def test_s3_multipart_upload_verifies_and_restores(db, tmp_path, s3):
    prepare(db)
    bdir = tmp_path / "backups"
    prefix = f"m{os.getpid()}{db.kind}{time.monotonic_ns()}"
    env = dict(s3_env(s3.url, bdir, prefix), BACKUP_S3_PART_SIZE=str(PART))
    p = one_backup(db, env)
    (name,) = data_files(bdir)
    lp = bdir / "daily" / name
    size = os.path.getsize(lp)
    nparts = -(-size // PART)
    assert nparts >= 2, size
    assert f"sent in {nparts} parts" in p.stderr, p.stderr
    assert "uploaded to 's3://" in p.stderr and "verified" in p.stderr, p.stderr

    # s3rver's own log: one multipart upload for the data file, every part stored.
    log = s3.log_text()
    ids = set(re.findall(re.escape(name) + r"\?uploadId=([0-9a-f]+) 200", log))
    assert len(ids) == 1, log
    (uid,) = ids
    assert sorted(int(n) for n in re.findall(r"Stored part (\d+) of " + uid, log)) == \
        list(range(1, nparts + 1))
    # The sidecars are small: single PUTs, no upload of their own.
    assert not re.search(re.escape(name) + r"\.(json|sha256)\?uploads", log)

    assert s3.keys(prefix + "/") == sorted(f"{prefix}/daily/{name}{x}"
                                           for x in ("", ".json", ".sha256"))
    assert s3.get(f"{prefix}/daily/{name}") == open(lp, "rb").read()
    m = json.load(open(str(lp) + ".json"))
    assert m["locations"]["s3"]["path"] == f"s3://{BUCKET}/{prefix}/daily/{name}"

    tmpd = tmp_path / "tmp"
    tmpd.mkdir()
    url = f"s3://{BUCKET}/{prefix}/daily/{name}"
    v = run(["backup", "verify", url], database=db, env=dict(env, TMPDIR=str(tmpd)))
    assert v.returncode == 0, v.stdout + v.stderr
    clients = db.count("clients")
    db.query("DELETE FROM payments")
    db.query("DELETE FROM appointments")
    db.query("DELETE FROM clients")
    r = run(["backup", "restore", url, "--yes", "--no-safety-backup"], database=db,
            env=dict(env, TMPDIR=str(tmpd)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert db.count("clients") == clients > 0
    assert leftovers(tmpd) == []


class DropProxy:
    """A loopback TCP proxy in front of s3rver that forwards every request but
    closes the connection (RST) on one whose request line contains `trap`.
    curl opens one connection per request here, so the first bytes read are
    the request line.  `lines` keeps every request line seen."""

    def __init__(self, upstream_port, trap):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.upstream = upstream_port
        self.trap = trap
        self.lines = []
        self.dropped = 0
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        head = b""
        while b"\r\n" not in head:
            chunk = c.recv(4096)
            if not chunk:
                c.close()
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.lines.append(line)
        if self.trap in line:
            self.dropped += 1
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
            return
        u = socket.create_connection(("127.0.0.1", self.upstream))
        u.sendall(head)

        def pipe(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d:
                        break
                    b.sendall(d)
            except OSError:
                pass
            for x in (a, b):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        t = threading.Thread(target=pipe, args=(u, c), daemon=True)
        t.start()
        pipe(c, u)
        t.join(10)
        c.close()
        u.close()

    def close(self):
        self.sock.close()


def test_s3_multipart_drop_leaves_no_object_and_catches_up(db, tmp_path, s3):
    prepare(db)
    bdir = tmp_path / "backups"
    prefix = f"d{os.getpid()}{db.kind}{time.monotonic_ns()}"
    proxy = DropProxy(s3.port, "partNumber=2&")
    try:
        env = dict(s3_env(proxy.url, bdir, prefix), BACKUP_S3_PART_SIZE=str(PART))
        p = one_backup(db, env)
    finally:
        proxy.close()
    assert proxy.dropped == 1, proxy.lines
    assert "the backup s3 " in p.stderr and "retried on the next run" in p.stderr, p.stderr
    (name,) = data_files(bdir)
    lines = proxy.lines
    # The upload had begun (part 1 went through), and was aborted after the drop.
    assert any(l.startswith("POST ") and name + "?uploads" in l for l in lines), lines
    assert any(l.startswith("PUT ") and "partNumber=1&" in l for l in lines), lines
    assert any(l.startswith("DELETE ") and name + "?uploadId=" in l for l in lines), lines
    assert not any(l.startswith("POST ") and name + "?uploadId=" in l for l in lines), lines
    # No object stands for the half-sent file; the manifest records no copy.
    assert f"{prefix}/daily/{name}" not in s3.keys(prefix + "/")
    assert "s3" not in json.load(open(bdir / "daily" / (name + ".json"))).get("locations", {})

    # The service is reachable again: the next run uploads both, in parts.
    env = dict(s3_env(s3.url, bdir, prefix), BACKUP_S3_PART_SIZE=str(PART))
    p = one_backup(db, env, DAYS[1])
    assert p.stderr.count("uploaded to 's3://") == 2, p.stderr
    local = data_files(bdir)
    assert len(local) == 2 and name in local
    assert s3.keys(prefix + "/") == sorted(f"{prefix}/daily/{n}{x}" for n in local
                                           for x in ("", ".json", ".sha256"))
    for n in local:
        assert s3.get(f"{prefix}/daily/{n}") == open(bdir / "daily" / n, "rb").read()
    p = run(["backup", "list", "--json"], database=db, env=env)
    assert [b["locations"] for b in json.loads(p.stdout)["backups"]] == [["local", "s3"]] * 2


def test_s3_credentials_from_a_private_file(db, tmp_path, s3):
    prepare(db)
    bdir = tmp_path / "backups"
    prefix = f"c{os.getpid()}{db.kind}{time.monotonic_ns()}"
    secret = "fIlE-SeCrEt-0123456789"
    cred = tmp_path / "credentials"
    cred.write_text("# AWS shared credentials\n"
                    "[other]\naws_access_key_id = NOBODY\naws_secret_access_key = x\n\n"
                    f"[default]\naws_access_key_id = S3RVER\naws_secret_access_key = {secret}\n")
    env = s3_env(s3.url, bdir, prefix)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    env["BACKUP_S3_CREDENTIALS_FILE"] = str(cred)

    # Readable by others: refused, naming the file; the local backup stands.
    os.chmod(cred, 0o644)
    p = one_backup(db, env)
    assert f"the credentials file '{cred}' is accessible to group or others" in p.stderr, p.stderr
    assert "chmod 600" in p.stderr and secret not in p.stderr
    assert s3.keys(prefix + "/") == []

    # Private: used when the AWS_* variables are unset; the next run catches up.
    os.chmod(cred, 0o600)
    p = one_backup(db, env, DAYS[1])
    assert p.stderr.count("uploaded to 's3://") == 2, p.stderr
    assert secret not in p.stderr
    local = data_files(bdir)
    assert len(s3.keys(prefix + "/")) == 3 * len(local) == 6
    v = run(["backup", "verify", f"s3://{BUCKET}/{prefix}/daily/{local[0]}"], database=db,
            env=env)
    assert v.returncode == 0, v.stdout + v.stderr

    # AWS_PROFILE picks the section: its key id (unknown to s3rver) is what is sent.
    p = one_backup(db, dict(env, AWS_PROFILE="other"), DAYS[2])
    assert "InvalidAccessKeyId" in p.stderr, p.stderr
    p = one_backup(db, dict(env, AWS_PROFILE="absent"), "2025-01-10T02:00:00")
    assert f"the credentials file '{cred}' has no aws_access_key_id" in p.stderr, p.stderr
    assert "[absent]" in p.stderr
