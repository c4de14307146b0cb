"""End-to-end test fixtures: run the real `citaplanner` binary against real
SQLite files and a real PostgreSQL server (scripts/pg-throwaway.sh).

Every test that takes the `backend` fixture runs once per database.  The
PostgreSQL variant gets a fresh database, dropped afterwards.  Without
CITAPLANNER_TEST_PG_URL the PostgreSQL variants fail: they are never skipped.
"""
import os
import sqlite3
import subprocess
import urllib.parse
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("CITAPLANNER_BIN", os.path.join(ROOT, "build-test", "citaplanner"))
PG_URL = os.environ.get("CITAPLANNER_TEST_PG_URL")


def pg_admin_url():
    if not PG_URL:
        pytest.fail("CITAPLANNER_TEST_PG_URL is not set: run the tests through "
                    "'make test' (scripts/pg-throwaway.sh); PostgreSQL tests are never skipped")
    return PG_URL


def pg_parts(url):
    """(user, password, host, port, dbname) of a postgresql:// URL, decoded."""
    u = urllib.parse.urlsplit(url)
    return (urllib.parse.unquote(u.username or ""), urllib.parse.unquote(u.password or ""),
            u.hostname, u.port or 5432, urllib.parse.unquote(u.path.lstrip("/")))


def pg_url_for(dbname, admin=None):
    user, password, host, port, _ = pg_parts(admin or pg_admin_url())
    q = lambda s: urllib.parse.quote(s, safe="")
    return f"postgresql://{q(user)}:{q(password)}@{host}:{port}/{q(dbname)}"


def psql(url, sql, check=True):
    """Run SQL through the real psql (password in the environment, never argv).
    Returns the rows as lists of strings."""
    user, password, host, port, dbname = pg_parts(url)
    env = dict(os.environ, PGPASSWORD=password, PGUSER=user, PGHOST=host,
               PGPORT=str(port), PGDATABASE=dbname)
    p = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        "-c", sql], env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"psql failed: {p.stderr}")
    return [line.split("\t") for line in p.stdout.splitlines() if line != ""]


class Database:
    """A fresh database of one backend, with helpers to query it directly."""

    def __init__(self, kind, url, path=None):
        self.kind = kind
        self.url = url
        self.path = path

    def query(self, sql, params=()):
        if self.kind == "sqlite":
            con = sqlite3.connect(self.path, timeout=10)
            try:
                rows = con.execute(sql, params).fetchall()
                con.commit()
                return [list(r) for r in rows]
            finally:
                con.close()
        assert not params, "psql helper takes literal SQL"
        return psql(self.url, sql)

    def scalar(self, sql):
        rows = self.query(sql)
        v = rows[0][0]
        return int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v

    def count(self, table, where=""):
        return int(self.scalar(f"SELECT count(*) FROM {table} {where}"))


@pytest.fixture(params=["sqlite", "pg"])
def backend(request):
    return request.param


@pytest.fixture
def db(backend, tmp_path):
    if backend == "sqlite":
        path = tmp_path / "data" / "citaplanner.db"
        yield Database("sqlite", f"sqlite:{path}", str(path))
        return
    admin = pg_admin_url()
    name = "t_" + uuid.uuid4().hex[:16]
    psql(admin, f'CREATE DATABASE "{name}"')
    try:
        yield Database("pg", pg_url_for(name, admin))
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


def run(args, env=None, database=None, input=None, timeout=120, cwd=None):
    """Run the binary; returns CompletedProcess with text stdout/stderr.
    The environment is minimal and explicit: PATH, TZ, plus what is given."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
         "TZ": os.environ.get("TZ", "UTC"),
         "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
         "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
         "LOG_LEVEL": "info"}
    if database is not None:
        e["DATABASE_URL"] = database.url
    if env:
        e.update(env)
    return subprocess.run([BIN] + list(args), env=e, input=input, capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


@pytest.fixture
def cp():
    """The runner, as a fixture: cp(["migrate", "deploy"], database=db)."""
    return run
