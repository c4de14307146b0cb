"""The booking load the archive benchmarks put on a running `serve`: wait for
/healthz, log in as the seeded receptionist, and book through wrk and
booking_bench.lua for a number of seconds.  Shared by archive_pg_bench.py and
archive_sqlite_bench.py."""
import datetime as dt
import json
import os
import re
import subprocess
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def wait_healthy(port, tries=200):
    for _ in range(tries):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1)
            return
        except Exception:
            time.sleep(0.05)


def receptionist_token(port):
    r = urllib.request.Request("http://127.0.0.1:%d/api/v1/auth/login" % port,
                               data=json.dumps({"email": "recepcionista@citaplanner.com",
                                                "password": "prof123"}).encode(),
                               headers={"Content-Type": "application/json"}, method="POST")
    return json.load(urllib.request.urlopen(r))["token"]


def book_for(port, token, pros, round_no, secs):
    """wrk booking for secs seconds on a Monday far ahead (a new one per
    round_no); (bookings per second, p99 ms, answers other than 201)."""
    t = dt.date.today() + dt.timedelta(days=730 + 7 * round_no * 60)
    t -= dt.timedelta(days=t.weekday())
    base = int(dt.datetime(t.year, t.month, t.day, tzinfo=dt.timezone.utc).timestamp())
    out = subprocess.run(["wrk", "-t2", "-c8", "-d%ds" % secs, "--timeout", "10s", "-s",
                          os.path.join(HERE, "booking_bench.lua"), "http://127.0.0.1:%d" % port],
                         env=dict(os.environ, BENCH_TOKEN=token, BENCH_PROS=pros, BENCH_BASE=str(base),
                                  BENCH_THREADS="2"), capture_output=True, text=True, check=True).stdout
    res = dict(re.findall(r"(\w+)=([\d.]+)", out.split("RESULT")[1]))
    return float(res["created"]) / float(res["seconds"]), float(res["p99_ms"]), int(res["other"])
