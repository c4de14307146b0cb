"""The container image, built from deploy/Dockerfile and run, without a
Docker engine (`make test-image`; .ci/run runs it after `make test`).

Debian's buildah builds the real Dockerfile, with its own parser,
.dockerignore and both stages (vfs storage, chroot isolation, Docker format
so that HEALTHCHECK is kept).  The base image it names (FROM debian:13-slim)
is made from Debian's archive by scripts/debian-cache.sh (debootstrap
--variant=minbase, slimmed like the official images; cached outside the
checkout, keyed by release) and imported under that exact name, so nothing
is pulled from a registry.  Debian's podman then runs the image on the
host's network against the PostgreSQL on loopback that `make test-image`
starts (scripts/pg-throwaway.sh): `citaplanner version`, `serve` booting and
migrating, /healthz and the image's own HEALTHCHECK command, a backup landing
in /backup-citaplanner (a fresh named volume) with mode 0600 as uid 10001,
and a clean stop on SIGTERM.  Storage lives under its own --root, removed
afterwards with the containers and volumes.  A build context without web/
fails the build (meson cannot embed the web app): so does this test.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILE = os.path.join(ROOT, "deploy", "Dockerfile")
IMAGE = "localhost/citaplanner:test"
RELEASES = {"12": "bookworm", "13": "trixie"}
BUILD_TIMEOUT = 1800


def log(msg):
    print(f"[image] {msg}", flush=True)


def pg_url():
    url = os.environ.get("CITAPLANNER_TEST_PG_URL")
    if not url:
        pytest.fail("CITAPLANNER_TEST_PG_URL is not set: run through 'make test-image' "
                    "(scripts/pg-throwaway.sh); this test is never skipped")
    return url


def psql(url, sql):
    u = urllib.parse.urlsplit(url)
    env = dict(os.environ, PGPASSWORD=urllib.parse.unquote(u.password or ""),
               PGUSER=urllib.parse.unquote(u.username or ""), PGHOST=u.hostname,
               PGPORT=str(u.port or 5432), PGDATABASE=u.path.lstrip("/"))
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def base_image():
    """The FROM every stage names, e.g. ("debian", "13-slim")."""
    with open(DOCKERFILE) as f:
        froms = re.findall(r"^FROM\s+(\S+)", f.read(), re.M)
    bases = {b for b in froms if ":" in b}
    assert len(bases) == 1, froms
    name, tag = bases.pop().split(":")
    assert name == "debian", name
    return name, tag


class Podman:
    """podman and buildah on storage of their own (vfs, no daemon)."""

    def __init__(self, top):
        self.storage = ["--root", os.path.join(top, "root"), "--runroot",
                        os.path.join(top, "runroot"), "--storage-driver", "vfs"]
        # The sandbox lacks CAP_SYS_RESOURCE (hence the ulimits), crun rejects
        # its cgroup layout (runc), and there is no systemd (cgroupfs, file events).
        self.podman_opts = self.storage + ["--cgroup-manager", "cgroupfs",
                                           "--events-backend", "file", "--runtime", "runc"]

    def podman(self, *args, check=True, timeout=300, **kw):
        p = subprocess.run(["podman", *self.podman_opts, *args], capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check:
            assert p.returncode == 0, f"podman {' '.join(args)}: {p.stdout}\n{p.stderr}"
        return p

    def buildah(self, *args, timeout=BUILD_TIMEOUT):
        return subprocess.run(["buildah", *self.storage, *args], capture_output=True, text=True,
                              timeout=timeout)


RUN_OPTS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096", "--network", "host"]


@pytest.fixture(scope="module")
def podman():
    # /var/tmp: the image's layers (vfs copies each one) do not belong in a tmpfs.
    top = tempfile.mkdtemp(prefix="citaplanner-image.", dir="/var/tmp")
    pm = Podman(top)
    try:
        yield pm
    finally:
        for c in pm.podman("ps", "-aq", check=False).stdout.split():
            pm.podman("rm", "-f", "-t", "0", c, check=False)
        pm.podman("volume", "prune", "-f", check=False)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def image(podman):
    name, tag = base_image()
    release = RELEASES[tag.split("-")[0]]
    t0 = time.monotonic()
    # Its progress (cold: "building …", then the time it took) goes to stderr.
    tar = subprocess.run([os.path.join(ROOT, "scripts", "debian-cache.sh"), "base", release],
                         stdout=subprocess.PIPE, text=True, timeout=1200)
    assert tar.returncode == 0, "scripts/debian-cache.sh failed"
    log(f"base tarball {tar.stdout.strip()} in {time.monotonic() - t0:.0f} s")
    # The exact name the Dockerfile's FROM resolves to: buildah finds it and pulls nothing.
    podman.podman("import", tar.stdout.strip(), f"docker.io/library/{name}:{tag}")
    t1 = time.monotonic()
    p = podman.buildah("bud", "--isolation", "chroot", "--pull=never", "--format", "docker",
                       "-f", DOCKERFILE, "-t", IMAGE, ROOT)
    log(f"build in {time.monotonic() - t1:.0f} s")
    assert p.returncode == 0, f"the image does not build:\n{p.stdout[-6000:]}\n{p.stderr[-4000:]}"
    size = int(podman.podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    log(f"image {size / 1e6:.0f} MB")
    return IMAGE


def inspect_image(podman):
    return json.loads(podman.podman("image", "inspect", IMAGE).stdout)[0]


def test_version(podman, image):
    p = podman.podman("run", "--rm", *RUN_OPTS, image, "version")
    assert re.search(r"citaplanner \S+", p.stdout + p.stderr), p.stdout + p.stderr
    # The runtime stage's client tools: PostgreSQL 17's, for servers 13 to 17.
    p = podman.podman("run", "--rm", *RUN_OPTS, "--entrypoint", "pg_dump", image, "--version")
    assert re.search(r"\(PostgreSQL\) 17\.", p.stdout), p.stdout


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def test_serve_health_backup_and_clean_stop(podman, image):
    admin = pg_url()
    dbname = "img_" + uuid.uuid4().hex[:12]
    psql(admin, f'CREATE DATABASE "{dbname}"')
    u = urllib.parse.urlsplit(admin)
    dburl = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, "", ""))
    port = free_port()
    name = "citaplanner-test-" + uuid.uuid4().hex[:8]
    volume = name + "-backups"
    envfile = tempfile.NamedTemporaryFile("w", prefix="citaplanner-image-env.", delete=False)
    try:
        # The database URL (a password inside) goes through a file, not argv.
        with envfile:
            # The scheduler off: its catch-up backup at boot would hold the lock
            # when the test takes its own.
            envfile.write(f"DATABASE_URL={dburl}\nLISTEN=127.0.0.1:{port}\nTZ=UTC\n"
                          "BACKUP_SCHEDULE=off\n")
        os.chmod(envfile.name, 0o600)
        t0 = time.monotonic()
        podman.podman("run", "-d", "--name", name, *RUN_OPTS, "--env-file", envfile.name,
                      "-v", f"{volume}:/backup-citaplanner", image)
        status = None
        while time.monotonic() - t0 < 120:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                state = podman.podman("inspect", "--format", "{{.State.Running}}", name).stdout
                assert state.strip() == "true", podman.podman("logs", name).stderr
                time.sleep(0.5)
        logs = podman.podman("logs", name)
        assert status == 200, logs.stdout + logs.stderr
        log(f"serve answered /healthz after {time.monotonic() - t0:.1f} s")
        text = logs.stdout + logs.stderr
        assert "migrations: applied" in text, text
        assert int(psql(dburl, "SELECT count(*) FROM _migrations")) > 0

        # The web app is in the binary (web/ was in the build context).
        st, page = get(f"http://127.0.0.1:{port}/")
        assert st == 200 and b"<html" in page.lower(), page[:200]

        # The image's own HEALTHCHECK command, run in the container as Docker would.
        cfg = inspect_image(podman)
        hc = cfg.get("Healthcheck") or (cfg.get("Config") or {}).get("Healthcheck") or {}
        test = hc.get("Test") or []
        assert test and test[0] == "CMD-SHELL" and "/healthz" in test[1], cfg.get("Config")
        p = podman.podman("exec", name, "/bin/sh", "-c", test[1], check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        p = podman.podman("healthcheck", "run", name, check=False)
        assert p.returncode == 0 and "unhealthy" not in p.stdout, p.stdout + p.stderr

        # A backup, as the guide's cron line takes it, lands in the volume: 0600, uid 10001.
        p = podman.podman("exec", name, "/app/scripts/pg_backup.sh", check=False, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        mount = podman.podman("volume", "inspect", "--format", "{{.Mountpoint}}",
                              volume).stdout.strip()
        dumps = []
        for d, _, files in os.walk(mount):
            dumps += [os.path.join(d, f) for f in files if f.endswith(".sql.gz")]
        assert dumps, list(os.walk(mount))
        for f in dumps:
            s = os.stat(f)
            assert stat.S_IMODE(s.st_mode) == 0o600 and s.st_uid == 10001, (f, oct(s.st_mode),
                                                                              s.st_uid)
        p = podman.podman("exec", name, "citaplanner", "backup", "verify", "--deep", check=False,
                          timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr

        # SIGTERM (the image's STOPSIGNAL): a clean exit, well before the kill.
        t1 = time.monotonic()
        podman.podman("stop", "-t", "60", name, timeout=120)
        took = time.monotonic() - t1
        code = podman.podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        logs = podman.podman("logs", name)
        assert code == "0" and took < 50, (code, took, logs.stdout + logs.stderr)
        assert "stopped" in logs.stdout + logs.stderr
    finally:
        os.unlink(envfile.name)
        podman.podman("rm", "-f", "-t", "0", name, check=False)
        podman.podman("volume", "rm", "-f", volume, check=False)
        psql(admin, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
