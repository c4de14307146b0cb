"""Commissions (issue 19), on both databases, from a fixture whose every
cent is known: completed appointments' prices after discount times the
service-professional commission_pct (rounded half up per appointment),
product commissions, tips (less refunded tips); cancelled and no-show
appointments earn nothing.  A PROFESSIONAL reads only its own; the manager
marks a period paid."""
import datetime as dt

import pytest

from test_appointments import PRO1, PRO2, booking_server, day_at, future_monday
from test_money import refused

FACIAL, MASAJE, MANICURE, CORTE, LIMPIEZA = 1, 2, 3, 4, 5
PRICE = {FACIAL: 85000, MASAJE: 120000, MANICURE: 65000, CORTE: 45000, LIMPIEZA: 95000}
PCT = {(PRO1, FACIAL): 40, (PRO1, LIMPIEZA): 45, (PRO1, MANICURE): 30,
       (PRO2, MASAJE): 35, (PRO2, CORTE): 50}


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def half_up(cents, pct):
    return (cents * pct * 2 + 100) // 200


def test_commissions_from_a_known_fixture(bk):
    monday = future_monday(60)
    tuesday = monday + dt.timedelta(days=1)

    def visit(service, pro, day, hour, final="COMPLETED", discount=None):
        st, a = bk.book(start=day_at(day, hour), service_id=service, professional_id=pro)
        assert st == 201, a
        if discount:
            st, d = bk.call("manager", "POST", f"/api/v1/appointments/{a['id']}/discount",
                            discount)
            assert st == 201, d
        path = f"/api/v1/appointments/{a['id']}"
        if final == "COMPLETED":
            assert bk.call("recep", "PATCH", path, {"status": "CONFIRMED"})[0] == 200
        if final == "NO_SHOW":  # a future visit: the API takes NO_SHOW only after the start
            bk.sql(f"UPDATE appointments SET status = 'NO_SHOW' WHERE id = {a['id']}")
        else:
            assert (bk.call("recep", "POST", path + "/cancel", {"reason": "la clienta avisó"}) if final == "CANCELLED"
                    else bk.call("recep", "PATCH", path, {"status": final}))[0] == 200
        return a

    a1 = visit(FACIAL, PRO1, monday, 9, discount={"kind": "PERCENT", "value": 15, "reason": "promo"})
    visit(LIMPIEZA, PRO1, monday, 11, discount={"kind": "AMOUNT", "value": 333, "reason": "x"})
    visit(MANICURE, PRO1, monday, 14, final="CANCELLED")
    a4 = visit(MASAJE, PRO2, tuesday, 9)
    visit(CORTE, PRO2, tuesday, 12, final="NO_SHOW")
    # Tips on the days of the visits, one partly refunded.
    st, p = bk.call("recep", "POST", "/api/v1/payments", {
        "appointment_id": a1["id"], "amount_cents": 72250, "tip_cents": 5000, "method": "CASH",
        "paid_at": day_at(monday, 10)})
    assert st == 201, p
    st, _ = bk.call("recep", "POST", f"/api/v1/payments/{p['id']}/refunds", {
        "amount_cents": 0, "tip_cents": 1000, "reason": "propina de más",
        "paid_at": day_at(monday, 10, 30)})
    assert st == 201
    st, _ = bk.call("recep", "POST", "/api/v1/payments", {
        "appointment_id": a4["id"], "amount_cents": 120000, "tip_cents": 2500,
        "method": "DEBIT_CARD", "paid_at": day_at(tuesday, 11)})
    assert st == 201
    # A product sold by PRO2 with a 10 % commission: 3 x 33.33.
    st, prod = bk.call("manager", "POST", "/api/v1/products", {
        "sku": "COM-1", "name": "Crema", "price_cents": 3333, "commission_pct": 10})
    assert st == 201
    assert bk.call("manager", "POST", "/api/v1/stock-movements", {
        "branch_id": 1, "product_id": prod["id"], "kind": "RECEIPT", "quantity": 3})[0] == 201
    st, s = bk.call("recep", "POST", "/api/v1/sales", {
        "branch_id": 1, "sold_at": day_at(tuesday, 13),
        "lines": [{"product_id": prod["id"], "quantity": 3, "professional_id": PRO2}],
        "payments": [{"method": "CASH", "amount_cents": 9999}]})
    assert st == 201, s

    # The independent computation.
    f_due = PRICE[FACIAL] - half_up(PRICE[FACIAL], 15)
    l_due = PRICE[LIMPIEZA] - 333
    want = {
        PRO1: {"services_cents": f_due + l_due,
               "service_commission_cents": half_up(f_due, 40) + half_up(l_due, 45),
               "product_commission_cents": 0, "tips_cents": 4000},
        PRO2: {"services_cents": 120000, "service_commission_cents": half_up(120000, 35),
               "product_commission_cents": half_up(9999, 10), "tips_cents": 2500},
    }
    assert want[PRO1]["service_commission_cents"] == 28900 + 42600
    assert want[PRO2]["product_commission_cents"] == 1000
    q = f"/api/v1/commissions?from={monday}&to={tuesday}"
    st, c = bk.call("manager", "GET", q)
    assert st == 200, c
    got = {i["professional_id"]: i for i in c["items"]}
    for pro, w in want.items():
        for k, v in w.items():
            assert got[pro][k] == v, (pro, k)
        assert got[pro]["total_cents"] == (w["service_commission_cents"]
                                           + w["product_commission_cents"] + w["tips_cents"])
        assert got[pro]["paid"] is False
    # Monday alone: PRO2's Tuesday is out.
    st, c = bk.call("manager", "GET", f"/api/v1/commissions?from={monday}&to={monday}")
    assert PRO2 not in {i["professional_id"] for i in c["items"]}
    # A professional reads only its own.
    st, mine = bk.call("pro1", "GET", q)
    assert st == 200 and [i["professional_id"] for i in mine["items"]] == [PRO1]
    assert mine["items"][0]["total_cents"] == 75500
    refused(bk, bk.call("pro1", "GET", q + f"&professional_id={PRO2}"), 403, "forbidden")
    refused(bk, bk.call("recep", "GET", q), 403, "forbidden")
    # The manager marks PRO1's period paid; the figures are kept.
    body = {"professional_id": PRO1, "from": str(monday), "to": str(tuesday)}
    refused(bk, bk.call("pro1", "POST", "/api/v1/commissions/pay", body), 403, "forbidden")
    st, stm = bk.call("manager", "POST", "/api/v1/commissions/pay", body)
    assert st == 201, stm
    assert stm["total_cents"] == 75500 and stm["tips_cents"] == 4000 and stm["paid_by"] == 2
    refused(bk, bk.call("manager", "POST", "/api/v1/commissions/pay", body), 409, "already_paid")
    refused(bk, bk.call("manager", "POST", "/api/v1/commissions/pay",
                        {**body, "to": str(monday - dt.timedelta(days=1))}), 400, "invalid", "to")
    st, mine = bk.call("pro1", "GET", q)
    assert mine["items"][0]["paid"] is True and mine["items"][0]["statement"]["id"] == stm["id"]
    assert bk.db.count("commission_statements") == 1
