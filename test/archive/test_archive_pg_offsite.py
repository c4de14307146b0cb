"""PostgreSQL's archive off the machine (issue 20, "Both"): the filed WAL, its
manifest and the base backups copied to BACKUP_MIRROR_DIR and to S3 (the real
s3rver) in order, resumable after a kill -9, encrypted with age when
BACKUP_ENCRYPT_RECIPIENT is set; a copy put back as BACKUP_DIR restores the
exact rows.  Real PostgreSQL, pg_receivewal and pg_basebackup, as in
test_archive_pg.py (whose cluster and fixtures these reuse)."""
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from test_archive_pg import (AS_ROOT, archiving, fill_segments, kill_receiver, manifest, own, restored_cluster,
                             rows, run, start_archiver, stop, wal_dir, wait_archived, work)  # noqa: F401
from test_archive_sqlite import S3RVER, free_port

BUCKET = "citaplanner-pg"


def chown_tree(path):
    own(path)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            own(os.path.join(root, n))


def tree(root):
    """Every file under root (relative paths) but temporary ones, with its SHA-256."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for n in files:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def archive_files(bk):
    """What of BACKUP_DIR goes off-site: the filed WAL, the manifest, the finished base backups."""
    return {k: v for k, v in tree(bk).items()
            if (k.startswith("wal/") and not k.endswith((".partial", ".lock")) and "/." not in k)
            or (k.startswith("base/") and ".tmp/" not in k)}


def consistent(copy):
    """The copy's manifest names only files the copy holds whole (the order's promise)."""
    mf = os.path.join(copy, "wal", "manifest")
    if not os.path.exists(mf):
        return 0
    lines = [l.split() for l in open(mf) if l.strip()]
    for l in lines:
        name = l[1] if l[0] == "history" else l[1] + ".gz"
        p = os.path.join(copy, "wal", name)
        if not os.path.exists(p):
            p += ".age"
        assert hashlib.sha256(open(p, "rb").read()).hexdigest() == l[2], "%s named but not whole" % p
    # the segments it names have no gap
    segs = [int(l[1][8:16], 16) * 256 + int(l[1][16:], 16) for l in lines if l[0] == "segment"]
    assert segs == list(range(segs[0], segs[0] + len(segs))) if segs else True, segs
    return len(lines)


def wait_copied(local, copy_files, limit=60.0):
    t0 = time.time()
    while time.time() - t0 < limit:
        want = archive_files(local)
        got = copy_files()
        if want and all(got.get(k) == v for k, v in want.items()):
            return
        time.sleep(0.2)
    want, got = archive_files(local), copy_files()
    raise AssertionError("not copied: %s" % sorted(k for k, v in want.items() if got.get(k) != v))


def restore_from(work, src, env, name, **extra):
    """src copied into an empty BACKUP_DIR, restored --to-latest into a new data directory, started."""
    bk = os.path.join(work["dir"], name)
    shutil.copytree(src, bk)
    chown_tree(bk)
    renv = dict(env, BACKUP_DIR=bk, **extra)
    for k in ("BACKUP_MIRROR_DIR", "BACKUP_S3_URL", "BACKUP_ENCRYPT_RECIPIENT"):
        renv.pop(k, None)
    pgdata = os.path.join(work["dir"], name + "-data")
    r = run(renv, "backup", "restore", "--to-latest", "--pgdata", pgdata)
    assert r.returncode == 0, r.stderr
    return restored_cluster(work, pgdata)


def write_and_copy(c, env, bk, copy_files, last):
    """A base backup, rows over three segments, the last change in a completed one, all copied."""
    r = run(env, "backup", "base")
    assert r.returncode == 0, r.stderr
    c.sql("insert into t values (1, 'one'); insert into t values (2, 'two')")
    fill_segments(c, 2)
    c.sql(last)
    c.sql("select pg_switch_wal()")  # off-site goes what is in completed segments
    wait_archived(c, c.sql("select pg_current_wal_lsn()"))
    wait_copied(bk, copy_files)


def test_mirror_in_order_resumed_after_kill_9_and_restores(work):
    mirror = os.path.join(work["dir"], "mirror")
    os.mkdir(mirror)
    own(mirror)
    bk = os.path.join(work["dir"], "bk")
    c, env, arch = archiving(work, BACKUP_MIRROR_DIR=mirror)
    try:
        r = run(env, "backup", "base")
        assert r.returncode == 0, r.stderr
        c.sql("insert into t values (1, 'before the kill')")
        fill_segments(c, 6)
        # kill -9 the archiver while it copies: its first copies land, the rest do not
        t0 = time.time()
        while not glob.glob(os.path.join(mirror, "wal", "*.gz")) and time.time() - t0 < 30:
            time.sleep(0.005)
        stop(arch, signal.SIGKILL)
        kill_receiver(bk)
        before = consistent(mirror)
        there = {k: os.stat(os.path.join(mirror, k)).st_ino for k in tree(mirror) if k != "wal/manifest"}
        c.sql("insert into t values (2, 'while it was down')")
        arch = start_archiver(work, env)
        c.sql("insert into t values (3, 'after the restart')")
        c.sql("select pg_switch_wal()")  # off-site goes what is in completed segments
        wait_archived(c, c.sql("select pg_current_wal_lsn()"))
        wait_copied(bk, lambda: tree(mirror))
    finally:
        stop(arch)
    after = consistent(mirror)
    assert after >= before and after == len(manifest(work))
    # what was whole before the kill was not copied again (a copy is a new file: a new inode)
    assert there and {k: os.stat(os.path.join(mirror, k)).st_ino for k in there} == there
    assert open(os.path.join(mirror, "wal", "manifest")).read() == open(os.path.join(wal_dir(work), "manifest")).read()
    assert not [k for k in tree(mirror) if os.path.basename(k).startswith(".")], tree(mirror)
    assert glob.glob(os.path.join(mirror, "base", "*", "base.json"))
    want = rows(c)
    assert ("3", "after the restart") in want
    got = restore_from(work, mirror, env, "from-mirror")
    assert rows(got) == want


def start_s3rver(tmp):
    if not os.path.exists(S3RVER):
        pytest.fail("s3rver is missing: run scripts/install-deps.sh --test (npm ci in test/)")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    with open(os.path.join(tmp, "s3rver.log"), "wb") as log:
        srv = subprocess.Popen([S3RVER, "-d", os.path.join(tmp, "s3data"), "-a", "127.0.0.1", "-p", str(port),
                                "--configure-bucket", BUCKET], stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen("%s/%s?list-type=2" % (url, BUCKET), timeout=2).read()
            return srv, url
        except OSError:
            assert time.monotonic() < deadline and srv.poll() is None, "s3rver did not start"
            time.sleep(0.1)


def s3_keys(url, prefix):
    body = urllib.request.urlopen("%s/%s?list-type=2&prefix=%s" % (url, BUCKET, prefix), timeout=10).read()
    ns = {"s3": "http://doc.s3.amazonaws.com/2006-03-01/"}
    return sorted(k.text for k in ET.fromstring(body).iterfind(".//s3:Key", ns))


def s3_tree(url, prefix, into=None):
    out = {}
    for k in s3_keys(url, prefix):
        data = urllib.request.urlopen("%s/%s/%s" % (url, BUCKET, k), timeout=10).read()
        out[k[len(prefix):]] = hashlib.sha256(data).hexdigest()
        if into is not None:
            dst = os.path.join(into, k[len(prefix):])
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(data)
    return out


def test_s3_copy_restores_alone(work):
    srv, url = start_s3rver(work["dir"])
    bk = os.path.join(work["dir"], "bk")
    try:
        err = ""
        c, env, arch = archiving(work, BACKUP_S3_URL="s3://%s/pg/" % BUCKET, BACKUP_S3_ENDPOINT=url,
                                 AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", BACKUP_S3_TIMEOUT="10")
        try:
            write_and_copy(c, env, bk, lambda: s3_tree(url, "pg/"), "update t set v = 'changed' where id = 1")
            err += stop(arch)
            # restarted, the archiver lists the bucket and uploads only what is new
            stored = {p: os.stat(p).st_mtime_ns for p in glob.glob(os.path.join(work["dir"], "s3data", "**", "*"),
                                                                  recursive=True)
                      if os.path.isfile(p) and "manifest" not in p}
            arch = start_archiver(work, env)
            c.sql("insert into t values (5, 'after a restart')")
            c.sql("select pg_switch_wal()")
            wait_archived(c, c.sql("select pg_current_wal_lsn()"))
            wait_copied(bk, lambda: s3_tree(url, "pg/"))
            assert stored and {p: os.stat(p).st_mtime_ns for p in stored} == stored
        finally:
            err += stop(arch)
        assert "off-site copy" not in err, err
        got = s3_tree(url, "pg/", into=os.path.join(work["dir"], "from-s3"))
        # all of the local archive (what the retention removed since stays off-site)
        assert [k for k, v in archive_files(bk).items() if got.get(k) != v] == []
        want = rows(c)
        assert ("1", "changed") in want
        assert rows(restore_from(work, os.path.join(work["dir"], "from-s3"), env, "restored")) == want
    finally:
        srv.terminate()
        srv.wait(10)


def test_encrypted_archive_needs_the_identity(work):
    key = os.path.join(work["dir"], "key.txt")
    subprocess.run(["age-keygen", "-o", key], check=True, capture_output=True)
    own(key)
    pub = [l.split(": ")[1].strip() for l in open(key) if l.startswith("# public key:")][0]
    mirror = os.path.join(work["dir"], "mirror")
    os.mkdir(mirror)
    own(mirror)
    bk = os.path.join(work["dir"], "bk")
    c, env, arch = archiving(work, BACKUP_ENCRYPT_RECIPIENT=pub, BACKUP_MIRROR_DIR=mirror)
    try:
        write_and_copy(c, env, bk, lambda: tree(mirror), "delete from t where id = 2")
    finally:
        stop(arch)
    want = rows(c)
    # nothing filed or off-site in the clear: segments and both tars are age files
    for files, root in ((archive_files(bk), bk), (tree(mirror), mirror)):
        segs = [k for k in files if k.startswith("wal/0")]
        assert segs and all(k.endswith(".gz.age") for k in segs if not k.endswith(".history")), segs
        tars = [k for k in files if k.startswith("base/") and ".tar." in k]
        assert tars and all(k.endswith(".tar.gz.age") for k in tars), tars
        for k in segs + tars:
            assert open(os.path.join(root, k), "rb").read(21) == b"age-encryption.org/v1"
    # the chain and its checksums verify without the key (they are the stored files')
    r = run(env, "backup", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    # without the identity: a clear refusal, nothing written
    pgdata = os.path.join(work["dir"], "nokey")
    r = run(env, "backup", "restore", "--to-latest", "--pgdata", pgdata)
    assert r.returncode != 0 and "BACKUP_DECRYPT_IDENTITY" in r.stderr and "nothing was written" in r.stderr, r.stderr
    assert not os.path.exists(pgdata) or os.listdir(pgdata) == []
    seg = sorted(k for k in tree(bk) if k.endswith(".gz.age"))[-1]
    out = os.path.join(work["dir"], "seg")
    r = run(env, "wal-fetch", os.path.basename(seg)[:24], out)
    assert r.returncode == 126 and "BACKUP_DECRYPT_IDENTITY" in r.stderr and not os.path.exists(out), r.stderr
    # a wrong identity is named too
    other = os.path.join(work["dir"], "other.txt")
    subprocess.run(["age-keygen", "-o", other], check=True, capture_output=True)
    own(other)
    r = run(dict(env, BACKUP_DECRYPT_IDENTITY=other), "wal-fetch", os.path.basename(seg)[:24], out)
    assert r.returncode == 126 and not os.path.exists(out), r.stderr
    # verify --check restores into a throwaway server: it needs the identity too
    r = run(env, "backup", "verify", "--check")
    assert r.returncode != 0 and "BACKUP_DECRYPT_IDENTITY" in r.stdout + r.stderr, r.stdout + r.stderr
    r = run(dict(env, BACKUP_DECRYPT_IDENTITY=key), "backup", "verify", "--check")
    assert r.returncode == 0 and "OK      archive restore check" in r.stdout, r.stdout + r.stderr
    # with it, the mirror's copy restores the exact rows
    assert rows(restore_from(work, mirror, env, "from-mirror", BACKUP_DECRYPT_IDENTITY=key)) == want
