"""`citaplanner backup verify` (SPEC §6 "Verifying"), run as an operator
would, on SQLite and PostgreSQL: good backups pass, every kind of damage is
reported (and refused by restore), every damaged file of a directory is
reported, and --deep compares a scratch restore's row counts with the
manifest.

The helpers at the top are shared with test_restore.py.
"""
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess

from conftest import pg_admin_url, pg_parts, psql, run

OK_RE = re.compile(r"^OK\s+(\S+)", re.M)
FAILED_RE = re.compile(r"^FAILED\s+(\S+?): (.*)$", re.M)


# ---------------------------------------------------------------- helpers

def prepare(db, bulk=0):
    """The schema, the demo data and (bulk > 0) a table of bulk rows that
    makes the dump span several gzip members."""
    for args in (["migrate", "deploy"], ["seed"]):
        p = run(args, database=db)
        assert p.returncode == 0, p.stderr
    if bulk:
        add_bulk(db, bulk)


def add_bulk(db, rows):
    if db.kind == "pg":
        db.query("CREATE TABLE IF NOT EXISTS bulk (id bigint, note text); "
                 f"INSERT INTO bulk SELECT g, md5(g::text) || ' note ' || md5((g * 7)::text) "
                 f"FROM generate_series(1, {rows}) g")
    else:
        db.query("CREATE TABLE IF NOT EXISTS bulk (id INTEGER, note TEXT)")
        db.query("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                 f"WHERE i < {rows}) INSERT INTO bulk SELECT i, hex(randomblob(16)) || ' note ' "
                 "|| hex(randomblob(16)) FROM s")


def benv(bdir, **extra):
    e = {"BACKUP_DIR": str(bdir)}
    e.update(extra)
    return e


def take(db, bdir, tier="daily", now=None, env=None):
    """One backup; returns the data file's path."""
    e = benv(bdir)
    if now:
        e["CITAPLANNER_FAKE_NOW"] = now
    if env:
        e.update(env)
    p = run(["backup", "--json", "--tier", tier], database=db, env=e)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["files"][tier]


def verify(db, bdir, *args, env=None):
    e = benv(bdir)
    if env:
        e.update(env)
    return run(["backup", "verify", *args], database=db, env=e, timeout=300)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def write_backup(path, data, manifest, sidecar=True, with_manifest=True, raw_len=None,
                 sidecar_hash=None):
    """Write a data file under path with sidecars that describe it (the
    sidecar's hash may be overridden, either sidecar left out): so that a
    case is caught by what it damages, not by a stale checksum."""
    with open(path, "wb") as f:
        f.write(data)
    name = os.path.basename(path)
    if sidecar:
        with open(path + ".sha256", "w") as f:
            f.write(f"{sidecar_hash or sha(data)}  {name}\n")
    if with_manifest:
        m = dict(manifest)
        m["file"] = name
        m["sha256"] = sha(data)
        m["bytes"] = dict(m["bytes"], compressed=len(data))
        if raw_len is not None:
            m["bytes"]["uncompressed"] = raw_len
        with open(path + ".json", "w") as f:
            json.dump(m, f)


def corruption_cases(good):
    """{case: (data, write_backup options)} from a good backup's bytes."""
    data = open(good, "rb").read()
    raw = gzip.decompress(data)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    cut_raw = raw[: int(len(raw) * 0.6)]
    cases = {
        "flipped_bit": (bytes(flipped), {}),
        "truncated_quarter": (data[: len(data) // 4], {}),
        "truncated_half": (data[: len(data) // 2], {}),
        "truncated_trailer": (data[:-5], {}),
        "truncated_last_byte": (data[:-1], {}),
        "garbage_appended": (data + b"this is not gzip data\n" * 3, {}),
        "gzip_of_truncated_dump": (gzip.compress(cut_raw), {"raw_len": len(cut_raw)}),
        "sidecar_other_hash": (data, {"sidecar_hash": sha(b"another file")}),
        "sidecar_missing": (data, {"sidecar": False}),
        "empty_file": (b"", {"raw_len": 0}),
        "not_gzip": (raw[:4096], {}),
    }
    return cases


def db_dump(db):
    """The whole content of the database as text, to compare before and after."""
    if db.kind == "sqlite":
        import sqlite3
        con = sqlite3.connect(db.path)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()
    user, password, host, port, dbname = pg_parts(db.url)
    env = dict(os.environ, PGPASSWORD=password, PGUSER=user, PGHOST=host, PGPORT=str(port),
               PGDATABASE=dbname)
    p = subprocess.run(["pg_dump", "--no-owner", "--no-acl"], env=env, capture_output=True,
                       text=True, check=True)
    return "\n".join(l for l in p.stdout.splitlines()
                     if not l.startswith(("\\restrict", "\\unrestrict")))


STALE_SCRATCH = "citaplanner_verify_1000000000_"  # created in 2001: stale for any run


def scratch_databases():
    """The scratch databases of deep verifications (the stale ones a test
    plants on purpose excepted)."""
    rows = psql(pg_admin_url(), "SELECT datname FROM pg_database WHERE datname LIKE "
                                "'citaplanner_verify_%'")
    return [r[0] for r in rows if not r[0].startswith(STALE_SCRATCH)]


# ---------------------------------------------------------------- tests

def test_good_backups_pass_in_every_tier_with_json(db, tmp_path):
    prepare(db, bulk=30000)
    bdir = tmp_path / "bk"
    # A Sunday the 1st: daily, weekly and monthly (links), then a premigrate.
    p = run(["backup", "--json"], database=db,
            env=benv(bdir, CITAPLANNER_FAKE_NOW="2025-06-01T02:00:00"))
    assert p.returncode == 0, p.stderr
    take(db, bdir, tier="premigrate", now="2025-06-01T03:00:00")

    p = verify(db, bdir)
    assert p.returncode == 0, p.stdout + p.stderr
    oks = OK_RE.findall(p.stdout)
    assert len(oks) == 4, p.stdout
    assert {os.path.basename(os.path.dirname(f)) for f in oks} == \
        {"daily", "weekly", "monthly", "premigrate"}
    assert "4 backups verified: 4 OK, 0 FAILED" in p.stdout

    p = verify(db, bdir, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["ok"] is True and out["count"] == 4 and out["failed"] == 0
    for r in out["results"]:
        data = open(r["file"], "rb").read()
        assert r["ok"] and r["sha256"] == sha(data)
        assert r["bytes"]["compressed"] == len(data)
        assert r["bytes"]["uncompressed"] == len(gzip.decompress(data))
        # bulk rows make several gzip members: each one is checked.
        assert r["gzip_members"] >= 2

    # The guide's spelling, with a named file.
    f = out["results"][0]["file"]
    p = run(["backup", "--verify-only", f], database=db, env=benv(bdir))
    assert p.returncode == 0 and f"OK      {f}" in p.stdout, p.stdout + p.stderr


def test_corruption_matrix_detected_by_verify_and_refused_by_restore(db, tmp_path):
    prepare(db, bulk=30000)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    manifest = json.load(open(good + ".json"))
    ext = ".sqlite.gz" if db.kind == "sqlite" else ".sql.gz"
    cases = corruption_cases(good)

    # Each damaged copy in its own directory, under its own valid name.
    dmg = tmp_path / "damaged"
    dmg.mkdir()
    paths = {}
    for i, (case, (data, opts)) in enumerate(sorted(cases.items())):
        path = str(dmg / f"citaplanner_daily_20250101_0000{i:02d}{ext}")
        write_backup(path, data, manifest, **opts)
        paths[case] = path

    expect = {
        "flipped_bit": r"corrupt gzip data|incorrect data check|invalid",
        "truncated_quarter": r"truncated",
        "truncated_half": r"truncated",
        "truncated_trailer": r"truncated",
        "truncated_last_byte": r"truncated",
        "garbage_appended": r"trailing garbage",
        "gzip_of_truncated_dump": (r"closing line .* is missing" if db.kind == "pg"
                                   else r"damaged|malformed|does not open|integrity"),
        "sidecar_other_hash": r"SHA-256 mismatch.*\.sha256",
        "sidecar_missing": r"checksum file .* is missing",
        "empty_file": r"empty file",
        "not_gzip": r"not a gzip file",
    }
    before = db_dump(db)
    for case, path in sorted(paths.items()):
        p = verify(db, bdir, path)
        assert p.returncode == 6, f"{case}: {p.returncode} {p.stdout} {p.stderr}"
        m = FAILED_RE.search(p.stdout)
        assert m and m.group(1) == path, f"{case}: {p.stdout}"
        assert re.search(expect[case], m.group(2)), f"{case}: {m.group(2)}"
        assert "1 backup verified: 0 OK, 1 FAILED" in p.stdout

        p = run(["backup", "restore", path, "--yes"], database=db, env=benv(bdir))
        # Refused (exit 7, SPEC §2), not a failure of the command.
        assert p.returncode == 7, f"restore {case}: {p.returncode} {p.stdout} {p.stderr}"
        assert "refusing to restore" in p.stderr, p.stderr
    # Nothing was touched: no safety backup either (refused before it).
    assert db_dump(db) == before
    assert not os.path.isdir(bdir / "prerestore") or not os.listdir(bdir / "prerestore")
    # The files themselves are read, never changed or deleted.
    for case, path in paths.items():
        assert open(path, "rb").read() == cases[case][0]


def test_verify_reports_every_damaged_file_of_a_directory(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir, now="2025-01-09T02:00:00")
    manifest = json.load(open(good + ".json"))
    ext = os.path.basename(good)[len("citaplanner_daily_20250109_020000"):]
    cases = corruption_cases(good)
    # Damaged backups older and newer than the good one, in the daily tier.
    names = {}
    for i, case in enumerate(["truncated_half", "flipped_bit", "sidecar_missing",
                              "garbage_appended", "not_gzip"]):
        data, opts = cases[case]
        stamp = f"2025010{i + 1}_020000" if i < 3 else f"2025011{i}_020000"
        path = str(bdir / "daily" / f"citaplanner_daily_{stamp}{ext}")
        write_backup(path, data, manifest, **opts)
        names[path] = case

    p = verify(db, bdir)
    assert p.returncode == 6, p.stdout + p.stderr
    failed = dict(FAILED_RE.findall(p.stdout))
    assert set(failed) == set(names), p.stdout
    assert OK_RE.findall(p.stdout) == [good]
    assert "6 backups verified: 1 OK, 5 FAILED" in p.stdout

    p = verify(db, bdir, "--json")
    assert p.returncode == 6
    out = json.loads(p.stdout)
    assert out["failed"] == 5 and out["passed"] == 1
    assert {r["file"] for r in out["results"] if not r["ok"]} == set(names)


def test_deep_passes_and_fails_when_manifest_counts_disagree(db, tmp_path):
    prepare(db, bulk=5000)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    p = verify(db, bdir, "--deep")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "row counts match" in p.stdout and "1 OK, 0 FAILED" in p.stdout

    # The manifest is not covered by the .sha256, but the quick check counts
    # what it sees (a dump's COPY rows, the SQLite copy's tables) too.
    m = json.load(open(good + ".json"))
    m["tables"]["users"] += 1
    m["tables"]["bulk"] -= 7
    with open(good + ".json", "w") as f:
        json.dump(m, f)
    p = verify(db, bdir)
    assert p.returncode == 6, p.stdout + p.stderr
    where = "in the dump" if db.kind == "pg" else "in the backup"
    assert f"'users' has 5 rows {where}, the manifest says 6" in p.stdout, p.stdout
    p = verify(db, bdir, "--deep", "--json")
    assert p.returncode == 6, p.stdout + p.stderr
    r = json.loads(p.stdout)["results"][0]
    assert not r["ok"]
    assert "'users' has 5 rows after the restore, the manifest says 6" in r["error"]
    assert "'bulk' has 5000 rows" in r["error"]
    if db.kind == "pg":
        # The scratch databases were dropped, after a success and a failure alike.
        assert scratch_databases() == []


def test_deep_drops_its_scratch_database_when_the_dump_fails(db, tmp_path):
    if db.kind != "pg":
        return  # the SQLite deep check is the decompressed file itself
    prepare(db)
    bdir = tmp_path / "bk"
    good = take(db, bdir)
    manifest = json.load(open(good + ".json"))
    raw = gzip.decompress(open(good, "rb").read()).decode()
    # A statement that fails in the middle; header and closing line intact.
    i = raw.index("CREATE TABLE")
    bad = (raw[:i] + "SELECT 1/0;\n" + raw[i:]).encode()
    path = str(tmp_path / "citaplanner_daily_20250101_000000.sql.gz")
    write_backup(path, gzip.compress(bad), manifest, raw_len=len(bad))
    assert verify(db, bdir, path).returncode == 0
    p = verify(db, bdir, path, "--deep")
    assert p.returncode == 6, p.stdout + p.stderr
    assert "division by zero" in p.stdout
    assert scratch_databases() == []


def test_deep_sweeps_scratch_databases_left_by_a_killed_run(tmp_path, request):
    """A deep verification killed before it could drop its scratch database
    leaves it behind; the next deep verification on that server drops it
    (only ones whose creation time in the name is hours old)."""
    from conftest import Database, pg_url_for
    import uuid
    admin = pg_admin_url()
    name = "t_" + uuid.uuid4().hex[:16]
    psql(admin, f'CREATE DATABASE "{name}"')
    stale = STALE_SCRATCH + uuid.uuid4().hex[:12]
    psql(admin, f'CREATE DATABASE "{stale}"')
    try:
        db = Database("pg", pg_url_for(name, admin))
        prepare(db)
        bdir = tmp_path / "bk"
        take(db, bdir)
        p = verify(db, bdir, "--deep")
        assert p.returncode == 0, p.stdout + p.stderr
        left = [r[0] for r in psql(admin, f"SELECT datname FROM pg_database WHERE datname = '{stale}'")]
        # (Another deep verification running beside this test may be the one that swept it.)
        assert left == [], "the stale scratch database was not dropped"
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{stale}"', check=False)
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)
