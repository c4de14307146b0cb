"""No double booking under concurrency (SPEC §7, issue 7), on both databases.

200 POST /appointments at once over 32 keep-alive connections, all for one
professional and overlapping times: exactly one 201, every other answer 409
slot_taken, one row in the table.  Then 200 adjacent (touching) slots at
once: all 201.  The guard is the database's rule, not a check in the API,
so this is the test that a check-then-insert design fails.
"""
import datetime as dt
import http.client
import json
import threading

import pytest

from test_appointments import FACIAL, PRO1, booking_server, future_monday

N_REQUESTS = 200
N_CONNECTIONS = 32


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def fire(bk, bodies):
    """POST every body at once (a barrier releases the 32 threads together);
    returns [(status, json)] in the order of bodies."""
    token = bk.token("admin")
    results = [None] * len(bodies)
    barrier = threading.Barrier(N_CONNECTIONS)

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", bk.server.port, timeout=60)
        try:
            conn.connect()
            barrier.wait()
            for i in range(k, len(bodies), N_CONNECTIONS):
                conn.request("POST", "/api/v1/appointments", json.dumps(bodies[i]),
                             {"Content-Type": "application/json",
                              "Authorization": "Bearer " + token})
                r = conn.getresponse()
                results[i] = (r.status, json.loads(r.read()))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(N_CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r is not None for r in results), "some requests got no answer"
    return results


def body(start):
    # override_hours: the admin books outside working hours, so the times can
    # spread freely; the no-overlap rule applies all the same.
    return {"client_id": 1, "service_id": FACIAL, "professional_id": PRO1, "branch_id": 1,
            "start": start.isoformat(), "override_hours": True}


def count_for(bk, day_from, day_to):
    return int(bk.db.scalar(
        "SELECT count(*) FROM appointments WHERE professional_id = %d "
        "AND start_at >= '%s 00:00:00+00' AND start_at < '%s 00:00:00+00'"
        % (PRO1, day_from.isoformat(), day_to.isoformat())))


def test_overlapping_bookings_exactly_one_wins(bk):
    day = future_monday(30)
    base = dt.datetime(day.year, day.month, day.day, 15, 0, tzinfo=dt.timezone.utc)
    # 60-minute bookings starting every minute across 50 minutes: all overlap each other.
    bodies = [body(base + dt.timedelta(minutes=i % 50)) for i in range(N_REQUESTS)]
    results = fire(bk, bodies)
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 1, sorted(set(statuses))
    assert statuses.count(409) == N_REQUESTS - 1
    assert all(p["error"]["code"] == "slot_taken" for s, p in results if s == 409)
    winner = next(p for s, p in results if s == 201)
    # Each refusal names the one appointment in the way.
    assert all(p["error"]["conflict"] == {"start": winner["start_at"], "end": winner["end_at"]}
               for s, p in results if s == 409)
    assert count_for(bk, day, day + dt.timedelta(days=1)) == 1


def test_adjacent_bookings_all_succeed(bk):
    day = future_monday(32)
    base = dt.datetime(day.year, day.month, day.day, 0, 0, tzinfo=dt.timezone.utc)
    # Touching 60-minute slots: [t, t+1h), [t+1h, t+2h), ... over a bit more than 8 days.
    bodies = [body(base + dt.timedelta(hours=i)) for i in range(N_REQUESTS)]
    results = fire(bk, bodies)
    assert [s for s, _ in results] == [201] * N_REQUESTS, \
        [p for s, p in results if s != 201][:3]
    assert len({p["id"] for _, p in results}) == N_REQUESTS
    assert count_for(bk, day, day + dt.timedelta(days=10)) == N_REQUESTS
