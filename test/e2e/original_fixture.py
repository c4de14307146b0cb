"""The original CitaPlanner (Next.js + Prisma on PostgreSQL), as far as the
tests of issue 15 need it: its database (test/e2e/original/schema.sql and
seed.sql, written from its Prisma schema's facts) and its backups, made by
the exact pipeline of its scripts/pg_backup.sh:

    pg_dump --format=plain --no-owner --no-acl | gzip > "$backup_file"
    sha256sum "$backup_file" > "$backup_file.sha256"

(an absolute path in the sidecar, no manifest)."""
import os
import subprocess
import uuid

from conftest import pg_admin_url, pg_parts, pg_url_for, psql

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "original")


def pg_env(url):
    user, password, host, port, dbname = pg_parts(url)
    return dict(os.environ, PGPASSWORD=password, PGUSER=user, PGHOST=host, PGPORT=str(port),
                PGDATABASE=dbname)


def run_sql_file(url, path):
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path],
                       env=pg_env(url), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


class PgDatabase:
    """A throwaway PostgreSQL database; drop() removes it."""

    def __init__(self, prefix="o_"):
        self.name = prefix + uuid.uuid4().hex[:16]
        psql(pg_admin_url(), f'CREATE DATABASE "{self.name}"')
        self.url = pg_url_for(self.name)
        self.kind = "pg"
        self.path = None

    def drop(self):
        psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', check=False)


def original_database(seed=True):
    """A database as the original CitaPlanner left it."""
    d = PgDatabase()
    run_sql_file(d.url, os.path.join(HERE, "schema.sql"))
    if seed:
        run_sql_file(d.url, os.path.join(HERE, "seed.sql"))
    return d


def original_backup(url, backup_file):
    """A backup made exactly as the original's scripts/pg_backup.sh makes it."""
    os.makedirs(os.path.dirname(backup_file), exist_ok=True)
    env = pg_env(url)
    env["backup_file"] = str(backup_file)
    p = subprocess.run(["bash", "-c",
                        "set -o pipefail; pg_dump --format=plain --no-owner --no-acl | gzip > "
                        "\"$backup_file\" && sha256sum \"$backup_file\" > \"$backup_file.sha256\""],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return str(backup_file)


def pg_dump_text(url):
    p = subprocess.run(["pg_dump", "--no-owner", "--no-acl"], env=pg_env(url),
                       capture_output=True, text=True, check=True)
    return "\n".join(l for l in p.stdout.splitlines()
                     if not l.startswith(("\\restrict", "\\unrestrict")))
