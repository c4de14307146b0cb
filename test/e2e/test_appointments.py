"""Appointments API (issue 7, SPEC §7-§8), on both databases: booking, the
409 slot_taken guard, Idempotency-Key, reschedule, cancel, the status life
cycle, lists, roles (PROFESSIONAL narrowing) and tenant isolation.

One seeded server per backend serves the whole module (module-scoped
fixture `bk`); each test books on its own day so tests do not interfere.
The helpers at the top (BookingServer, booking_server, day_at) are shared
with test_availability.py, test_payments.py and test_booking_concurrency.py.
"""
import datetime as dt
import json
import os
import sqlite3
import uuid

import pytest

from conftest import Database, pg_admin_url, pg_url_for, psql
from server import Server

MX = dt.timezone(dt.timedelta(hours=-6))  # America/Mexico_City: no daylight saving since 2022

# Seeded rows (SPEC §5): ids in creation order on a fresh database.
FACIAL, MASAJE, CORTE = 1, 2, 4  # Facial 60 min / 85000; Masaje Relajante 90; Corte 45
PRO1, PRO2, ADMIN_ID, RECEP_ID = 3, 4, 1, 5
BRANCH = 1
PASSWORDS = {"admin": ("admin@citaplanner.com", "admin123"),
             "manager": ("manager@citaplanner.com", "manager123"),
             "recep": ("recepcionista@citaplanner.com", "prof123"),
             "pro1": ("pro1@citaplanner.com", "prof123"),
             "pro2": ("pro2@citaplanner.com", "prof123")}


class BookingServer:
    """A running seeded server, its database, and a token per demo role."""

    def __init__(self, db, server):
        self.db = db
        self.server = server
        self.tokens = {}

    def login(self, email, password):
        st, _, body = self.server.request("POST", "/api/v1/auth/login",
                                          {"email": email, "password": password})
        assert st == 200, body
        return body["token"]

    def token(self, who):
        if who not in self.tokens:
            self.tokens[who] = self.login(*PASSWORDS[who])
        return self.tokens[who]

    def call(self, who, method, path, body=None, headers=None):
        """(status, json) as `who` (a role name, a raw token, or None)."""
        h = dict(headers or {})
        if who is not None:
            tok = self.token(who) if who in PASSWORDS else who
            h["Authorization"] = "Bearer " + tok
        st, _, payload = self.server.request(method, path, body, headers=h)
        return st, payload

    def sql(self, text):
        """Run literal SQL on the database directly (test setup only)."""
        return self.db.query(text)

    def book(self, who="recep", **fields):
        body = {"client_id": 1, "service_id": FACIAL, "professional_id": PRO1,
                "branch_id": BRANCH}
        body.update(fields)
        return self.call(who, "POST", "/api/v1/appointments", body)


def booking_server(request, tmp_path_factory, env=None):
    """Start a seeded server on a fresh database of request.param's backend;
    a generator for a module-scoped fixture."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("bk") / "data" / "citaplanner.db"
        db = Database("sqlite", f"sqlite:{path}", str(path))
        name = None
    else:
        admin = pg_admin_url()
        name = "t_" + uuid.uuid4().hex[:16]
        psql(admin, f'CREATE DATABASE "{name}"')
        db = Database("pg", pg_url_for(name, admin))
    srv = Server(db, env=env)
    try:
        srv.wait_ready()
        yield BookingServer(db, srv)
    finally:
        srv.stop()
        if name is not None:
            psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


def future_monday(weeks_ahead):
    """A Monday at least weeks_ahead weeks from today (UTC)."""
    d = dt.date.today() + dt.timedelta(weeks=weeks_ahead)
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


def day_at(day, hh, mm=0, tz=MX):
    """RFC 3339 of a wall time in the seeded branch's zone."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz).isoformat()


def parse(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def test_book_and_read_back(bk):
    day = future_monday(10)
    st, a = bk.book(start=day_at(day, 10), notes="primera visita")
    assert st == 201, a
    assert a["status"] == "PENDING" and a["price_cents"] == 85000
    assert a["start_at"] == f"{day.isoformat()}T10:00:00-06:00"
    assert parse(a["end_at"]) - parse(a["start_at"]) == dt.timedelta(minutes=60)
    assert a["created_by"] == RECEP_ID and a["notes"] == "primera visita"
    # An instant in UTC ("Z") is the same instant: shown in the branch's zone.
    st, b = bk.book(start=f"{day.isoformat()}T17:00:00Z")
    assert st == 201, b
    assert b["start_at"] == f"{day.isoformat()}T11:00:00-06:00"
    st, got = bk.call("admin", "GET", f"/api/v1/appointments/{a['id']}")
    assert st == 200 and got == a
    rows = bk.sql(f"SELECT start_at, end_at, price_cents FROM appointments WHERE id = {a['id']}")
    assert rows[0][0].startswith(f"{day.isoformat()} 16:00:00") and int(rows[0][2]) == 85000


def test_validation_and_references(bk):
    day = future_monday(11)
    st, e = bk.call("recep", "POST", "/api/v1/appointments",
                    {"client_id": 1, "service_id": FACIAL, "branch_id": BRANCH,
                     "start": day_at(day, 10)})
    assert st == 400 and e["error"]["field"] == "professional_id"
    st, e = bk.book(start=f"{day.isoformat()}T10:00:00")  # no offset
    assert st == 400 and e["error"]["field"] == "start"
    st, e = bk.book(start=day_at(day, 10), client_id=99999)
    assert st == 404 and e["error"]["field"] == "client_id"
    st, e = bk.book(start=day_at(day, 10), service_id=99999)
    assert st == 404 and e["error"]["field"] == "service_id"
    st, e = bk.book(start=day_at(day, 10), service_id=MASAJE)  # pro1 does not offer it
    assert st == 409 and e["error"]["code"] == "not_offered"
    st, e = bk.book(start=day_at(day, 7))  # before opening (09:00)
    assert st == 409 and e["error"]["code"] == "outside_working_hours"
    st, e = bk.book(start=day_at(day, 17, 30))  # 60 minutes do not fit before 18:00
    assert st == 409 and e["error"]["code"] == "outside_working_hours"
    st, e = bk.book(start=day_at(day + dt.timedelta(days=6), 10))  # Sunday: closed
    assert st == 409 and e["error"]["code"] == "outside_working_hours"
    st, e = bk.book(start=day_at(dt.date.today() - dt.timedelta(days=3), 10))
    assert st == 400 and e["error"]["field"] == "start"
    # Only ADMIN and MANAGER may override working hours.
    st, e = bk.book(start=day_at(day, 7), override_hours=True)
    assert st == 403 and e["error"]["field"] == "override_hours"
    st, a = bk.book("manager", start=day_at(day, 7), override_hours=True)
    assert st == 201, a
    assert bk.sql(f"SELECT count(*) FROM appointments WHERE id = {a['id']}")[0][0] in (1, "1")


def test_overlap_is_409_with_the_conflict_and_back_to_back_is_fine(bk):
    day = future_monday(12)
    st, a = bk.book(start=day_at(day, 10))
    assert st == 201
    st, e = bk.book(start=day_at(day, 10, 30), client_id=2)
    assert st == 409, e
    assert e["error"]["code"] == "slot_taken"
    assert e["error"]["conflict"] == {"start": a["start_at"], "end": a["end_at"]}
    # Touching ends do not overlap; another professional is independent.
    assert bk.book(start=day_at(day, 11))[0] == 201
    assert bk.book(start=day_at(day, 9))[0] == 201
    assert bk.book(start=day_at(day, 10, 30), service_id=CORTE, professional_id=PRO2)[0] == 201


def test_idempotency_key(bk):
    day = future_monday(13)
    key = {"Idempotency-Key": "retry-" + uuid.uuid4().hex}
    body = {"client_id": 3, "service_id": FACIAL, "professional_id": PRO1, "branch_id": BRANCH,
            "start": day_at(day, 12)}
    st1, a = bk.call("recep", "POST", "/api/v1/appointments", body, key)
    st2, b = bk.call("recep", "POST", "/api/v1/appointments", body, key)
    assert (st1, st2) == (201, 200)
    assert a == b
    assert bk.sql("SELECT count(*) FROM appointments WHERE idempotency_key = "
                  f"'{key['Idempotency-Key']}'")[0][0] in (1, "1")
    other = dict(body, start=day_at(day, 14))
    st, e = bk.call("recep", "POST", "/api/v1/appointments", other, key)
    assert st == 409 and e["error"]["code"] == "idempotency_key_reused"
    st, e = bk.call("recep", "POST", "/api/v1/appointments", body, {"Idempotency-Key": "a b"})
    assert st == 400 and e["error"]["field"] == "Idempotency-Key"


def test_reschedule_into_a_taken_slot_leaves_the_original(bk):
    day = future_monday(14)
    _, a = bk.book(start=day_at(day, 10))
    _, b = bk.book(start=day_at(day, 12), client_id=2)
    st, e = bk.call("recep", "PATCH", f"/api/v1/appointments/{b['id']}",
                    {"start": day_at(day, 10, 15)})
    assert st == 409 and e["error"]["code"] == "slot_taken"
    assert e["error"]["conflict"]["start"] == a["start_at"]
    st, got = bk.call("recep", "GET", f"/api/v1/appointments/{b['id']}")
    assert got["start_at"] == b["start_at"] and got["end_at"] == b["end_at"]
    # A free slot: moved, same length, checked like a booking (hours).
    st, moved = bk.call("recep", "PATCH", f"/api/v1/appointments/{b['id']}",
                        {"start": day_at(day, 15), "notes": "movida"})
    assert st == 200, moved
    assert moved["start_at"] == f"{day.isoformat()}T15:00:00-06:00"
    assert parse(moved["end_at"]) - parse(moved["start_at"]) == dt.timedelta(hours=1)
    st, e = bk.call("recep", "PATCH", f"/api/v1/appointments/{b['id']}",
                    {"start": day_at(day, 20)})
    assert st == 409 and e["error"]["code"] == "outside_working_hours"


def test_cancelled_slot_is_bookable_again(bk):
    day = future_monday(15)
    _, a = bk.book(start=day_at(day, 10))
    assert bk.book(start=day_at(day, 10), client_id=2)[0] == 409
    st, c = bk.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel",
                {"reason": "la clienta avisó"})
    assert st == 200 and c["status"] == "CANCELLED"
    st, again = bk.book(start=day_at(day, 10), client_id=2)
    assert st == 201, again
    st, e = bk.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel",
                {"reason": "la clienta avisó"})
    assert st == 409 and e["error"]["code"] == "invalid_transition"
    # Nothing leaves CANCELLED (it would also double-book the slot).
    st, e = bk.call("admin", "PATCH", f"/api/v1/appointments/{a['id']}", {"status": "PENDING"})
    assert st == 409 and e["error"]["code"] == "invalid_transition"


def test_status_life_cycle(bk):
    day = future_monday(16)
    _, a = bk.book(start=day_at(day, 10))
    path = f"/api/v1/appointments/{a['id']}"
    assert bk.call("recep", "PATCH", path, {"status": "CONFIRMED"})[1]["status"] == "CONFIRMED"
    assert bk.call("recep", "PATCH", path, {"status": "COMPLETED"})[1]["status"] == "COMPLETED"
    for to in ("CANCELLED", "NO_SHOW", "PENDING", "CONFIRMED"):
        st, e = bk.call("admin", "PATCH", path, {"status": to})
        assert st == 409 and e["error"]["code"] == "invalid_transition", to
    st, e = bk.call("admin", "PATCH", path, {"start": day_at(day, 12)})
    assert st == 409 and e["error"]["code"] == "invalid_transition"
    st, e = bk.call("recep", "PATCH", path, {"status": "DONE"})
    assert st == 400 and e["error"]["field"] == "status"
    # A walk-in goes PENDING -> COMPLETED; NO_SHOW waits for the start (test_day_one_api.py).
    _, b = bk.book(start=day_at(day, 12))
    st, done = bk.call("recep", "PATCH", f"/api/v1/appointments/{b['id']}", {"status": "COMPLETED"})
    assert st == 200 and done["status"] == "COMPLETED"
    _, c = bk.book(start=day_at(day, 14))
    st, e = bk.call("recep", "PATCH", f"/api/v1/appointments/{c['id']}", {"status": "NO_SHOW"})
    assert st == 409 and e["error"]["code"] == "no_show_before_start"


def test_list_filters_range_and_pages(bk):
    day = future_monday(17)
    ids = [bk.book(start=day_at(day, h))[1]["id"] for h in (10, 12, 14)]
    ids.append(bk.book(start=day_at(day, 10), service_id=CORTE, professional_id=PRO2)[1]["id"])
    q = f"/api/v1/appointments?from={day.isoformat()}&to={day.isoformat()}"
    st, page = bk.call("recep", "GET", q)
    assert st == 200 and sorted(i["id"] for i in page["items"]) == sorted(ids)
    st, page = bk.call("recep", "GET", q + f"&professional_id={PRO2}")
    assert [i["id"] for i in page["items"]] == ids[3:]
    bk.call("recep", "POST", f"/api/v1/appointments/{ids[0]}/cancel",
                {"reason": "la clienta avisó"})
    st, page = bk.call("recep", "GET", q + "&status=CANCELLED")
    assert [i["id"] for i in page["items"]] == [ids[0]]
    # RFC 3339 bounds, half-open: [11:00, 14:00) holds only the 12:00 one.
    frm = day_at(day, 11).replace("+", "%2B").replace("-06:00", "-06:00")
    to = day_at(day, 14).replace("+", "%2B")
    st, page = bk.call("recep", "GET", f"/api/v1/appointments?from={frm}&to={to}")
    assert st == 200 and [i["id"] for i in page["items"]] == [ids[1]]
    # Pages of 2 walk all four, none twice.
    seen, cursor = [], None
    while True:
        st, page = bk.call("recep", "GET", q + "&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert st == 200 and len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    st, e = bk.call("recep", "GET", "/api/v1/appointments")
    assert st == 400 and e["error"]["field"] == "from"
    far = day + dt.timedelta(days=100)
    st, e = bk.call("recep", "GET", f"/api/v1/appointments?from={day}&to={far}")
    assert st == 400 and e["error"]["field"] == "to"
    st, e = bk.call("recep", "GET", q + "&status=LATE")
    assert st == 400 and e["error"]["field"] == "status"


def test_professional_sees_and_marks_only_their_own(bk):
    day = future_monday(18)
    _, mine = bk.book(start=day_at(day, 10))
    _, theirs = bk.book(start=day_at(day, 10), service_id=CORTE, professional_id=PRO2)
    q = f"/api/v1/appointments?from={day}&to={day}"
    st, page = bk.call("pro1", "GET", q)
    assert st == 200 and [i["id"] for i in page["items"]] == [mine["id"]]
    assert bk.call("pro1", "GET", q + f"&professional_id={PRO2}")[0] == 403
    assert bk.call("pro1", "GET", f"/api/v1/appointments/{theirs['id']}")[0] == 404
    assert bk.call("pro1", "GET", f"/api/v1/appointments/{mine['id']}")[0] == 200
    # May not book, cancel, reschedule, confirm; may complete their own.
    assert bk.book("pro1", start=day_at(day, 15))[0] == 403
    assert bk.call("pro1", "POST", f"/api/v1/appointments/{mine['id']}/cancel",
                {"reason": "la clienta avisó"})[0] == 403
    path = f"/api/v1/appointments/{mine['id']}"
    assert bk.call("pro1", "PATCH", path, {"start": day_at(day, 15)})[0] == 403
    assert bk.call("pro1", "PATCH", path, {"status": "CONFIRMED"})[0] == 403
    assert bk.call("pro1", "PATCH", f"/api/v1/appointments/{theirs['id']}",
                   {"status": "NO_SHOW"})[0] == 404
    bk.call("recep", "PATCH", path, {"status": "CONFIRMED"})
    st, done = bk.call("pro1", "PATCH", path, {"status": "COMPLETED"})
    assert st == 200 and done["status"] == "COMPLETED"


def test_roles_and_authentication(bk):
    day = future_monday(19)
    assert bk.book(None, start=day_at(day, 10))[0] == 401
    assert bk.call(None, "GET", f"/api/v1/appointments?from={day}&to={day}")[0] == 401
    assert bk.book("admin", start=day_at(day, 10))[0] == 201
    assert bk.book("manager", start=day_at(day, 11))[0] == 201
    assert bk.book("recep", start=day_at(day, 12))[0] == 201


def test_another_tenant_sees_nothing(bk):
    day = future_monday(20)
    _, a = bk.book(start=day_at(day, 10))
    email = f"admin-{uuid.uuid4().hex[:8]}@otro.example"
    bk.sql(f"INSERT INTO tenants (name, email, timezone) VALUES ('Otro', '{email}', 'UTC')")
    bk.sql("INSERT INTO branches (tenant_id, name) "
           f"SELECT id, 'Otra' FROM tenants WHERE email = '{email}'")
    bk.sql("INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
           f"SELECT t.id, '{email}', u.password_hash, 'Otro', 'ADMIN' FROM tenants t, users u "
           f"WHERE t.email = '{email}' AND u.email = 'admin@citaplanner.com'")
    other = bk.login(email, "admin123")
    assert bk.call(other, "GET", f"/api/v1/appointments/{a['id']}")[0] == 404
    assert bk.call(other, "PATCH", f"/api/v1/appointments/{a['id']}",
                   {"notes": "x"})[0] == 404
    assert bk.call(other, "POST", f"/api/v1/appointments/{a['id']}/cancel",
                {"reason": "la clienta avisó"})[0] == 404
    st, page = bk.call(other, "GET", f"/api/v1/appointments?from={day}&to={day}")
    assert st == 200 and page["items"] == []
    # Tenant 1's client, service, professional and branch are not theirs.
    st, e = bk.book(other, start=day_at(day, 12), override_hours=True)
    assert st == 404, e
