#!/usr/bin/python3
"""Race for online booking (issue 18): 200 clients, through the public API,
for the same 10 times of one professional, all at once.  The database's
no-overlap rule must let exactly 10 through and refuse the other 190 with
409 slot_taken: no double booking, no 500, no lost answer.

    scripts/pg-throwaway.sh /usr/bin/python3 bench/online_booking_race.py [sqlite|pg ...]

Environment: CITAPLANNER_BIN (default build/citaplanner), CITAPLANNER_TEST_PG_URL
(given by pg-throwaway.sh) for PostgreSQL.  Each backend gets a fresh,
seeded database.  Prints the counts per answer and the wall time, and
exits 1 unless the counts are exactly 10 and 190.
"""
import collections
import datetime as dt
import os
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("CITAPLANNER_BIN", os.path.join(ROOT, "build", "citaplanner"))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))

from conftest import Database, pg_admin_url, pg_url_for, psql  # noqa: E402
from server import Server  # noqa: E402

CLIENTS, SLOTS = 200, 10
T, B = "race", "centro"


def one_backend(kind):
    tmp = tempfile.mkdtemp(prefix="cp-race-")
    name = None
    if kind == "sqlite":
        path = os.path.join(tmp, "data", "citaplanner.db")
        db = Database("sqlite", f"sqlite:{path}", path)
    else:
        name = "race_" + uuid.uuid4().hex[:12]
        psql(pg_admin_url(), f'CREATE DATABASE "{name}"')
        db = Database("pg", pg_url_for(name, pg_admin_url()))
    srv = Server(db, env={"BACKUP_SCHEDULE": "off"})
    try:
        srv.wait_ready()
        st, _, r = srv.request("POST", "/api/v1/auth/login",
                               {"email": "admin@citaplanner.com", "password": "admin123"})
        auth = {"Authorization": "Bearer " + r["token"]}
        st, _, r = srv.request("PUT", "/api/v1/online-booking", {
            "tenant_slug": T, "branches": [{"id": 1, "slug": B}], "enabled": True,
            "min_notice_min": 0, "limit_bookings_per_address_hour": 100000,
            "limit_bookings_per_phone_day": 1000, "limit_lookups_per_address_min": 100000},
            headers=auth)
        assert st == 200, r
        base = f"/api/v1/public/b/{T}/{B}"
        info = srv.request("GET", base)[2]
        service = info["services"][0]["id"]
        pro = [p for p in info["professionals"] if service in p["service_ids"]][0]["id"]
        day = dt.date.today() + dt.timedelta(days=7)
        while day.weekday() != 1:  # a Tuesday
            day += dt.timedelta(days=1)
        times = srv.request("GET", f"{base}/times?service_id={service}&date={day}"
                                   f"&professional_id={pro}")[2]["times"]
        starts = [t["start"] for t in times][:SLOTS]
        assert len(starts) == SLOTS, times
        # The 10 times must not overlap each other: every other free start, as long as
        # the service (a 60-minute one takes 4 starts of 15 minutes).
        dur = [s for s in info["services"] if s["id"] == service][0]["duration_min"]
        every = max(1, dur // 15)
        starts = [t["start"] for t in times][::every][:SLOTS]
        assert len(starts) == SLOTS, "not enough free times that day"

        results = [None] * CLIENTS
        gate = threading.Barrier(CLIENTS)

        def client(i):
            body = {"service_id": service, "professional_id": pro, "start": starts[i % SLOTS],
                    "first_name": f"Cliente{i}", "last_name": "Carrera",
                    "phone": f"55 {80000000 + i}"}
            gate.wait()
            st, _, r = srv.request("POST", f"{base}/bookings", body,
                                   headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=120)
            code = r["error"]["code"] if isinstance(r, dict) and "error" in r else None
            results[i] = (st, code)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - t0
        counts = collections.Counter(results)
        booked = int(db.scalar(f"SELECT count(*) FROM appointments WHERE source = 'online' "
                               f"AND professional_id = {pro} AND status = 'PENDING'"))
        ok = counts[(201, None)] == SLOTS and counts[(409, "slot_taken")] == CLIENTS - SLOTS \
            and booked == SLOTS
        print(f"{kind}: {CLIENTS} clients for {SLOTS} times: "
              f"{counts[(201, None)]} booked (201), {counts[(409, 'slot_taken')]} refused "
              f"(409 slot_taken), other {sum(v for k, v in counts.items() if k not in ((201, None), (409, 'slot_taken')))} "
              f"{dict(counts)}; appointments in the database: {booked}; "
              f"ratio booked/clients {counts[(201, None)]}/{CLIENTS}; wall {wall:.2f} s")
        return ok
    finally:
        srv.stop()
        if name is not None:
            psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


def main():
    kinds = sys.argv[1:] or ["sqlite", "pg"]
    ok = all([one_backend(k) for k in kinds])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
