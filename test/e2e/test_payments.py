"""Payments API (issue 7, SPEC §7-§8), on both databases: recording, the
over-payment rule (the payments of an appointment never exceed its price),
validation, lists, roles and tenant isolation."""
import datetime as dt
import threading
import uuid

import pytest

from test_appointments import CORTE, PRO2, RECEP_ID, booking_server, day_at, future_monday


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def pay(bk, who="recep", **fields):
    body = {"amount_cents": 10000, "method": "CASH"}
    body.update(fields)
    return bk.call(who, "POST", "/api/v1/payments", body)


def appointment(bk, weeks, hour):
    st, a = bk.book(start=day_at(future_monday(weeks), hour), service_id=CORTE,
                    professional_id=PRO2)  # 45000 cents
    assert st == 201, a
    return a


def test_record_and_read_back(bk):
    a = appointment(bk, 5, 10)
    st, p = pay(bk, appointment_id=a["id"], amount_cents=20000, method="CREDIT_CARD",
                status="PARTIAL", notes="anticipo")
    assert st == 201, p
    assert p["recorded_by"] == RECEP_ID and p["amount_cents"] == 20000
    assert p["status"] == "PARTIAL" and p["method"] == "CREDIT_CARD"
    assert p["appointment_id"] == a["id"] and p["notes"] == "anticipo"
    assert abs(dt.datetime.fromisoformat(p["paid_at"].replace("Z", "+00:00"))
               - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)
    st, got = bk.call("manager", "GET", f"/api/v1/payments/{p['id']}")
    assert st == 200 and got == p
    # Money is an integer in the database.
    assert int(bk.db.scalar(f"SELECT amount_cents FROM payments WHERE id = {p['id']}")) == 20000
    st, q = pay(bk, amount_cents=500, paid_at="2030-01-05T12:00:00-06:00")  # a tip: no appointment
    assert st == 201 and q["appointment_id"] is None and q["status"] == "PAID"
    assert q["paid_at"] == "2030-01-05T18:00:00Z"


def test_payments_never_exceed_the_price(bk):
    a = appointment(bk, 5, 12)
    assert pay(bk, appointment_id=a["id"], amount_cents=30000)[0] == 201
    st, e = pay(bk, appointment_id=a["id"], amount_cents=15001)
    assert st == 409 and e["error"]["code"] == "overpayment"
    assert "15000" in e["error"]["message"]
    assert pay(bk, appointment_id=a["id"], amount_cents=15000, status="PENDING")[0] == 201
    assert pay(bk, appointment_id=a["id"], amount_cents=1)[0] == 409
    total = bk.db.scalar(f"SELECT sum(amount_cents) FROM payments WHERE appointment_id = {a['id']}")
    assert int(total) == 45000


def test_racing_payments_cannot_both_pass(bk):
    a = appointment(bk, 5, 14)
    results = []
    barrier = threading.Barrier(8)

    def one():
        barrier.wait()
        results.append(pay(bk, appointment_id=a["id"], amount_cents=30000)[0])

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [201] + [409] * 7
    assert bk.db.count("payments", f"WHERE appointment_id = {a['id']}") == 1


def test_validation(bk):
    for bad in ({"amount_cents": 0}, {"amount_cents": -5}, {"amount_cents": 10.5},
                {"amount_cents": "100"}, {"method": "BITCOIN"}, {"status": "DONE"},
                {"paid_at": "2030-01-05 12:00"}, {"appointment_id": 0}):
        st, e = pay(bk, **bad)
        assert st == 400, bad
        assert e["error"]["field"] == next(iter(bad)), bad
    st, e = bk.call("recep", "POST", "/api/v1/payments", {"method": "CASH"})
    assert st == 400 and e["error"]["field"] == "amount_cents"
    st, e = pay(bk, appointment_id=999999)
    assert st == 404 and e["error"]["field"] == "appointment_id"


def test_lists(bk):
    a = appointment(bk, 6, 10)
    ids = [pay(bk, appointment_id=a["id"], amount_cents=1000)[1]["id"] for _ in range(3)]
    st, page = bk.call("recep", "GET", f"/api/v1/payments?appointment_id={a['id']}")
    assert st == 200 and [p["id"] for p in page["items"]] == ids
    today = dt.date.today()
    q = f"/api/v1/payments?from={today - dt.timedelta(days=1)}&to={today + dt.timedelta(days=1)}"
    st, page = bk.call("recep", "GET", q + "&limit=2")
    assert st == 200 and len(page["items"]) == 2 and page["next_cursor"]
    st, rest = bk.call("recep", "GET", q + f"&limit=200&cursor={page['next_cursor']}")
    assert st == 200 and set(ids) <= {p["id"] for p in page["items"] + rest["items"]}
    st, e = bk.call("recep", "GET", "/api/v1/payments")
    assert st == 400 and e["error"]["field"] == "from"
    st, old = bk.call("recep", "GET", "/api/v1/payments?from=2030-01-05&to=2030-01-05")
    assert st == 200 and [p["amount_cents"] for p in old["items"]] in ([], [500])


def test_roles_and_tenants(bk):
    a = appointment(bk, 6, 12)
    assert pay(bk, None, appointment_id=a["id"])[0] == 401
    assert pay(bk, "pro1", appointment_id=a["id"])[0] == 403
    assert bk.call("pro2", "GET", f"/api/v1/payments?appointment_id={a['id']}")[0] == 403
    st, p = pay(bk, "manager", appointment_id=a["id"], amount_cents=100)
    assert st == 201 and p["recorded_by"] == 2
    assert pay(bk, "admin", appointment_id=a["id"], amount_cents=100)[0] == 201
    email = f"admin-{uuid.uuid4().hex[:8]}@otro.example"
    bk.sql(f"INSERT INTO tenants (name, email, timezone) VALUES ('Otro', '{email}', 'UTC')")
    bk.sql("INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
           f"SELECT t.id, '{email}', u.password_hash, 'Otro', 'ADMIN' FROM tenants t, users u "
           f"WHERE t.email = '{email}' AND u.email = 'admin@citaplanner.com'")
    other = bk.login(email, "admin123")
    assert bk.call(other, "GET", f"/api/v1/payments/{p['id']}")[0] == 404
    st, e = pay(bk, other, appointment_id=a["id"])
    assert st == 404 and e["error"]["field"] == "appointment_id"
    st, page = bk.call(other, "GET", f"/api/v1/payments?appointment_id={a['id']}")
    assert st == 200 and page["items"] == []
