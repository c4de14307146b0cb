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
    # PATCH cannot cancel around the reason either
    st, e = bk.call("admin", "PATCH", path, {"status": "CANCELLED"})
    assert st == 400 and e["error"]["code"] == "required" and e["error"]["field"] == "reason", e
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


def new_professional(bk, service=FACIAL):
    """A professional of branch 1 offering service, for tests that change its hours."""
    st, u = bk.call("admin", "POST", "/api/v1/users", {
        "email": f"pro-{uuid.uuid4().hex[:8]}@bellavita.example", "password": "prof12345",
        "first_name": "Nueva", "last_name": "Estilista", "role": "PROFESSIONAL", "branch_id": BRANCH})
    assert st == 201, u
    bk.sql(f"INSERT INTO service_professionals (tenant_id, service_id, user_id) "
           f"VALUES (1, {service}, {u['id']})")
    return u["id"]


def test_time_off_hides_slots_refuses_bookings_and_asks_over_appointments(bk):
    day = future_monday(36)
    pro = new_professional(bk)
    _, a = bk.book(start=day_at(day, 16), professional_id=pro)
    body = {"user_id": pro, "start": day_at(day, 12), "end": day_at(day, 18), "reason": "curso"}
    # Only ADMIN and MANAGER give time off.
    for who in ("recep", "pro1"):
        assert bk.call(who, "POST", "/api/v1/time-off", body)[0] == 403
    st, e = bk.call("manager", "POST", "/api/v1/time-off", body)
    assert st == 409 and e["error"]["code"] == "appointments_outside_hours", e
    assert [x["id"] for x in e["error"]["appointments"]] == [a["id"]]
    listed = e["error"]["appointments"][0]
    assert listed["client_name"] == "Isabella Torres" and listed["service_name"]
    assert listed["start"] == a["start_at"] and listed["professional_id"] == pro
    assert bk.call("manager", "GET", f"/api/v1/time-off?user_id={pro}")[1]["items"] == []
    st, off = bk.call("manager", "POST", "/api/v1/time-off", dict(body, confirm=True))
    assert st == 201 and off["reason"] == "curso" and off["start"] == day_at(day, 12), off
    # Availability skips it; a booking inside it is refused, even with override.
    slots = slots_of(bk, day, pro=pro)
    assert day_at(day, 11) in slots and day_at(day, 11, 15) not in slots
    assert not [s for s in slots if s >= day_at(day, 12)]
    for who, extra in (("recep", {}), ("manager", {"override_hours": True})):
        st, e = bk.book(who, start=day_at(day, 13), professional_id=pro, **extra)
        assert st == 409 and e["error"]["code"] == "professional_unavailable", e
    st, e = bk.call("recep", "PATCH", f"/api/v1/appointments/{a['id']}", {"start": day_at(day, 14)})
    assert st == 409 and e["error"]["code"] == "professional_unavailable"
    # Reading: staff anyone's, a professional only its own.
    st, got = bk.call("recep", "GET", f"/api/v1/time-off?user_id={pro}&from={day}&to={day}")
    assert st == 200 and [x["id"] for x in got["items"]] == [off["id"]]
    assert bk.call("pro1", "GET", f"/api/v1/time-off?user_id={pro}")[0] == 403
    assert bk.call("pro1", "GET", "/api/v1/time-off")[1]["items"] == []
    st, e = bk.call("manager", "POST", "/api/v1/time-off", dict(body, end=day_at(day, 12)))
    assert st == 400 and e["error"]["field"] == "end"
    st, e = bk.call("manager", "POST", "/api/v1/time-off", dict(body, user_id=999999))
    assert st == 404 and e["error"]["field"] == "user_id"
    # Removed: bookable again.
    assert bk.call("recep", "DELETE", f"/api/v1/time-off/{off['id']}")[0] == 403
    assert bk.call("admin", "DELETE", f"/api/v1/time-off/{off['id']}")[0] == 204
    assert bk.call("admin", "DELETE", f"/api/v1/time-off/{off['id']}")[0] == 404
    assert bk.book(start=day_at(day, 13), professional_id=pro)[0] == 201


def test_working_hours_that_strand_appointments_ask_first(bk):
    day = future_monday(37)
    pro = new_professional(bk)
    _, a = bk.book(start=day_at(day, 16), professional_id=pro)   # Monday 16:00-17:00
    _, b = bk.book(start=day_at(day, 10), professional_id=pro)   # Monday 10:00-11:00
    # Own hours for Monday with a break 13:00-14:00: 16:00 falls outside.
    hours = {"branch_id": BRANCH, "user_id": pro, "hours": [
        {"day_of_week": d, "start_time": "09:00", "end_time": "13:00"} for d in range(1, 6)] + [
        {"day_of_week": d, "start_time": "14:00", "end_time": "15:00"} for d in range(1, 6)]}
    st, e = bk.call("manager", "PUT", "/api/v1/working-hours", hours)
    assert st == 409 and e["error"]["code"] == "appointments_outside_hours", e
    assert [x["id"] for x in e["error"]["appointments"]] == [a["id"]]
    assert bk.call("manager", "GET", f"/api/v1/working-hours?user_id={pro}")[1]["items"] == []
    st, rows = bk.call("manager", "PUT", "/api/v1/working-hours?confirm=1", hours)
    assert st == 200 and len(rows["items"]) == 10, rows
    # Deleting Monday's morning would strand the 10:00 one.
    monday = [r for r in rows["items"] if r["day_of_week"] == 1 and r["start_time"] == "09:00"][0]
    st, e = bk.call("admin", "DELETE", f"/api/v1/working-hours/{monday['id']}")
    assert st == 409 and [x["id"] for x in e["error"]["appointments"]] == [b["id"]]
    # So would shortening it; lengthening strands nothing.
    path = f"/api/v1/working-hours/{monday['id']}"
    st, e = bk.call("admin", "PATCH", path, {"start_time": "10:30"})
    assert st == 409 and e["error"]["code"] == "appointments_outside_hours"
    assert bk.call("admin", "PATCH", path, {"end_time": "13:30"})[0] == 200
    st, e = bk.call("admin", "PATCH", path, {"start_time": "10:30", "confirm": True})
    assert st == 200 and e["start_time"] == "10:30"
    assert bk.call("admin", "DELETE", path + "?confirm=1")[0] == 204
    # A new row never strands anything that fitted before.
    st, r = bk.call("admin", "POST", "/api/v1/working-hours", {
        "branch_id": BRANCH, "user_id": pro, "day_of_week": 6, "start_time": "10:00",
        "end_time": "12:00"})
    assert st == 201, r


def test_phones_in_e164_and_duplicates_named(bk):
    path = "/api/v1/clients"
    st, c = bk.call("recep", "POST", path, {"first_name": "Paola", "phone": "55 3131 0001"})
    assert st == 201 and c["phone"] == "+525531310001", c
    for form in ("5531310001", "+52 55 3131 0001", "0052 55 3131 0001", "+52 1 55 3131 0001",
                 "(55) 3131-0001"):
        st, e = bk.call("recep", "POST", path, {"first_name": "Otra", "phone": form})
        assert st == 409 and e["error"]["code"] == "duplicate", (form, e)
        assert e["error"]["field"] == "phone" and e["error"]["existing_id"] == c["id"]
    # The seed's numbers, stored with spaces, are the same numbers.
    st, e = bk.call("recep", "POST", path, {"first_name": "Copia", "phone": "5511110002"})
    assert st == 409 and e["error"]["existing_id"] == 2, e
    # Search by any form.
    for q in ("5531310001", "%2B52%2055%203131%200001", "3131"):
        st, page = bk.call("recep", "GET", f"{path}?q={q}")
        assert st == 200 and c["id"] in [x["id"] for x in page["items"]], q
    # Another country's number keeps its code; the tenant's default can change.
    st, us = bk.call("recep", "POST", path, {"first_name": "Ann", "phone": "+1 (415) 555-0100"})
    assert st == 201 and us["phone"] == "+14155550100"
    st, p = bk.call("recep", "PATCH", f"{path}/{c['id']}", {"phone": "55 3131 0002"})
    assert st == 200 and p["phone"] == "+525531310002"
    assert bk.call("admin", "GET", "/api/v1/tenant")[1]["default_country_code"] == "52"
    for bad in ("0", "1234", "+34", "3a"):
        st, e = bk.call("admin", "PATCH", "/api/v1/tenant", {"default_country_code": bad})
        assert st == 400 and e["error"]["field"] == "default_country_code", bad
    st, t = bk.call("admin", "PATCH", "/api/v1/tenant", {"default_country_code": "34"})
    assert st == 200 and t["default_country_code"] == "34"
    try:
        st, es = bk.call("recep", "POST", path, {"first_name": "Lola", "phone": "612 345 678"})
        assert st == 201 and es["phone"] == "+34612345678"
    finally:
        bk.sql("UPDATE tenants SET default_country_code = '52' WHERE id = 1")


def test_admin_sets_a_password_and_ends_the_sessions(bk):
    from conftest import run
    st, u = bk.call("admin", "POST", "/api/v1/users", {
        "email": f"recep-{uuid.uuid4().hex[:8]}@bellavita.example", "password": "primera123",
        "first_name": "Rosa", "role": "RECEPTIONIST", "branch_id": BRANCH})
    assert st == 201, u
    old = bk.login(u["email"], "primera123")
    assert bk.call(old, "GET", "/api/v1/auth/me")[0] == 200
    path = f"/api/v1/users/{u['id']}/password"
    for who in ("manager", "recep", old):
        st, e = bk.call(who, "POST", path, {"password": "segunda123"})
        assert st == 403 and e["error"]["code"] == "forbidden", (who, e)
    st, e = bk.call("admin", "POST", path, {"password": "corta"})
    assert st == 400 and e["error"]["field"] == "password"
    assert bk.call("admin", "POST", "/api/v1/users/999999/password",
                   {"password": "segunda123"})[0] == 404
    st, _ = bk.call("admin", "POST", path, {"password": "segunda123"})
    assert st == 204
    assert bk.call(old, "GET", "/api/v1/auth/me")[0] == 401
    st, _, _ = bk.server.request("POST", "/api/v1/auth/login",
                                 {"email": u["email"], "password": "primera123"})
    assert st == 401
    fresh = bk.login(u["email"], "segunda123")
    # The master admin sets any tenant's user's; deactivating is PATCH active:false.
    p = run(["admin", "master-password"], database=bk.db, input="master-pass-31337\n")
    assert p.returncode == 0, p.stderr
    st, _, m = bk.server.request("POST", "/api/v1/admin/login", {"password": "master-pass-31337"})
    assert st == 200, m
    assert bk.call(m["token"], "POST", path, {"password": "tercera123"})[0] == 204
    assert bk.call(fresh, "GET", "/api/v1/auth/me")[0] == 401
    bk.login(u["email"], "tercera123")
    st, off = bk.call("admin", "PATCH", f"/api/v1/users/{u['id']}", {"active": False})
    assert st == 200 and off["active"] is False


def test_client_history_whole_with_totals(bk):
    st, c = bk.call("recep", "POST", "/api/v1/clients",
                    {"first_name": "Historia", "last_name": "Larga", "phone": "55 4242 0001"})
    assert st == 201, c
    cid = c["id"]
    old = book_past(bk, hours_ago=24 * 200, client_id=cid)          # 200 days ago
    done = book_past(bk, hours_ago=24 * 3, client_id=cid)           # 3 days ago
    bk.call("recep", "PATCH", f"/api/v1/appointments/{done['id']}", {"status": "COMPLETED"})
    bk.call("recep", "PATCH", f"/api/v1/appointments/{old['id']}", {"status": "NO_SHOW"})
    st, p = bk.call("recep", "POST", "/api/v1/payments", {
        "appointment_id": done["id"], "amount_cents": 50000, "method": "CASH"})
    assert st == 201, p
    far = future_monday(60)                                          # over a year ahead
    _, future = bk.book(start=day_at(far, 10), client_id=cid)
    _, gone = bk.book(start=day_at(far, 12), client_id=cid)
    bk.call("recep", "POST", f"/api/v1/appointments/{gone['id']}/cancel", {"reason": "viaje"})
    st, h = bk.call("recep", "GET", f"/api/v1/clients/{cid}/history")
    assert st == 200, h
    assert h["client"]["id"] == cid and h["client"]["phone"] == "+525542420001"
    assert [a["id"] for a in h["appointments"]] == [gone["id"], future["id"], done["id"], old["id"]]
    first = h["appointments"][2]
    assert first["service_name"] == "Facial Hidratante" and first["professional_name"] == \
        "Lucía Navarro" and first["status"] == "COMPLETED"
    assert first["price_cents"] == 85000 and first["paid_cents"] == 50000
    assert h["appointments"][0]["cancel_reason"] == "viaje"
    assert h["totals"] == {"visits": 4, "completed": 1, "no_shows": 1, "cancelled": 1,
                           "spent_cents": 50000, "last_visit": done["start_at"]}
    assert bk.call("recep", "GET", "/api/v1/clients/999999/history")[0] == 404
    # A stylist sees its own clients' history, only its own appointments.
    st, mine = bk.call("pro1", "GET", f"/api/v1/clients/{cid}/history")
    assert st == 200 and len(mine["appointments"]) == 4
    assert bk.call("pro2", "GET", f"/api/v1/clients/{cid}/history")[0] == 404


def test_new_service_checked_whole_before_writing_and_coloured(bk):
    def count(name):
        return int(bk.sql(f"SELECT count(*) FROM services WHERE name = '{name}'")[0][0])

    body = {"name": "Depilación", "duration_min": 30, "price_cents": 30000,
            "professionals": [{"user_id": PRO1, "commission_pct": 40},
                              {"user_id": PRO2, "commission_pct": 140}]}
    st, e = bk.call("admin", "POST", "/api/v1/services", body)
    assert st == 400 and e["error"]["field"] == "professionals[1].commission_pct", e
    assert count("Depilación") == 0
    st, e = bk.call("admin", "POST", "/api/v1/services",
                    dict(body, professionals=[{"user_id": ADMIN_ID, "commission_pct": 10}]))
    assert st in (400, 404, 409) and count("Depilación") == 0, e
    before = int(bk.sql("SELECT count(*) FROM services WHERE tenant_id = 1")[0][0])
    body["professionals"][1]["commission_pct"] = 40
    st, s = bk.call("admin", "POST", "/api/v1/services", body)
    assert st == 201, s
    palette = ["#F472B6", "#60A5FA", "#F59E0B", "#34D399", "#A78BFA", "#F87171", "#2DD4BF",
               "#FB923C"]
    assert s["color"] == palette[before % 8]
    st, pros = bk.call("admin", "GET", f"/api/v1/services/{s['id']}/professionals")
    assert sorted(p["user_id"] for p in pros["items"]) == sorted([PRO1, PRO2])
    st, s2 = bk.call("admin", "POST", "/api/v1/services",
                     {"name": "Cejas", "duration_min": 15, "price_cents": 100, "color": None})
    assert st == 201 and s2["color"] == palette[(before + 1) % 8]
    st, s3 = bk.call("admin", "POST", "/api/v1/services",
                     {"name": "Pestañas", "duration_min": 15, "price_cents": 100,
                      "color": "#123456"})
    assert st == 201 and s3["color"] == "#123456"
    st, e = bk.call("admin", "PATCH", f"/api/v1/services/{s3['id']}", {"professionals": []})
    assert st == 400 and e["error"]["field"] == "professionals"


def test_another_tenant_reaches_none_of_it(bk):
    day = future_monday(38)
    _, a = bk.book(start=day_at(day, 10))
    bk.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel", {"reason": "x"})
    _, off = bk.call("admin", "POST", "/api/v1/time-off", {
        "user_id": PRO2, "start": day_at(day, 9), "end": day_at(day, 10), "reason": "médico"})
    email = f"admin-{uuid.uuid4().hex[:8]}@otro.example"
    bk.sql(f"INSERT INTO tenants (name, email, timezone) VALUES ('Otro', '{email}', 'UTC')")
    bk.sql("INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
           f"SELECT t.id, '{email}', u.password_hash, 'Otro', 'ADMIN' FROM tenants t, users u "
           f"WHERE t.email = '{email}' AND u.email = 'admin@citaplanner.com'")
    other = bk.login(email, "admin123")
    assert bk.call(other, "POST", f"/api/v1/appointments/{a['id']}/uncancel")[0] == 404
    assert bk.call(other, "GET", "/api/v1/clients/1/history")[0] == 404
    assert bk.call(other, "POST", f"/api/v1/users/{PRO1}/password",
                   {"password": "robada1234"})[0] == 404
    assert bk.call(other, "GET", "/api/v1/time-off")[1]["items"] == []
    assert bk.call(other, "GET", f"/api/v1/time-off?user_id={PRO2}")[1]["items"] == []
    assert bk.call(other, "DELETE", f"/api/v1/time-off/{off['id']}")[0] == 404
    st, e = bk.call(other, "POST", "/api/v1/time-off", {
        "user_id": PRO2, "start": day_at(day, 11), "end": day_at(day, 12)})
    assert st == 404 and e["error"]["field"] == "user_id"
    assert bk.call("admin", "GET", f"/api/v1/time-off?user_id={PRO2}")[1]["items"][0]["id"] == \
        off["id"]
    bk.login("pro1@citaplanner.com", "prof123")  # PRO1's password untouched


def test_agenda_in_one_read_with_names_and_paid(bk):
    day = future_monday(39)
    _, a = bk.book(start=day_at(day, 10))
    st, b = bk.book(start=day_at(day, 12), client_id=2)
    assert st == 201, b
    _, c = bk.book(start=day_at(day, 14))
    st, p = bk.call("recep", "POST", "/api/v1/payments", {"appointment_id": a["id"], "amount_cents": a["price_cents"],
                                                           "method": "CASH"})
    assert st == 201, p
    st, p = bk.call("recep", "POST", "/api/v1/payments", {"appointment_id": b["id"], "amount_cents": 100,
                                                           "method": "CASH"})
    assert st == 201, p
    bk.call("recep", "POST", f"/api/v1/appointments/{c['id']}/cancel", {"reason": "x"})
    _, cl1 = bk.call("recep", "GET", "/api/v1/clients/1")
    q = f"/api/v1/agenda?branch_id={BRANCH}&from={day}&to={day}"
    st, r = bk.call("recep", "GET", q)
    assert st == 200 and r["truncated"] is False, r
    got = {x["id"]: x for x in r["items"]}
    assert set(got) == {a["id"], b["id"], c["id"]}
    assert got[a["id"]]["client_name"] == f"{cl1['first_name']} {cl1['last_name']}".strip()
    assert got[a["id"]]["service_name"] == "Facial Hidratante" and got[a["id"]]["professional_name"]
    assert (got[a["id"]]["paid"], got[b["id"]]["paid"], got[c["id"]]["paid"]) == ("paid", "part", None)
    assert got[c["id"]]["status"] == "CANCELLED" and got[a["id"]]["start_at"] == a["start_at"]
    # the list's filters: professional, source
    st, r = bk.call("recep", "GET", q + f"&professional_id={PRO2}")
    assert st == 200 and r["items"] == []
    assert bk.call("recep", "GET", q + "&source=online")[1]["items"] == []
    # a professional: its own appointments only, and no money
    st, r = bk.call("pro1", "GET", q)
    assert st == 200 and [x["id"] for x in r["items"]] == [a["id"], b["id"], c["id"]]
    assert all(x["paid"] is None for x in r["items"]) and r["items"][0]["client_name"]
    assert bk.call("pro2", "GET", q)[1]["items"] == []
    st, e = bk.call("pro1", "GET", q + f"&professional_id={PRO2}")
    assert st == 403 and e["error"]["code"] == "forbidden"
    # refusals name the parameter
    for bad, field in ((f"/api/v1/agenda?from={day}&to={day}", "branch_id"),
                       (f"/api/v1/agenda?branch_id={BRANCH}&from={day}&to={day + dt.timedelta(days=20)}", "to"),
                       (q + "&source=phone", "source")):
        st, e = bk.call("recep", "GET", bad)
        assert st == 400 and e["error"]["field"] == field, (bad, e)
    # another tenant sees none of it
    email = f"admin-{uuid.uuid4().hex[:8]}@otro.example"
    bk.sql(f"INSERT INTO tenants (name, email, timezone) VALUES ('Otro', '{email}', 'UTC')")
    bk.sql("INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
           f"SELECT t.id, '{email}', u.password_hash, 'Otro', 'ADMIN' FROM tenants t, users u "
           f"WHERE t.email = '{email}' AND u.email = 'admin@citaplanner.com'")
    st, r = bk.call(bk.login(email, "admin123"), "GET", q)
    assert st == 200 and r["items"] == []


def test_staff_branch_and_tenant_phones_in_e164(bk):
    st, u = bk.call("admin", "PATCH", f"/api/v1/users/{PRO2}", {"phone": "55 5555 0113"})
    assert st == 200 and u["phone"] == "+525555550113", u
    st, me = bk.call("pro1", "PATCH", f"/api/v1/users/{PRO1}", {"phone": "(55) 5555-0112"})
    assert st == 200 and me["phone"] == "+525555550112", me
    st, br = bk.call("admin", "POST", "/api/v1/branches", {"name": f"Sucursal {uuid.uuid4().hex[:6]}",
                                                           "phone": "0052 55 1234 5678"})
    assert st == 201 and br["phone"] == "+525512345678", br
    st, br = bk.call("admin", "PATCH", f"/api/v1/branches/{br['id']}", {"phone": "+1 (415) 555-0100"})
    assert st == 200 and br["phone"] == "+14155550100", br
    st, t = bk.call("admin", "PATCH", "/api/v1/tenant", {"phone": "55 1111 2222"})
    assert st == 200 and t["phone"] == "+525511112222", t
    # a national number takes the calling code of the same body when it changes it
    try:
        st, t = bk.call("admin", "PATCH", "/api/v1/tenant", {"phone": "612 345 678", "default_country_code": "34"})
        assert st == 200 and t["phone"] == "+34612345678", t
        st, u = bk.call("admin", "PATCH", f"/api/v1/users/{PRO2}", {"phone": "699 111 222"})
        assert st == 200 and u["phone"] == "+34699111222", u
    finally:
        bk.sql("UPDATE tenants SET default_country_code = '52' WHERE id = 1")
    # not a number: the code and field a client's phone gets; nothing written
    for path in (f"/api/v1/users/{PRO2}", f"/api/v1/branches/{BRANCH}", "/api/v1/tenant"):
        for bad in ("1234567", "55 1234 56a8", "+1234567890123456"):
            st, e = bk.call("admin", "PATCH", path, {"phone": bad})
            assert st == 400 and (e["error"]["code"], e["error"]["field"]) == ("invalid", "phone"), (path, bad, e)
    assert bk.call("admin", "GET", f"/api/v1/users/{PRO2}")[1]["phone"] == "+34699111222"
    # null still clears it
    st, u = bk.call("admin", "PATCH", f"/api/v1/users/{PRO2}", {"phone": None})
    assert st == 200 and u["phone"] is None, u
