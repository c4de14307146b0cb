"""GET /api/v1/availability (issue 7, SPEC §8-§9), on both databases.

Expected start times are computed here with Python's zoneinfo, an
implementation of the tz rules independent of the server's (libical), on
the next daylight-saving days of New York and Madrid; plus existing
appointments, cancellations, a professional's own hours, the past, the
limits and the roles.
"""
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from test_appointments import (BRANCH, CORTE, FACIAL, PRO1, PRO2, booking_server, day_at,
                               future_monday)

NY = ZoneInfo("America/New_York")
MADRID = ZoneInfo("Europe/Madrid")
STEP = dt.timedelta(minutes=15)


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def nth_sunday(year, month, n):
    """The n-th Sunday of a month (n = -1: the last)."""
    if n > 0:
        d = dt.date(year, month, 1)
        d += dt.timedelta(days=(6 - d.weekday()) % 7)
        return d + dt.timedelta(weeks=n - 1)
    d = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return d - dt.timedelta(days=(d.weekday() - 6) % 7)


def next_change(month, n):
    """The next such Sunday after tomorrow."""
    today = dt.date.today()
    for year in (today.year, today.year + 1):
        d = nth_sunday(year, month, n)
        if d > today + dt.timedelta(days=1):
            return d
    raise AssertionError("unreachable")


def expected(zone, day, start_hhmm, end_hhmm, minutes):
    """Start times within [start, end) wall time of day in zone, by zoneinfo."""
    def instant(hhmm):
        h, m = map(int, hhmm.split(":"))
        return dt.datetime(day.year, day.month, day.day, h, m, tzinfo=zone).astimezone(dt.timezone.utc)
    t, end, out = instant(start_hhmm), instant(end_hhmm), []
    while t + dt.timedelta(minutes=minutes) <= end:
        out.append(t.astimezone(zone).isoformat())
        t += STEP
    return out


def setup_branch(bk, name, zone, hours):
    """A branch of the demo tenant in zone, its default hours [(dow, start, end)], and a new
    professional of that branch offering Facial; returns (branch_id, professional_id)."""
    email = f"{uuid.uuid4().hex[:8]}@{name.lower()}.example"
    bk.sql(f"INSERT INTO branches (tenant_id, name, timezone) VALUES (1, '{name}', '{zone}')")
    branch = int(bk.db.scalar(f"SELECT id FROM branches WHERE name = '{name}'"))
    bk.sql("INSERT INTO users (tenant_id, branch_id, email, password_hash, first_name, role) "
           f"SELECT 1, {branch}, '{email}', password_hash, '{name}', 'PROFESSIONAL' FROM users "
           "WHERE email = 'pro1@citaplanner.com'")
    pro = int(bk.db.scalar(f"SELECT id FROM users WHERE email = '{email}'"))
    bk.sql(f"INSERT INTO service_professionals (tenant_id, service_id, user_id) "
           f"VALUES (1, {FACIAL}, {pro})")
    for dow, start, end in hours:
        bk.sql("INSERT INTO working_hours (tenant_id, branch_id, day_of_week, start_time, "
               f"end_time) VALUES (1, {branch}, {dow}, '{start}', '{end}')")
    return branch, pro


def availability(bk, who="recep", **q):
    query = "&".join(f"{k}={v}" for k, v in q.items())
    return bk.call(who, "GET", "/api/v1/availability?" + query)


def slots_of(answer, pro):
    return next(p["slots"] for p in answer["professionals"] if p["professional_id"] == pro)


def test_new_york_daylight_saving_days(bk):
    branch, pro = setup_branch(bk, "NY", "America/New_York", [(0, "00:00", "06:00")])
    spring, fall = next_change(3, 2), next_change(11, 1)
    counts = {}
    for day in (spring, fall, spring + dt.timedelta(days=7)):
        st, a = availability(bk, service_id=FACIAL, branch_id=branch, **{"from": day, "to": day})
        assert st == 200, a
        assert a["timezone"] == "America/New_York"
        got = slots_of(a, pro)
        assert got == expected(NY, day, "00:00", "06:00", 60), day
        counts[day] = len(got)
    # 00:00-06:00 on the wall lasts 5 h in spring, 7 h in autumn, 6 h otherwise.
    assert list(counts.values()) == [17, 25, 21]
    st, a = availability(bk, service_id=FACIAL, branch_id=branch, **{"from": spring, "to": spring})
    got = slots_of(a, pro)
    assert got[7].endswith("T01:45:00-05:00") and got[8].endswith("T03:00:00-04:00")


def test_madrid_23_and_25_hour_days(bk):
    branch, pro = setup_branch(bk, "Madrid", "Europe/Madrid", [(0, "00:00", "23:59")])
    spring, autumn = next_change(3, -1), next_change(10, -1)
    for day, n in ((spring, 88), (autumn, 96), (spring + dt.timedelta(days=7), 92)):
        st, a = availability(bk, service_id=FACIAL, branch_id=branch, professional_id=pro,
                             **{"from": day, "to": day})
        assert st == 200, a
        got = slots_of(a, pro)
        assert len(got) == n, day
        assert got == expected(MADRID, day, "00:00", "23:59", 60)


def test_around_appointments_and_after_cancellation(bk):
    day = future_monday(8)
    q = dict(service_id=FACIAL, branch_id=BRANCH, professional_id=PRO1,
             **{"from": day, "to": day})
    st, a = availability(bk, **q)
    assert st == 200 and [p["professional_id"] for p in a["professionals"]] == [PRO1]
    before = slots_of(a, PRO1)
    assert before == expected(ZoneInfo("America/Mexico_City"), day, "09:00", "18:00", 60)
    _, appt = bk.book(start=day_at(day, 10))
    _, next_one = bk.book(start=day_at(day, 11))  # back to back
    after = slots_of(availability(bk, **q)[1], PRO1)
    taken = {day_at(day, h, m) for h in (9, 10, 11) for m in (0, 15, 30, 45)} - {day_at(day, 9)}
    assert after == [s for s in before if s not in taken]
    assert day_at(day, 9) in after and day_at(day, 12) in after
    bk.call("recep", "POST", f"/api/v1/appointments/{appt['id']}/cancel",
                {"reason": "la clienta avisó"})
    again = slots_of(availability(bk, **q)[1], PRO1)
    assert day_at(day, 10) in again and day_at(day, 10, 15) not in again
    # A NO_SHOW frees the slot too; the list now equals the one before any booking.
    # (Set directly: the API takes NO_SHOW only after the start, test_day_one_api.py.)
    bk.sql(f"UPDATE appointments SET status = 'NO_SHOW' WHERE id = {next_one['id']}")
    assert slots_of(availability(bk, **q)[1], PRO1) == before


def test_professional_specific_hours(bk):
    day = future_monday(9)
    q = dict(service_id=CORTE, branch_id=BRANCH, **{"from": day, "to": day})
    default = slots_of(availability(bk, **q)[1], PRO2)
    assert default == expected(ZoneInfo("America/Mexico_City"), day, "09:00", "18:00", 45)
    # pro2's own rows at this branch replace the branch's for every day.
    bk.sql("INSERT INTO working_hours (tenant_id, branch_id, user_id, day_of_week, start_time, "
           f"end_time) VALUES (1, {BRANCH}, {PRO2}, 1, '12:00', '14:00')")
    own = slots_of(availability(bk, **q)[1], PRO2)
    assert own == expected(ZoneInfo("America/Mexico_City"), day, "12:00", "14:00", 45)
    tuesday = day + dt.timedelta(days=1)
    st, a = availability(bk, service_id=CORTE, branch_id=BRANCH, **{"from": tuesday, "to": tuesday})
    assert slots_of(a, PRO2) == []
    # Booking follows the same hours.
    st, e = bk.book(start=day_at(day, 10), service_id=CORTE, professional_id=PRO2)
    assert st == 409 and e["error"]["code"] == "outside_working_hours"
    assert bk.book(start=day_at(day, 12), service_id=CORTE, professional_id=PRO2)[0] == 201


def test_never_in_the_past(bk):
    today = dt.date.today()
    st, a = availability(bk, service_id=FACIAL, branch_id=BRANCH,
                         **{"from": today - dt.timedelta(days=3), "to": today + dt.timedelta(days=2)})
    assert st == 200
    now = dt.datetime.now(dt.timezone.utc)
    slots = slots_of(a, PRO1)
    assert all(dt.datetime.fromisoformat(s) > now - dt.timedelta(minutes=1) for s in slots)
    assert slots == sorted(slots, key=dt.datetime.fromisoformat)


def test_limits_roles_and_references(bk):
    day = future_monday(9)
    ok = dict(service_id=FACIAL, branch_id=BRANCH)
    assert availability(bk, **ok, **{"from": day, "to": day + dt.timedelta(days=61)})[0] == 200
    st, e = availability(bk, **ok, **{"from": day, "to": day + dt.timedelta(days=62)})
    assert st == 400 and e["error"]["field"] == "to"
    st, e = availability(bk, **ok, **{"from": day, "to": day - dt.timedelta(days=1)})
    assert st == 400 and e["error"]["field"] == "to"
    st, e = availability(bk, branch_id=BRANCH, **{"from": day, "to": day})
    assert st == 400 and e["error"]["field"] == "service_id"
    st, e = availability(bk, **ok, **{"from": "2030-02-30", "to": day})
    assert st == 400 and e["error"]["field"] == "from"
    st, e = availability(bk, service_id=999, branch_id=BRANCH, **{"from": day, "to": day})
    assert st == 404 and e["error"]["field"] == "service_id"
    st, e = availability(bk, service_id=FACIAL, branch_id=999, **{"from": day, "to": day})
    assert st == 404 and e["error"]["field"] == "branch_id"
    st, e = availability(bk, **ok, professional_id=PRO2, **{"from": day, "to": day})
    assert st == 409 and e["error"]["code"] == "not_offered"
    st, e = availability(bk, **ok, professional_id=9999, **{"from": day, "to": day})
    assert st == 404
    assert availability(bk, None, **ok, **{"from": day, "to": day})[0] == 401
    for who in ("admin", "manager", "recep", "pro1"):
        assert availability(bk, who, **ok, **{"from": day, "to": day})[0] == 200, who
