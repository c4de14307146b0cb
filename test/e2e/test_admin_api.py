"""The master admin's API (issue 8): list, run and verify backups as jobs,
the stats object; staff sessions and anonymous calls are refused."""
import fcntl
import glob
import json
import os
import time

import pytest

from conftest import run
from server import Server

MASTER_PASSWORD = "master-pass-31337"


def prepare(db):
    for args in (["migrate", "deploy"], ["seed"]):
        p = run(args, database=db)
        assert p.returncode == 0, p.stderr
    p = run(["admin", "master-password"], database=db, input=MASTER_PASSWORD + "\n")
    assert p.returncode == 0, p.stderr


def login(srv, path, body):
    status, _, r = srv.request("POST", path, body=body)
    assert status == 200, r
    return {"Authorization": f"Bearer {r['token']}"}


def wait_job(srv, auth, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, body = srv.request("GET", f"/api/v1/admin/backups/jobs/{job_id}",
                                      headers=auth)
        assert status == 200, body
        if body["job"]["status"] != "running":
            return body["job"]
        time.sleep(0.05)
    raise AssertionError("job did not end")


ENDPOINTS = [("GET", "/api/v1/admin/backups"), ("POST", "/api/v1/admin/backups"),
             ("POST", "/api/v1/admin/backups/verify"), ("GET", "/api/v1/admin/stats"),
             ("GET", "/api/v1/admin/backups/jobs/0123456789abcdef")]


def slow_pg_dump(tmp_path):
    """A pg_dump that takes a second longer: a job that is surely still running."""
    real = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    script = tmp_path / "slow_pg_dump"
    script.write_text(f'#!/bin/sh\nsleep 1\nexec {real} "$@"\n')
    script.chmod(0o755)
    return str(script)


def test_admin_backups_and_stats(db, tmp_path):
    bdir = tmp_path / "backups"
    prepare(db)
    env = {"BACKUP_DIR": str(bdir)}
    if db.kind == "pg":
        env["PG_DUMP"] = slow_pg_dump(tmp_path)
    with Server(db, env) as srv:
        srv.wait_ready()
        staff = login(srv, "/api/v1/auth/login",
                      {"email": "admin@citaplanner.com", "password": "admin123"})
        for method, path in ENDPOINTS:
            status, _, body = srv.request(method, path)
            assert status == 401, (method, path, body)
            status, _, body = srv.request(method, path, headers=staff)
            assert status == 403, (method, path, body)
        assert not bdir.exists()  # nothing ran

        master = login(srv, "/api/v1/admin/login", {"password": MASTER_PASSWORD})
        status, _, body = srv.request("GET", "/api/v1/admin/backups", headers=master)
        assert status == 200 and body["items"] == [] and body["next_cursor"] is None

        # Run one: 202, a job to poll, then the backup is in the list.
        status, headers, body = srv.request("POST", "/api/v1/admin/backups", headers=master)
        assert status == 202, body
        job = body["job"]
        assert job["kind"] == "backup" and job["status"] in ("running", "succeeded")
        assert headers["Location"] == f"/api/v1/admin/backups/jobs/{job['id']}"
        if db.kind == "pg":  # pg_dump sleeps: the job still runs, a second one waits its turn
            status, _, body = srv.request("POST", "/api/v1/admin/backups", headers=master)
            assert status == 409 and body["error"]["code"] == "job_running"
        job = wait_job(srv, master, job["id"])
        assert job["status"] == "succeeded", job
        assert job["error"] is None and job["finished_at"].endswith("Z")
        daily = job["result"]["files"]["daily"]
        assert os.path.isfile(daily) and len(job["result"]["sha256"]) == 64
        status, _, body = srv.request("GET", "/api/v1/admin/backups", headers=master)
        assert status == 200 and body["count"] == len(body["items"]) >= 1
        assert daily in [it["path"] for it in body["items"]]
        assert {it["origin"] for it in body["items"]} == {"citaplanner"}  # where it came from
        assert body["tiers"]["daily"] == 1

        # A named tier, and an invalid one.
        status, _, body = srv.request("POST", "/api/v1/admin/backups", body={"tier": "monthly"},
                                      headers=master)
        assert status == 202
        job = wait_job(srv, master, body["job"]["id"])
        assert job["status"] == "succeeded" and list(job["result"]["files"]) == ["monthly"]
        status, _, body = srv.request("POST", "/api/v1/admin/backups", body={"tier": "hourly"},
                                      headers=master)
        assert status == 400 and body["error"]["field"] == "tier"

        # Another process holds the backup lock: the job ends failed, "locked".
        with open(bdir / ".lock", "a+") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX | fcntl.LOCK_NB)
            status, _, body = srv.request("POST", "/api/v1/admin/backups", headers=master)
            assert status == 202
            job = wait_job(srv, master, body["job"]["id"])
        assert job["status"] == "failed" and "another backup or restore" in job["error"]

        # Verify all: good.  Then damage one and verify it by name.
        status, _, body = srv.request("POST", "/api/v1/admin/backups/verify", headers=master)
        assert status == 202 and body["job"]["kind"] == "verify"
        job = wait_job(srv, master, body["job"]["id"])
        assert job["status"] == "succeeded", job
        assert job["result"]["failed"] == 0 and job["result"]["checked"] >= 2
        with open(daily, "r+b") as f:
            f.seek(os.path.getsize(daily) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x55]))
        name = os.path.basename(daily)
        status, _, body = srv.request("POST", "/api/v1/admin/backups/verify",
                                      body={"files": [name]}, headers=master)
        assert status == 202
        job = wait_job(srv, master, body["job"]["id"])
        assert job["status"] == "failed" and job["result"]["checked"] == 1
        assert job["result"]["files"][0]["file"] == name
        assert job["result"]["files"][0]["ok"] is False
        recorded = json.loads((bdir / ".last_verify.json").read_text())
        assert recorded["failed"] == 1 and recorded["failed_files"] == [name]
        # The outcomes are kept with their time (issue 16): the list shows the latest run
        # and each backup's latest result, the damaged one's and the others' before it.
        status, _, body = srv.request("GET", "/api/v1/admin/backups", headers=master)
        assert status == 200
        last = body["last_verify"]
        assert (last["ok"], last["damaged"]) == (0, 1) and last["at"].endswith("Z"), last
        by_name = {it["file"]: it["verify"] for it in body["items"]}
        assert by_name[name]["ok"] is False and by_name[name]["error"], by_name
        assert by_name[name]["at"] == last["at"]
        others = [v for n, v in by_name.items() if n != name]
        assert others and all(v["ok"] is True and "error" not in v or v["error"] is None
                              for v in others), others
        assert (bdir / ".verify_results.json").exists()
        assert oct(os.stat(bdir / ".verify_results.json").st_mode & 0o777) == "0o600"
        # Only names of backups in BACKUP_DIR, never a path.
        status, _, body = srv.request("POST", "/api/v1/admin/backups/verify",
                                      body={"files": ["../../etc/passwd"]}, headers=master)
        assert status == 400 and body["error"]["field"] == "files"
        status, _, body = srv.request("GET", "/api/v1/admin/backups/jobs/ffffffffffffffff",
                                      headers=master)
        assert status == 404

        # Stats: the object of `citaplanner stats`.
        status, _, body = srv.request("GET", "/api/v1/admin/stats", headers=master)
        assert status == 200
        p = run(["stats", "--json"], database=db, env={"BACKUP_DIR": str(bdir)})
        cli = json.loads(p.stdout)
        assert set(body) == set(cli) and set(body["database"]) == set(cli["database"])
        assert [t["name"] for t in body["database"]["tables"]] == \
            [t["name"] for t in cli["database"]["tables"]]
        assert body["backups"]["count"] == cli["backups"]["count"] >= 2

        assert srv.stop() == 0
    assert srv.log.count("admin: ") >= 8
    assert "admin: run a backup (master admin from 127.0.0.1)" in srv.log


def test_cli_and_api_give_the_same_json_for_the_same_backups(db, tmp_path):
    """`backup list --json` and GET /api/v1/admin/backups, `backup verify
    --json` and the verify job: one shape (backup/report.h), so the two
    front ends cannot drift apart again (issue 21)."""
    bdir = tmp_path / "backups"
    prepare(db)
    env = {"BACKUP_DIR": str(bdir)}
    for when in ("2025-01-09T02:00:00", "2025-01-10T02:00:00"):
        p = run(["backup"], database=db, env=dict(env, CITAPLANNER_FAKE_NOW=when))
        assert p.returncode == 0, p.stderr
    # One damaged, so that a failure's shape is compared too.
    damaged = next(p for p in bdir.glob("daily/*") if p.name.endswith((".sql.gz", ".sqlite.gz")))
    raw = bytearray(damaged.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    damaged.write_bytes(bytes(raw))

    p = run(["backup", "list", "--json"], database=db, env=env)
    assert p.returncode == 0, p.stderr
    cli_list = json.loads(p.stdout)
    p = run(["backup", "verify", "--json"], database=db, env=env)
    assert p.returncode == 6, p.stderr
    cli_verify = json.loads(p.stdout)
    assert len(cli_list["backups"]) >= 2

    with Server(db, env) as srv:
        srv.wait_ready()
        master = login(srv, "/api/v1/admin/login", {"password": MASTER_PASSWORD})
        status, _, api_list = srv.request("GET", "/api/v1/admin/backups", headers=master)
        assert status == 200
        status, _, body = srv.request("POST", "/api/v1/admin/backups/verify", headers=master)
        assert status == 202
        job = wait_job(srv, master, body["job"]["id"])
        assert srv.stop() == 0

    # The list: the same entries; the API adds only "size_bytes", the same number, and
    # "verify", the latest verification of each (issue 16).
    for item in api_list["items"]:
        assert item.pop("size_bytes") == item["size"]
        item.pop("verify")
    assert api_list["items"] == cli_list["backups"]
    for k in ("backup_dir", "count", "tiers"):
        assert api_list[k] == cli_list[k]

    # Verification: the same results; "file" is the name the caller used (the API
    # names backups, the command line gives paths), seconds are the run's own.
    api_verify = job["result"]
    assert job["status"] == "failed"
    assert api_verify["files"] == api_verify["results"]
    for a, c in zip(api_verify["results"], cli_verify["results"]):
        assert a.pop("file") == a["name"] and c.pop("file") == c["path"]
        a.pop("seconds"), c.pop("seconds")
    assert api_verify["results"] == cli_verify["results"]
    assert any(r["ok"] is False and r["name"] == damaged.name for r in cli_verify["results"])
    for k in ("ok", "count", "checked", "passed", "failed"):
        assert api_verify[k] == cli_verify[k], k
