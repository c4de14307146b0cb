"""The boot sequence of `citaplanner serve` (SPEC §4) on both databases."""
import crypt
import os
import socket
import subprocess
import threading
import time
import warnings

import pytest

from conftest import pg_admin_url, pg_parts, pg_url_for, run
from server import Server, free_port

MASTER_HASH = None


def master_hash():
    global MASTER_HASH
    if MASTER_HASH is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MASTER_HASH = crypt.crypt("correct horse battery", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    return MASTER_HASH


def snapshot(db):
    tables = ["tenants", "branches", "users", "services", "service_professionals", "clients",
              "working_hours", "appointments", "payments", "master_admin_config"]
    counts = {t: db.count(t) for t in tables}
    hashes = db.query("SELECT email, password_hash FROM users ORDER BY email")
    master = db.query("SELECT password_hash FROM master_admin_config")
    return counts, hashes, master


def test_first_boot_migrates_seeds_and_creates_master_then_second_boot_changes_nothing(db):
    env = {"MASTER_PASSWORD_HASH": master_hash()}
    with Server(db, env) as s:
        s.wait_ready()
        assert s.stop() == 0, s.log
    log1 = s.log
    assert "migrations: applied" in log1, log1
    assert "demo data seeded" in log1, log1
    assert "master admin: created from MASTER_PASSWORD_HASH" in log1, log1
    first = snapshot(db)
    assert first[0]["users"] == 5 and first[0]["appointments"] == 6
    assert first[2] == [[master_hash()]]
    assert master_hash() not in log1

    # A different hash on the second boot must not overwrite the row.
    other = master_hash().replace("$2b$", "$2y$")
    with Server(db, {"MASTER_PASSWORD_HASH": other}) as s:
        s.wait_ready()
        assert s.stop() == 0, s.log
    log2 = s.log
    assert "already up to date" in log2, log2
    assert "seed skipped" in log2, log2
    assert "master admin: configured (left unchanged)" in log2, log2
    assert snapshot(db) == first


def test_boot_without_master_hash_disables_master_admin_and_warns(db):
    with Server(db, {"SEED_ON_BOOT": "never"}) as s:
        s.wait_ready()
        assert s.stop() == 0
    assert "master admin: disabled" in s.log
    assert "SEED_ON_BOOT=never" in s.log
    assert db.count("master_admin_config") == 0
    assert db.count("users") == 0


def test_changed_demo_password_survives_reboot(db):
    with Server(db) as s:
        s.wait_ready()
        s.stop()
    new_hash = crypt.crypt("a new secret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    db.query(f"UPDATE users SET password_hash = '{new_hash}' WHERE email = 'admin@citaplanner.com'")
    with Server(db) as s:
        s.wait_ready()
        s.stop()
    assert db.scalar("SELECT password_hash FROM users WHERE email = 'admin@citaplanner.com'") == new_hash


def test_health_and_readiness(db):
    with Server(db) as s:
        s.wait_ready()
        status, headers, body = s.request("GET", "/healthz")
        assert status == 200 and body["status"] == "ok"
        assert headers.get("X-Request-Id")
        status, _, body = s.request("GET", "/readyz")
        assert status == 200, body
        status, _, body = s.request("GET", "/no/such/route")
        assert status == 404 and body["error"]["code"]
        # A body over 1 MiB: read and refused with the JSON error...
        status, _, body = s.request("POST", "/healthz", body={"x": "y" * (1 << 20)})
        assert status == 413 and body["error"]["code"], body
        # ...and far over it, refused from its Content-Length before it is sent.
        conn = socket.create_connection(("127.0.0.1", s.port))
        conn.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % (64 << 20))
        conn.settimeout(10)
        assert conn.recv(4096).startswith(b"HTTP/1.1 413"), "expected 413"
        conn.close()
        status, _, body = s.request("POST", "/healthz", body="x=1",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status in (405, 415), body
        assert s.stop() == 0


@pytest.mark.parametrize("backend", ["pg"])
def test_sigterm_finishes_a_request_in_flight(db):
    """A request still being handled when SIGTERM arrives gets its answer, new
    connections are refused meanwhile, and serve exits 0 after it.  The slow
    request is a /readyz blocked by a lock the test holds on _migrations."""
    with Server(db) as s:
        s.wait_ready()
        user, password, host, port, dbname = pg_parts(db.url)
        env = dict(os.environ, PGPASSWORD=password, PGUSER=user, PGHOST=host,
                   PGPORT=str(port), PGDATABASE=dbname)
        locker = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        locker.stdin.write("BEGIN; LOCK TABLE _migrations IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n")
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == "locked"
        result = {}
        t = threading.Thread(target=lambda: result.update(r=s.request("GET", "/readyz", timeout=30)))
        t.start()
        time.sleep(0.5)
        s.proc.terminate()
        time.sleep(1.0)
        assert s.proc.poll() is None, "serve exited with a request in flight"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", s.port), timeout=2).recv(1)
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(10)
        t.join(30)
        assert result["r"][0] == 200, result
        assert s.wait_exit(15) == 0, s.log


class Forwarder:
    """A TCP forwarder from a local port to the real PostgreSQL, started late."""

    def __init__(self, listen_port, target):
        self.listen_port = listen_port
        self.target = target
        self.stopped = False
        self.sock = None

    def start(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.listen_port))
        self.sock.listen(50)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.create_connection(self.target)
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        finally:
            for x in (a, b):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self.stopped = True
        if self.sock:
            self.sock.close()


def late_url(db, port):
    user, password, _, _, dbname = pg_parts(db.url)
    from urllib.parse import quote
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/{quote(dbname, safe='')}"


@pytest.mark.parametrize("backend", ["pg"])
def test_postgres_started_late_boots(db):
    port = free_port()
    _, _, host, pgport, _ = pg_parts(db.url)
    fwd = Forwarder(port, (host, pgport))

    class Late:
        url = late_url(db, port)

    with Server(Late, {"DB_CONNECT_TIMEOUT": "30"}) as s:
        time.sleep(2)
        fwd.start()
        try:
            s.wait_ready(60)
            assert s.stop() == 0
        finally:
            fwd.stop()
    assert "connection refused" in s.log, s.log
    assert "connected after" in s.log


@pytest.mark.parametrize("backend", ["pg"])
def test_postgres_never_started_exits_3_with_cause(db):
    port = free_port()

    class Nowhere:
        url = late_url(db, port)

    t0 = time.time()
    with Server(Nowhere, {"DB_CONNECT_TIMEOUT": "2"}) as s:
        rc = s.wait_exit(30)
    assert rc == 3, s.log
    assert time.time() - t0 < 20
    assert "connection refused" in s.log
    _, password, _, _, _ = pg_parts(db.url)
    assert password not in s.log


@pytest.mark.parametrize("backend", ["pg"])
def test_wrong_password_exits_3_at_once(db):
    user, password, host, port, dbname = pg_parts(db.url)
    from urllib.parse import quote

    class Wrong:
        url = f"postgresql://{quote(user, safe='')}:{quote('Wr0ng p@ss', safe='')}@{host}:{port}/{dbname}"

    t0 = time.time()
    with Server(Wrong, {"DB_CONNECT_TIMEOUT": "60"}) as s:
        rc = s.wait_exit(30)
    assert rc == 3, s.log
    assert time.time() - t0 < 10, "a rejected password must not be retried"
    assert "Wr0ng p@ss" not in s.log and quote("Wr0ng p@ss", safe="") not in s.log
    assert "***" in s.log


@pytest.mark.parametrize("env,needle", [
    ({"DATABASE_URL": "postgresql://u:s3cr3t@host:notaport/db"}, "DATABASE_URL"),
    ({"DATABASE_URL": "mysql://u:s3cr3t@host/db"}, "DATABASE_URL"),
    ({"MASTER_PASSWORD_HASH": "$2b$10$tooshort"}, "MASTER_PASSWORD_HASH"),
    ({"LISTEN": "127.0.0.1:99999"}, "LISTEN"),
    ({"LISTEN": "nonsense"}, "LISTEN"),
])
def test_bad_configuration_exits_2_naming_it(tmp_path, env, needle):
    e = {"DATABASE_URL": f"sqlite:{tmp_path}/x.db", "LISTEN": f"127.0.0.1:{free_port()}"}
    e.update(env)
    p = run(["serve"], env=e, timeout=30)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr
    assert "s3cr3t" not in p.stderr and "tooshort" not in p.stderr


def test_listen_address_in_use_is_a_clear_error(db):
    s0 = socket.socket()
    s0.bind(("127.0.0.1", 0))
    s0.listen(1)
    port = s0.getsockname()[1]
    try:
        with Server(db, port=port) as s:
            rc = s.wait_exit(60)
        assert rc != 0
        assert f"127.0.0.1:{port}" in s.log
    finally:
        s0.close()
