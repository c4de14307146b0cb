"""The staff app's day one, server side (issue 16), on both databases:
rescheduling past the appointment itself (availability's
exclude_appointment_id, PATCH end and professional_id), the walk-in
(CONFIRMED at once, PENDING -> COMPLETED), no-show only after the start,
cancel with a reason and its undo, time off, working-hours changes that
leave appointments outside, phones in E.164, a client's whole history,
services checked before anything is written, and the list of error codes.

One seeded server per backend (module fixture `bk`, test_appointments.py's);
each test books on its own weeks so that tests do not interfere.
"""
import datetime as dt
import uuid

import pytest

from test_appointments import (ADMIN_ID, BRANCH, CORTE, FACIAL, PRO1, PRO2, booking_server,
                               day_at, future_monday, parse)


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def slots_of(bk, day, pro=PRO1, service=FACIAL, extra="", who="recep"):
    st, av = bk.call(who, "GET", f"/api/v1/availability?service_id={service}&branch_id={BRANCH}"
                     f"&professional_id={pro}&from={day}&to={day}{extra}")
    assert st == 200, av
    return av["professionals"][0]["slots"]


def book_past(bk, hours_ago=2, **fields):
    """An appointment that started hours_ago (the manager may book in the past)."""
    start = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours_ago)).replace(
        second=0, microsecond=0)
    st, a = bk.book("manager", start=start.isoformat(), override_hours=True, **fields)
    assert st == 201, a
    return a


def test_availability_can_leave_out_the_appointment_being_moved(bk):
    day = future_monday(30)
    _, a = bk.book(start=day_at(day, 13))
    plain = slots_of(bk, day)
    assert day_at(day, 13, 30) not in plain and day_at(day, 13) not in plain
    moving = slots_of(bk, day, extra=f"&exclude_appointment_id={a['id']}")
    assert day_at(day, 13, 30) in moving and day_at(day, 13) in moving
    assert day_at(day, 12, 30) in moving
    st, e = bk.call("recep", "GET", f"/api/v1/availability?service_id={FACIAL}&branch_id={BRANCH}"
                    f"&from={day}&to={day}&exclude_appointment_id=999999")
    assert st == 404 and e["error"]["code"] == "not_found"
    assert e["error"]["field"] == "exclude_appointment_id"


def test_move_onto_its_own_time_resize_and_change_professional(bk):
    day = future_monday(31)
    _, a = bk.book(start=day_at(day, 13))
    path = f"/api/v1/appointments/{a['id']}"
    # Half an hour later: overlaps only itself.
    st, m = bk.call("recep", "PATCH", path, {"start": day_at(day, 13, 30)})
    assert st == 200, m
    assert m["start_at"] == day_at(day, 13, 30) and m["end_at"] == day_at(day, 14, 30)
    st, m = bk.call("recep", "PATCH", path, {"start": day_at(day, 13)})
    assert st == 200 and m["end_at"] == day_at(day, 14)
    # Resize: the end moves, the start stays.
    st, m = bk.call("recep", "PATCH", path, {"end": day_at(day, 14, 30)})
    assert st == 200, m
    assert m["start_at"] == day_at(day, 13) and m["end_at"] == day_at(day, 14, 30)
    for bad in (day_at(day, 13), day_at(day, 12)):
        st, e = bk.call("recep", "PATCH", path, {"end": bad})
        assert st == 400 and e["error"]["code"] == "invalid" and e["error"]["field"] == "end"
    # A resize into another appointment is refused by the no-overlap rule.
    _, b = bk.book(start=day_at(day, 15), client_id=2)
    st, e = bk.call("recep", "PATCH", path, {"end": day_at(day, 15, 30)})
    assert st == 409 and e["error"]["code"] == "slot_taken"
    # Move and resize at once.
    st, m = bk.call("recep", "PATCH", path, {"start": day_at(day, 10), "end": day_at(day, 10, 45)})
    assert st == 200 and parse(m["end_at"]) - parse(m["start_at"]) == dt.timedelta(minutes=45)
    # Another professional: PRO2 does not offer the facial.
    st, e = bk.call("recep", "PATCH", path, {"professional_id": PRO2})
    assert st == 409 and e["error"]["code"] == "professional_unavailable", e
    bk.sql(f"INSERT INTO service_professionals (tenant_id, service_id, user_id) "
           f"VALUES (1, {FACIAL}, {PRO2})")
    st, m = bk.call("recep", "PATCH", path, {"professional_id": PRO2})
    assert st == 200 and m["professional_id"] == PRO2 and m["start_at"] == day_at(day, 10)
    assert bk.call("pro1", "PATCH", f"/api/v1/appointments/{b['id']}",
                   {"end": day_at(day, 16, 30)})[0] == 403


def test_walk_in_confirmed_and_pending_to_completed(bk):
    day = future_monday(32)
    st, a = bk.book(start=day_at(day, 10), status="CONFIRMED")
    assert st == 201 and a["status"] == "CONFIRMED"
    st, b = bk.book(start=day_at(day, 12))
    assert st == 201 and b["status"] == "PENDING"
    st, done = bk.call("recep", "PATCH", f"/api/v1/appointments/{b['id']}",
                       {"status": "COMPLETED"})
    assert st == 200 and done["status"] == "COMPLETED"
    st, e = bk.book(start=day_at(day, 14), status="COMPLETED")
    assert st == 400 and e["error"]["field"] == "status"


def test_no_show_only_after_the_start(bk):
    day = future_monday(33)
    _, a = bk.book(start=day_at(day, 10))
    for who in ("recep", "admin"):
        st, e = bk.call(who, "PATCH", f"/api/v1/appointments/{a['id']}", {"status": "NO_SHOW"})
        assert st == 409 and e["error"]["code"] == "no_show_before_start", e
        assert e["error"]["field"] == "status"
    assert bk.call("recep", "GET", f"/api/v1/appointments/{a['id']}")[1]["status"] == "PENDING"
    past = book_past(bk, client_id=3)
    st, ns = bk.call("pro1", "PATCH", f"/api/v1/appointments/{past['id']}", {"status": "NO_SHOW"})
    assert st == 200 and ns["status"] == "NO_SHOW"


def test_cancel_needs_a_reason_and_keeps_it(bk):
    day = future_monday(34)
    _, a = bk.book(start=day_at(day, 10), status="CONFIRMED")
    path = f"/api/v1/appointments/{a['id']}"
    assert a["cancel_reason"] is None and a["cancelled_at"] is None
    for body in (None, {}, {"reason": "   "}, {"reason": None}):
        st, e = bk.call("recep", "POST", path + "/cancel", body)
        assert st == 400 and e["error"]["code"] == "required", (body, e)
        assert e["error"]["field"] == "reason"
    assert bk.call("recep", "GET", path)[1]["status"] == "CONFIRMED"
    st, c = bk.call("recep", "POST", path + "/cancel", {"reason": "se enfermó"})
    assert st == 200 and c["status"] == "CANCELLED" and c["cancel_reason"] == "se enfermó"
    assert c["cancelled_at"].startswith(dt.date.today().isoformat()[:4])
    assert c["cancelled_from"] == "CONFIRMED"
    assert bk.call("recep", "GET", path)[1] == c
    rows = bk.sql(f"SELECT cancel_reason, cancelled_from FROM appointments WHERE id = {a['id']}")
    assert tuple(rows[0]) == ("se enfermó", "CONFIRMED")


def test_uncancel_same_day_by_admin_or_manager(bk):
    day = future_monday(35)
    _, a = bk.book(start=day_at(day, 10), status="CONFIRMED")
    path = f"/api/v1/appointments/{a['id']}"
    assert bk.call("recep", "POST", path + "/cancel", {"reason": "error"})[0] == 200
    # The reception cancels but does not undo; nor does a professional.
    for who in ("recep", "pro1"):
        st, e = bk.call(who, "POST", path + "/uncancel")
        assert st == 403 and e["error"]["code"] == "forbidden"
    st, back = bk.call("manager", "POST", path + "/uncancel")
    assert st == 200 and back["status"] == "CONFIRMED", back
    assert back["cancel_reason"] is None and back["cancelled_at"] is None
    st, e = bk.call("manager", "POST", path + "/uncancel")
    assert st == 409 and e["error"]["code"] == "invalid_transition"
    # The slot was booked meanwhile: 409 slot_taken, still cancelled.
    assert bk.call("recep", "POST", path + "/cancel", {"reason": "otra vez"})[0] == 200
    _, b = bk.book(start=day_at(day, 10), client_id=2)
    st, e = bk.call("admin", "POST", path + "/uncancel")
    assert st == 409 and e["error"]["code"] == "slot_taken", e
    assert bk.call("admin", "GET", path)[1]["status"] == "CANCELLED"
    # Another day: too late.
    assert bk.call("recep", "POST", f"/api/v1/appointments/{b['id']}/cancel",
                   {"reason": "x"})[0] == 200
    bk.sql("UPDATE appointments SET cancelled_at = '2020-01-01 12:00:00+00' "
           f"WHERE id = {a['id']}")
    st, e = bk.call("admin", "POST", path + "/uncancel")
    assert st == 409 and e["error"]["code"] == "uncancel_expired"
    # Another tenant's id is not found.
    assert bk.call("admin", "POST", "/api/v1/appointments/999999/uncancel")[0] == 404
