"""Continuous archiving of SQLite (issue 20): `citaplanner archive`, serve's
archiver, `backup restore --to-time/--to-latest`, the chain in `backup verify`.

Real SQLite files; the writers are other processes (python's sqlite3), so the
archiver can only know of their commits by reading the -wal file."""
import glob
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

BIN = os.environ.get("CITAPLANNER_BIN", os.path.join(os.path.dirname(__file__), "../../build-test/citaplanner"))
INTERVAL_MS = 100

WRITER = r"""
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute('pragma journal_mode=wal')
c.execute('create table if not exists t(id integer primary key, v text)')
i = int(sys.argv[2])
while True:
    c.execute('begin immediate')
    c.execute('insert into t(id, v) values(?, ?)', (i, 'row %d ' % i + 'x' * 300))
    c.execute('commit')
    print(i, flush=True)
    i += 1
    time.sleep(0.003)
"""


def env_for(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "BACKUP_", "DATABASE_"))}
    env.update(DATABASE_URL="sqlite://%s/app.db" % tmp_path, BACKUP_DIR=str(tmp_path / "bk"),
               ARCHIVE_SQLITE_INTERVAL_MS=str(INTERVAL_MS), ARCHIVE_SQLITE_CHECKPOINT_FRAMES="200",
               BACKUP_SCHEDULE="off", TZ="UTC")
    env.update(extra)
    return env


def connect(path):
    c = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    c.execute("pragma journal_mode=wal")
    c.execute("create table if not exists t(id integer primary key, v text)")
    return c


def rows(path):
    c = sqlite3.connect(str(path))
    try:
        return c.execute("select id, v from t order by id").fetchall()
    finally:
        c.close()


def run(env, *args):
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=120)


def start_archiver(env):
    return subprocess.Popen([BIN, "archive"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(p, sig=signal.SIGTERM):
    """Stop p with sig; a clean exit (status 0, no sanitizer report).  Returns its stderr."""
    if p.poll() is None:
        p.send_signal(sig)
    p.wait(timeout=30)
    err = p.stderr.read() if p.stderr else ""
    if sig in (signal.SIGTERM, signal.SIGINT):
        assert p.returncode == 0 and "runtime error" not in err and "Sanitizer" not in err, err
    return err


def manifests(tmp_path):
    return sorted(glob.glob(str(tmp_path / "bk/wal-sqlite/*/manifest")))


def last_shipped_ms(tmp_path):
    ms = manifests(tmp_path)
    if not ms:
        return 0
    with open(ms[-1]) as f:
        lines = [l for l in f.read().split("\n") if l]
    if not lines:
        return 0
    f = lines[-1].split()
    return int(f[2] if f[0] == "segment" else f[1])


def wait_shipped(tmp_path, since_ms, limit=20.0):
    t0 = time.time()
    while time.time() - t0 < limit:
        if last_shipped_ms(tmp_path) >= since_ms:
            return time.time() - t0
        time.sleep(0.01)
    raise AssertionError("nothing shipped %.0f s after the commit at %d: %s" % (limit, since_ms, [open(m).read() for m in manifests(tmp_path)]))


def wait_ready(tmp_path, limit=20.0):
    t0 = time.time()
    while not manifests(tmp_path):
        assert time.time() - t0 < limit, "the archiver began no generation"
        time.sleep(0.02)


def utc(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def test_restore_between_two_commits_exact_contents(tmp_path):
    env = env_for(tmp_path)
    c = connect(tmp_path / "app.db")
    arch = start_archiver(env)
    try:
        wait_ready(tmp_path)
        c.execute("insert into t values(1, 'first')")
        c.execute("insert into t values(2, 'second')")
        first = rows(tmp_path / "app.db")
        time.sleep(1.6)
        target = time.time()
        time.sleep(1.6)
        c.execute("update t set v = 'changed' where id = 1")
        c.execute("insert into t values(3, 'third')")
        t_last = int(time.time() * 1000)
        c.execute("delete from t where id = 2")
        after = rows(tmp_path / "app.db")
        wait_shipped(tmp_path, t_last)
    finally:
        stop(arch)
    r = run(env, "backup", "restore", "--to-time", utc(target), "--tz", "UTC", "--output", str(tmp_path / "then.db"))
    assert r.returncode == 0, r.stderr
    assert "integrity_check ok" in r.stdout
    assert rows(tmp_path / "then.db") == first == [(1, "first"), (2, "second")]
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "now.db"))
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path / "now.db") == after == [(1, "changed"), (3, "third")]
    # --output never overwrites; a time before the archive is refused.
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "now.db"))
    assert r.returncode == 7 and "exists" in r.stderr
    r = run(env, "backup", "restore", "--to-time", "2001-01-01 00:00:00", "--output", str(tmp_path / "x.db"))
    assert r.returncode == 7 and "begins after" in r.stderr
    # In place (with --yes), the archiver running: a prerestore backup, the data of
    # the target, and the archiver begins a new generation.
    arch = start_archiver(env)
    try:
        wait_ready(tmp_path)
        r = run(env, "backup", "restore", "--to-time", utc(target), "--tz", "UTC", "--yes")
        assert r.returncode == 0, r.stderr
        assert "prerestore backup:" in r.stdout
        assert rows(tmp_path / "app.db") == first
        t0 = time.time()
        while len(manifests(tmp_path)) < 2 and time.time() - t0 < 20:
            time.sleep(0.02)
        assert len(manifests(tmp_path)) == 2
        t_commit = int(time.time() * 1000)
        c.execute("insert into t values(4, 'after the restore')")
        wait_shipped(tmp_path, t_commit)
    finally:
        stop(arch)
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "latest.db"))
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path / "latest.db") == first + [(4, "after the restore")]
    r = run(env, "backup", "list")
    assert "recoverable to any moment from" in r.stdout


def test_missing_or_corrupt_segment(tmp_path):
    env = env_for(tmp_path)
    c = connect(tmp_path / "app.db")
    arch = start_archiver(env)
    try:
        wait_ready(tmp_path)
        for i in range(1, 7):
            t_commit = int(time.time() * 1000)
            c.execute("insert into t values(?, ?)", (i, "v%d" % i))
            wait_shipped(tmp_path, t_commit)
            time.sleep(0.15)
    finally:
        stop(arch)
    gen = os.path.dirname(manifests(tmp_path)[-1])
    seg3 = os.path.join(gen, "00000003.wal.gz")
    seg5 = os.path.join(gen, "00000005.wal.gz")
    assert os.path.exists(seg3) and os.path.exists(seg5)
    assert run(env, "backup", "verify").returncode == 0
    # Corrupt segment 5: verify names it; restore stops before it, nothing written.
    data = bytearray(open(seg5, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(seg5, "wb").write(bytes(data))
    r = run(env, "backup", "verify")
    assert r.returncode == 6 and "segment 5" in r.stdout and "damaged" in r.stdout, r.stdout
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "out.db"))
    assert r.returncode == 6 and "segment 5" in r.stderr and "nothing was restored" in r.stderr, r.stderr
    assert not os.path.exists(tmp_path / "out.db")
    # Missing segment 3: the same, naming 3.
    os.unlink(seg3)
    r = run(env, "backup", "verify")
    assert r.returncode == 6 and "segment 3" in r.stdout and "missing" in r.stdout, r.stdout
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "out.db"))
    assert r.returncode == 6 and "segment 3" in r.stderr and "can restore only up to" in r.stderr
    assert not os.path.exists(tmp_path / "out.db")
    assert rows(tmp_path / "app.db") == [(i, "v%d" % i) for i in range(1, 7)]


def test_checkpoint_from_outside_new_generation_loses_nothing(tmp_path):
    env = env_for(tmp_path)
    c = connect(tmp_path / "app.db")
    arch = start_archiver(env)
    try:
        wait_ready(tmp_path)
        for i in range(1, 51):
            c.execute("insert into t values(?, ?)", (i, "a%d" % i))
        # While the archiver holds its read transaction, TRUNCATE cannot reset the WAL.
        busy = c.execute("pragma wal_checkpoint(truncate)").fetchone()[0]
        assert busy == 1
        t_commit = int(time.time() * 1000)
        for i in range(51, 101):
            c.execute("insert into t values(?, ?)", (i, "b%d" % i))
        wait_shipped(tmp_path, t_commit)
    finally:
        stop(arch)
    assert len(manifests(tmp_path)) == 1
    # With no archiver watching, another process checkpoints and resets the WAL.
    for i in range(101, 151):
        c.execute("insert into t values(?, ?)", (i, "c%d" % i))
    assert c.execute("pragma wal_checkpoint(truncate)").fetchone()[0] == 0
    for i in range(151, 201):
        c.execute("insert into t values(?, ?)", (i, "d%d" % i))
    arch = start_archiver(env)
    try:
        t0 = time.time()
        while len(manifests(tmp_path)) < 2 and time.time() - t0 < 20:
            time.sleep(0.02)
        assert len(manifests(tmp_path)) == 2, "the reset began no new generation"
        t_commit = int(time.time() * 1000)
        c.execute("insert into t values(201, 'e')")
        wait_shipped(tmp_path, t_commit)
    finally:
        stop(arch, signal.SIGINT)
    assert run(env, "backup", "verify").returncode == 0
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "out.db"))
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path / "out.db") == rows(tmp_path / "app.db")
    assert len(rows(tmp_path / "out.db")) == 201


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_serve_runs_one_archiver(tmp_path):
    """Two serve instances on one BACKUP_DIR: one archives, the other stands by."""
    env = env_for(tmp_path, ARCHIVE_SQLITE="on", SEED_ON_BOOT="never")
    env.pop("CITAPLANNER_FAKE_NOW", None)
    assert run(env, "migrate", "deploy").returncode == 0
    connect(tmp_path / "app.db").close()
    procs = []
    for _ in range(2):
        e = dict(env, LISTEN="127.0.0.1:%d" % free_port())
        procs.append(subprocess.Popen([BIN, "serve"], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    try:
        wait_ready(tmp_path, 30)
        c = connect(tmp_path / "app.db")
        t_commit = int(time.time() * 1000)
        c.execute("insert into t values(1, 'through serve''s archiver')")
        wait_shipped(tmp_path, t_commit)
    finally:
        logs = [stop(p) for p in procs]
    assert sum("standing by" in l for l in logs) == 1, logs
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "out.db"))
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path / "out.db") == [(1, "through serve's archiver")]


def test_mirror_copy_in_order_and_resumable(tmp_path):
    """BACKUP_MIRROR_DIR gets the same archive; after kill -9 it catches up; it restores alone."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    env = env_for(tmp_path, BACKUP_MIRROR_DIR=str(mirror))
    c = connect(tmp_path / "app.db")
    arch = start_archiver(env)
    try:
        wait_ready(tmp_path)
        for i in range(1, 21):
            c.execute("insert into t values(?, ?)", (i, "m%d" % i))
            time.sleep(0.02)
        arch.send_signal(signal.SIGKILL)
        arch.wait()
        for i in range(21, 41):
            c.execute("insert into t values(?, ?)", (i, "m%d" % i))
        arch = start_archiver(env)
        t_commit = int(time.time() * 1000)
        c.execute("insert into t values(41, 'last')")
        wait_shipped(tmp_path, t_commit)
        time.sleep(5 * INTERVAL_MS / 1000)
    finally:
        stop(arch)
    local = sorted(os.path.relpath(p, tmp_path / "bk") for p in glob.glob(str(tmp_path / "bk/wal-sqlite/*/*")))
    copied = sorted(os.path.relpath(p, mirror) for p in glob.glob(str(mirror / "wal-sqlite/*/*")))
    assert copied == local
    for m in manifests(tmp_path):
        assert open(m).read() == open(str(m).replace(str(tmp_path / "bk"), str(mirror))).read()
    menv = env_for(tmp_path, BACKUP_DIR=str(mirror))
    r = run(menv, "backup", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run(menv, "backup", "restore", "--to-latest", "--output", str(tmp_path / "from-mirror.db"))
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path / "from-mirror.db") == rows(tmp_path / "app.db")
    assert len(rows(tmp_path / "app.db")) == 41


def test_encrypted_archive(tmp_path):
    """With BACKUP_ENCRYPT_RECIPIENT every archive file is age-encrypted; restore decrypts."""
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True).stdout.strip()
    env = env_for(tmp_path, BACKUP_ENCRYPT_RECIPIENT=recipient)
    c = connect(tmp_path / "app.db")
    c.execute("insert into t values(1, 'secret before')")
    arch = start_archiver(env)
    try:
        wait_ready(tmp_path)
        t_commit = int(time.time() * 1000)
        c.execute("insert into t values(2, 'secret after')")
        wait_shipped(tmp_path, t_commit)
    finally:
        stop(arch)
    files = glob.glob(str(tmp_path / "bk/wal-sqlite/*/*"))
    data = [f for f in files if not f.endswith("/manifest")]
    assert data and all(f.endswith(".age") for f in data), files
    for f in data:
        assert open(f, "rb").read().startswith(b"age-encryption.org/v1")
    # Without the identity: the checksums verify, the restore says what is missing.
    assert run(env, "backup", "verify").returncode == 0
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "x.db"))
    assert r.returncode == 2 and "BACKUP_DECRYPT_IDENTITY" in r.stderr, r.stderr
    assert not os.path.exists(tmp_path / "x.db")
    denv = dict(env, BACKUP_DECRYPT_IDENTITY=str(key))
    assert run(denv, "backup", "verify").returncode == 0
    r = run(denv, "backup", "restore", "--to-latest", "--output", str(tmp_path / "out.db"))
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path / "out.db") == [(1, "secret before"), (2, "secret after")]


S3RVER = os.path.join(os.path.dirname(__file__), "..", "node_modules", ".bin", "s3rver")
BUCKET = "citaplanner-archive"


def test_s3_copy_restores(tmp_path):
    """BACKUP_S3_URL gets the archive (the real s3rver); what it holds restores alone."""
    import urllib.request
    import xml.etree.ElementTree as ET
    if not os.path.exists(S3RVER):
        pytest.fail("s3rver is missing: run scripts/install-deps.sh --test (npm ci in test/)")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    with open(tmp_path / "s3rver.log", "wb") as log:
        srv = subprocess.Popen([S3RVER, "-d", str(tmp_path / "s3data"), "-a", "127.0.0.1", "-p", str(port),
                                "--configure-bucket", BUCKET], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen("%s/%s?list-type=2" % (url, BUCKET), timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline and srv.poll() is None, "s3rver did not start"
                time.sleep(0.1)
        env = env_for(tmp_path, BACKUP_S3_URL="s3://%s/pfx" % BUCKET, BACKUP_S3_ENDPOINT=url,
                      AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", BACKUP_S3_TIMEOUT="5")
        c = connect(tmp_path / "app.db")
        arch = start_archiver(env)
        try:
            wait_ready(tmp_path)
            for i in range(1, 11):
                t_commit = int(time.time() * 1000)
                c.execute("insert into t values(?, ?)", (i, "s3 %d" % i))
                wait_shipped(tmp_path, t_commit)
            time.sleep(10 * INTERVAL_MS / 1000)
        finally:
            stop(arch)

        def keys():
            body = urllib.request.urlopen("%s/%s?list-type=2&prefix=pfx/" % (url, BUCKET), timeout=10).read()
            ns = {"s3": "http://doc.s3.amazonaws.com/2006-03-01/"}
            return sorted(k.text for k in ET.fromstring(body).iterfind(".//s3:Key", ns))

        got = keys()
        local = sorted("pfx/" + os.path.relpath(p, tmp_path / "bk")
                       for p in glob.glob(str(tmp_path / "bk/wal-sqlite/*/*")))
        assert got == local
        dl = tmp_path / "from-s3"
        for k in got:
            dst = dl / k[len("pfx/"):]
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(urllib.request.urlopen("%s/%s/%s" % (url, BUCKET, k), timeout=10).read())
        for m in manifests(tmp_path):
            assert open(m).read() == open(str(m).replace(str(tmp_path / "bk"), str(dl))).read()
        denv = env_for(tmp_path, BACKUP_DIR=str(dl))
        r = run(denv, "backup", "restore", "--to-latest", "--output", str(tmp_path / "out.db"))
        assert r.returncode == 0, r.stderr
        assert rows(tmp_path / "out.db") == [(i, "s3 %d" % i) for i in range(1, 11)]
    finally:
        srv.terminate()
        srv.wait(10)


def test_busy_writers_through_the_archivers_checkpoints(tmp_path):
    """Two writers in tight loops while the archiver checkpoints (RESTART) every 200 frames:
    the WAL restarts many times, nothing is lost, the chain verifies."""
    env = env_for(tmp_path)
    connect(tmp_path / "app.db").close()
    loop = r"""
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
t = time.time()
while time.time() - t < 5:
    c.execute("insert into t(v) values(?)", ("busy " + "x" * 300,))
"""
    arch = start_archiver(env)
    try:
        wait_ready(tmp_path)
        ws = [subprocess.Popen([sys.executable, "-c", loop, str(tmp_path / "app.db")]) for _ in range(2)]
        for w in ws:
            assert w.wait() == 0
        t_commit = int(time.time() * 1000)
        connect(tmp_path / "app.db").execute("insert into t(v) values('last')")
        wait_shipped(tmp_path, t_commit)
    finally:
        stop(arch)
    epochs = set()
    for m in manifests(tmp_path):
        epochs |= {l.split()[7] for l in open(m).read().split("\n") if l.startswith("segment ")}
    assert len(epochs) >= 2, "the archiver never checkpointed"
    # Busy writers restart the log only when the archiver lets them: no new
    # generation (a whole new snapshot) every few polls.
    gens = glob.glob(str(tmp_path / "bk/wal-sqlite/*/manifest"))
    assert len(gens) <= 2, "%d generations in 5 s of busy writers" % len(gens)
    r = run(env, "backup", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run(env, "backup", "restore", "--to-latest", "--output", str(tmp_path / "out.db"))
    assert r.returncode == 0, r.stderr
    assert rows(tmp_path / "out.db") == rows(tmp_path / "app.db")
