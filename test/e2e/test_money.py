"""Money on appointments (issue 19), on both databases: tips kept apart and
attributed to the professional, discounts (amount or percentage, reason,
per-role limit), deposits, refunds as negative movements that reference the
payment, the deposit's refund or retention after a cancellation or a
no-show.  Every rule is tried, and its refusal is shown to change nothing."""
import itertools

import pytest

from test_appointments import (CORTE, FACIAL, PRO1, PRO2, RECEP_ID, ADMIN_ID, booking_server,
                               day_at, future_monday)

_slots = itertools.count()


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def appointment(bk, service=CORTE, pro=PRO2):
    """A fresh appointment on its own hour (Corte: 45000 cents; Facial: 85000)."""
    n = next(_slots)
    st, a = bk.book(start=day_at(future_monday(30 + n // 6), 10 + n % 6), service_id=service,
                    professional_id=pro)
    assert st == 201, a
    return a


def pay(bk, who="recep", **fields):
    body = {"amount_cents": 10000, "method": "CASH"}
    body.update(fields)
    return bk.call(who, "POST", "/api/v1/payments", body)


def money(bk, a, who="recep"):
    st, m = bk.call(who, "GET", f"/api/v1/appointments/{a['id']}/money")
    assert st == 200, m
    return m


def snapshot(bk):
    """Every money row, to prove a refusal changed nothing."""
    return [bk.db.count(t) for t in ("payments", "appointment_discounts", "deposit_retentions",
                                     "discount_limits")]


def refused(bk, result, status, code, field=None):
    st, e = result
    assert st == status, e
    assert e["error"]["code"] == code, e
    if field is not None:
        assert e["error"]["field"] == field, e
    return e


def test_tip_is_kept_apart_and_goes_to_the_professional(bk):
    a = appointment(bk)
    st, p = pay(bk, appointment_id=a["id"], amount_cents=45000, tip_cents=5000)
    assert st == 201, p
    assert p["amount_cents"] == 45000 and p["tip_cents"] == 5000
    assert p["professional_id"] == PRO2 and p["kind"] == "PAYMENT"
    assert p["recorded_by"] == RECEP_ID and p["branch_id"] == 1
    m = money(bk, a)
    assert m["paid_cents"] == 45000 and m["tips_cents"] == 5000 and m["balance_cents"] == 0
    assert m["currency"] == "MXN"
    # The tip does not count against the price: the payment was exactly the price.
    before = snapshot(bk)
    refused(bk, pay(bk, appointment_id=a["id"], amount_cents=1), 409, "overpayment")
    # A tip alone, later, is fine (it is not an over-payment).
    st, t = pay(bk, appointment_id=a["id"], amount_cents=0, tip_cents=2000)
    assert st == 201 and t["tip_cents"] == 2000 and t["amount_cents"] == 0
    assert snapshot(bk)[0] == before[0] + 1
    # Without an appointment, a tip names its professional.
    refused(bk, pay(bk, amount_cents=0, tip_cents=100), 400, "invalid", "professional_id")
    st, t = pay(bk, amount_cents=0, tip_cents=100, professional_id=PRO1)
    assert st == 201 and t["professional_id"] == PRO1
    refused(bk, pay(bk, amount_cents=0, tip_cents=100, professional_id=999999), 404,
            "not_found", "professional_id")
    refused(bk, pay(bk, amount_cents=0), 400, "invalid", "amount_cents")
    refused(bk, pay(bk, amount_cents=100, tip_cents=-1), 400, "invalid", "tip_cents")


def test_discount_amount_and_percentage(bk):
    a = appointment(bk)  # 45000
    st, d = bk.call("manager", "POST", f"/api/v1/appointments/{a['id']}/discount",
                    {"kind": "PERCENT", "value": 15, "reason": "cliente frecuente"})
    assert st == 201, d
    assert d["amount_cents"] == 6750 and d["recorded_by"] == 2 and d["reason"] == "cliente frecuente"
    m = money(bk, a)
    assert m["due_cents"] == 38250 and m["discount"]["amount_cents"] == 6750
    assert "discount" not in m["actions"]
    before = snapshot(bk)
    refused(bk, bk.call("manager", "POST", f"/api/v1/appointments/{a['id']}/discount",
                        {"kind": "AMOUNT", "value": 100, "reason": "otra"}),
            409, "already_discounted")
    # Payments are checked against the price after discount.
    refused(bk, pay(bk, appointment_id=a["id"], amount_cents=38251), 409, "overpayment")
    assert snapshot(bk) == before
    assert pay(bk, appointment_id=a["id"], amount_cents=38250)[0] == 201
    # An amount; rounding of a percentage is half up (45000 * 33% = 14850 exactly;
    # 85000 * 1% = 850).
    b = appointment(bk, FACIAL, PRO1)
    st, d = bk.call("admin", "POST", f"/api/v1/appointments/{b['id']}/discount",
                    {"kind": "AMOUNT", "value": 12345, "reason": "queja"})
    assert st == 201 and d["amount_cents"] == 12345
    assert money(bk, b)["due_cents"] == 85000 - 12345


def test_discount_refusals_change_nothing(bk):
    a = appointment(bk)  # 45000
    path = f"/api/v1/appointments/{a['id']}/discount"
    before = snapshot(bk)
    for body, field in (({"kind": "PERCENT", "value": 101, "reason": "x"}, "value"),
                        ({"kind": "PERCENT", "value": 0, "reason": "x"}, "value"),
                        ({"kind": "AMOUNT", "value": 10.5, "reason": "x"}, "value"),
                        ({"kind": "GIFT", "value": 10, "reason": "x"}, "kind"),
                        ({"kind": "AMOUNT", "value": 10}, "reason"),
                        ({"kind": "AMOUNT", "value": 10, "reason": ""}, "reason")):
        refused(bk, bk.call("manager", "POST", path, body), 400, "invalid", field)
    refused(bk, bk.call("manager", "POST", path, {"kind": "AMOUNT", "value": 45001,
                                                  "reason": "x"}),
            409, "discount_exceeds_price", "value")
    # Below what was paid already.
    assert pay(bk, appointment_id=a["id"], amount_cents=40000)[0] == 201
    before = snapshot(bk)
    refused(bk, bk.call("manager", "POST", path, {"kind": "AMOUNT", "value": 5001,
                                                  "reason": "x"}),
            409, "discount_below_paid", "value")
    assert snapshot(bk) == before
    assert bk.call("manager", "POST", path, {"kind": "AMOUNT", "value": 5000,
                                             "reason": "x"})[0] == 201
    # A professional may not give discounts at all; another tenant's id is 404.
    b = appointment(bk)
    refused(bk, bk.call("pro2", "POST", f"/api/v1/appointments/{b['id']}/discount",
                        {"kind": "AMOUNT", "value": 1, "reason": "x"}), 403, "forbidden")
    refused(bk, bk.call("manager", "POST", "/api/v1/appointments/999999/discount",
                        {"kind": "AMOUNT", "value": 1, "reason": "x"}), 404, "not_found")


def test_receptionist_within_the_role_limit(bk):
    a = appointment(bk)  # 45000
    path = f"/api/v1/appointments/{a['id']}/discount"
    st, lim = bk.call("recep", "GET", "/api/v1/discount-limits")
    assert st == 200 and {"role": "RECEPTIONIST", "max_pct": 0} in lim["items"]
    before = snapshot(bk)
    e = refused(bk, bk.call("recep", "POST", path, {"kind": "AMOUNT", "value": 1, "reason": "x"}),
                403, "discount_over_limit", "value")
    assert "RECEPTIONIST" in e["error"]["message"]
    assert snapshot(bk) == before
    # Only ADMIN sets the limits.
    refused(bk, bk.call("manager", "PUT", "/api/v1/discount-limits",
                        {"role": "RECEPTIONIST", "max_pct": 10}), 403, "forbidden")
    refused(bk, bk.call("admin", "PUT", "/api/v1/discount-limits",
                        {"role": "RECEPTIONIST", "max_pct": 101}), 400, "invalid", "max_pct")
    refused(bk, bk.call("admin", "PUT", "/api/v1/discount-limits",
                        {"role": "MANAGER", "max_pct": 10}), 400, "invalid", "role")
    st, r = bk.call("admin", "PUT", "/api/v1/discount-limits", {"role": "RECEPTIONIST",
                                                                "max_pct": 10})
    assert st == 200 and r == {"role": "RECEPTIONIST", "max_pct": 10}
    refused(bk, bk.call("recep", "POST", path, {"kind": "AMOUNT", "value": 4501, "reason": "x"}),
            403, "discount_over_limit", "value")
    refused(bk, bk.call("recep", "POST", path, {"kind": "PERCENT", "value": 11, "reason": "x"}),
            403, "discount_over_limit", "value")
    st, d = bk.call("recep", "POST", path, {"kind": "PERCENT", "value": 10, "reason": "promo"})
    assert st == 201 and d["amount_cents"] == 4500 and d["recorded_by"] == RECEP_ID
    assert bk.call("admin", "PUT", "/api/v1/discount-limits",
                   {"role": "RECEPTIONIST", "max_pct": 0})[0] == 200


def test_deposit_before_the_appointment(bk):
    a = appointment(bk)
    st, d = pay(bk, appointment_id=a["id"], amount_cents=10000, kind="DEPOSIT", method="TRANSFER")
    assert st == 201 and d["kind"] == "DEPOSIT"
    m = money(bk, a)
    assert m["paid_cents"] == 10000 and m["balance_cents"] == 35000
    assert m["deposits"] == [{"payment_id": d["id"], "amount_cents": 10000, "refunded_cents": 0,
                              "retained_cents": 0, "available_cents": 10000}]
    assert set(m["actions"]) == {"pay", "deposit", "discount"}
    refused(bk, pay(bk, kind="DEPOSIT"), 400, "invalid", "appointment_id")
    refused(bk, pay(bk, appointment_id=a["id"], kind="DEPOSIT", tip_cents=5), 400, "invalid",
            "tip_cents")
    refused(bk, pay(bk, appointment_id=a["id"], kind="REFUND"), 400, "invalid", "kind")
    # The deposit counts toward the price.
    refused(bk, pay(bk, appointment_id=a["id"], amount_cents=35001), 409, "overpayment")
    # After the visit, no more deposits.
    path = f"/api/v1/appointments/{a['id']}"
    assert bk.call("recep", "PATCH", path, {"status": "CONFIRMED"})[0] == 200
    assert bk.call("recep", "PATCH", path, {"status": "COMPLETED"})[0] == 200
    before = snapshot(bk)
    refused(bk, pay(bk, appointment_id=a["id"], amount_cents=100, kind="DEPOSIT"), 409,
            "deposit_too_late", "kind")
    assert snapshot(bk) == before
    assert pay(bk, appointment_id=a["id"], amount_cents=35000)[0] == 201
    assert money(bk, a)["actions"] == []


def test_refunds_are_negative_movements_never_beyond_the_payment(bk):
    a = appointment(bk)
    _, p = pay(bk, appointment_id=a["id"], amount_cents=30000, tip_cents=3000,
               method="CREDIT_CARD")
    path = f"/api/v1/payments/{p['id']}/refunds"
    st, r = bk.call("recep", "POST", path, {"amount_cents": 10000, "tip_cents": 1000,
                                            "reason": "servicio incompleto"})
    assert st == 201, r
    assert r["kind"] == "REFUND" and r["refund_of"] == p["id"]
    assert r["amount_cents"] == -10000 and r["tip_cents"] == -1000
    assert r["method"] == "CREDIT_CARD" and r["recorded_by"] == RECEP_ID
    assert r["professional_id"] == PRO2 and r["appointment_id"] == a["id"]
    # The original is untouched.
    st, again = bk.call("recep", "GET", f"/api/v1/payments/{p['id']}")
    assert again == p
    m = money(bk, a)
    assert m["paid_cents"] == 20000 and m["tips_cents"] == 2000
    before = snapshot(bk)
    e = refused(bk, bk.call("recep", "POST", path, {"amount_cents": 20001, "reason": "x"}),
                409, "over_refund", "amount_cents")
    assert "20000" in e["error"]["message"]
    refused(bk, bk.call("recep", "POST", path, {"amount_cents": 0, "tip_cents": 2001,
                                                "reason": "x"}), 409, "over_refund", "tip_cents")
    refused(bk, bk.call("recep", "POST", path, {"amount_cents": 10}), 400, "invalid", "reason")
    refused(bk, bk.call("recep", "POST", path, {"amount_cents": -10, "reason": "x"}), 400,
            "invalid", "amount_cents")
    refused(bk, bk.call("recep", "POST", path, {"amount_cents": 0, "reason": "x"}), 400,
            "invalid", "amount_cents")
    refused(bk, bk.call("recep", "POST", f"/api/v1/payments/{r['id']}/refunds",
                        {"amount_cents": 1, "reason": "x"}), 409, "not_refundable")
    refused(bk, bk.call("recep", "POST", "/api/v1/payments/999999/refunds",
                        {"amount_cents": 1, "reason": "x"}), 404, "not_found")
    refused(bk, bk.call("pro2", "POST", path, {"amount_cents": 1, "reason": "x"}), 403,
            "forbidden")
    assert snapshot(bk) == before
    # The rest, in cash: then nothing is left.
    st, r2 = bk.call("manager", "POST", path, {"amount_cents": 20000, "tip_cents": 2000,
                                               "method": "CASH", "reason": "cancelado"})
    assert st == 201 and r2["method"] == "CASH"
    refused(bk, bk.call("recep", "POST", path, {"amount_cents": 1, "reason": "x"}), 409,
            "over_refund")
    total = bk.db.scalar(f"SELECT sum(amount_cents) FROM payments WHERE appointment_id = {a['id']}")
    assert int(total) == 0
    # Refunded money may be paid again.
    assert pay(bk, appointment_id=a["id"], amount_cents=45000)[0] == 201


def test_racing_refunds_cannot_both_pass(bk):
    import threading
    a = appointment(bk)
    _, p = pay(bk, appointment_id=a["id"], amount_cents=30000)
    results = []
    barrier = threading.Barrier(6)

    def one():
        barrier.wait()
        results.append(bk.call("recep", "POST", f"/api/v1/payments/{p['id']}/refunds",
                               {"amount_cents": 20000, "reason": "x"})[0])

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [201] + [409] * 5
    assert bk.db.count("payments", f"WHERE refund_of = {p['id']}") == 1


@pytest.mark.parametrize("final", ["CANCELLED", "NO_SHOW"])
def test_cancelled_offers_only_the_deposit_refund_or_retention(bk, final):
    a = appointment(bk)
    _, d = pay(bk, appointment_id=a["id"], amount_cents=10000, kind="DEPOSIT")
    _, other = pay(bk, appointment_id=a["id"], amount_cents=5000)
    # Retention only after the appointment fell through.
    refused(bk, bk.call("recep", "POST", f"/api/v1/payments/{d['id']}/retain", {}), 409,
            "appointment_not_cancelled")
    if final == "NO_SHOW":  # a future visit: the API takes NO_SHOW only after the start
        bk.sql(f"UPDATE appointments SET status = 'NO_SHOW' WHERE id = {a['id']}")
    else:
        st, _ = bk.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel", {"reason": "la clienta avisó"})
        assert st == 200
    m = money(bk, a)
    assert m["actions"] == ["refund_deposit", "retain_deposit"]
    before = snapshot(bk)
    refused(bk, pay(bk, appointment_id=a["id"], amount_cents=100), 409, "appointment_closed",
            "appointment_id")
    refused(bk, pay(bk, appointment_id=a["id"], amount_cents=100, kind="DEPOSIT"), 409,
            "appointment_closed")
    refused(bk, bk.call("manager", "POST", f"/api/v1/appointments/{a['id']}/discount",
                        {"kind": "AMOUNT", "value": 1, "reason": "x"}), 409, "appointment_closed")
    refused(bk, bk.call("recep", "POST", f"/api/v1/payments/{other['id']}/retain", {}), 409,
            "not_a_deposit")
    assert snapshot(bk) == before
    # Part of the deposit back, the rest kept.
    st, r = bk.call("recep", "POST", f"/api/v1/payments/{d['id']}/refunds",
                    {"amount_cents": 4000, "reason": "mitad"})
    assert st == 201
    st, k = bk.call("recep", "POST", f"/api/v1/payments/{d['id']}/retain",
                    {"reason": "cancelación tardía"})
    assert st == 201 and k["amount_cents"] == 6000 and k["recorded_by"] == RECEP_ID
    m = money(bk, a)
    assert m["deposits"][0]["available_cents"] == 0 and m["deposits"][0]["retained_cents"] == 6000
    assert m["actions"] == []
    before = snapshot(bk)
    refused(bk, bk.call("recep", "POST", f"/api/v1/payments/{d['id']}/retain", {}), 409,
            "nothing_to_retain")
    refused(bk, bk.call("recep", "POST", f"/api/v1/payments/{d['id']}/refunds",
                        {"amount_cents": 1, "reason": "x"}), 409, "over_refund")
    assert snapshot(bk) == before


def test_database_refuses_what_the_api_would(bk):
    """The rules the database holds by itself (whatever the program does)."""
    for statement in (
            "INSERT INTO payments (tenant_id, amount_cents, method, kind, refund_of) "
            "VALUES (1, 100, 'CASH', 'REFUND', 1)",
            "INSERT INTO payments (tenant_id, amount_cents, method, tip_cents) "
            "VALUES (1, 100, 'CASH', 10)",
            "INSERT INTO payments (tenant_id, amount_cents, method) VALUES (1, -5, 'CASH')"):
        with pytest.raises(Exception):
            bk.sql(statement)


def test_another_tenant_sees_nothing(bk):
    import uuid
    a = appointment(bk)
    _, p = pay(bk, appointment_id=a["id"], amount_cents=1000)
    email = f"admin-{uuid.uuid4().hex[:8]}@otro.example"
    bk.sql(f"INSERT INTO tenants (name, email, timezone) VALUES ('Otro', '{email}', 'UTC')")
    bk.sql("INSERT INTO users (tenant_id, email, password_hash, first_name, role) "
           f"SELECT t.id, '{email}', u.password_hash, 'Otro', 'ADMIN' FROM tenants t, users u "
           f"WHERE t.email = '{email}' AND u.email = 'admin@citaplanner.com'")
    other = bk.login(email, "admin123")
    before = snapshot(bk)
    refused(bk, bk.call(other, "GET", f"/api/v1/appointments/{a['id']}/money"), 404, "not_found")
    refused(bk, bk.call(other, "POST", f"/api/v1/payments/{p['id']}/refunds",
                        {"amount_cents": 1, "reason": "x"}), 404, "not_found")
    refused(bk, bk.call(other, "POST", f"/api/v1/appointments/{a['id']}/discount",
                        {"kind": "AMOUNT", "value": 1, "reason": "x"}), 404, "not_found")
    assert snapshot(bk) == before
