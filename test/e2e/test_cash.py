"""The cash close (corte de caja, issue 19), on both databases: a branch's
day and one register's day, payments by method, tips, refunds, expected vs
counted cash, the day locked afterwards (corrections go on a later day),
roles, and the CSV export."""
import datetime as dt

import pytest

from test_appointments import PRO1, RECEP_ID, booking_server
from test_money import refused

MX = dt.timezone(dt.timedelta(hours=-6))


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def at(day, hh, mm=0):
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=MX).isoformat()


def test_close_of_a_register_then_of_the_branch(bk):
    st, br = bk.call("admin", "POST", "/api/v1/branches", {"name": "Sucursal Norte"})
    assert st == 201, br
    b = br["id"]
    day = dt.datetime.now(MX).date() - dt.timedelta(days=3)

    def pay(who, **f):
        st, p = bk.call(who, "POST", "/api/v1/payments", {"branch_id": b, **f})
        assert st == 201, p
        return p

    p1 = pay("recep", amount_cents=10000, tip_cents=1000, professional_id=PRO1, method="CASH",
             paid_at=at(day, 12))
    pay("recep", amount_cents=20000, method="CREDIT_CARD", paid_at=at(day, 12, 30))
    pay("manager", amount_cents=5000, method="CASH", paid_at=at(day, 9))
    pay("manager", amount_cents=777, method="CASH", paid_at=at(day - dt.timedelta(days=1), 23, 59))
    pay("manager", amount_cents=888, method="CASH", paid_at=at(day + dt.timedelta(days=1), 0, 0))
    st, r = bk.call("recep", "POST", f"/api/v1/payments/{p1['id']}/refunds",
                    {"amount_cents": 3000, "reason": "queja", "paid_at": at(day, 13)})
    assert st == 201, r

    q = f"/api/v1/cash-close?branch_id={b}&date={day}"
    st, d = bk.call("admin", "GET", q)
    assert st == 200, d
    assert d["by_method"]["CASH"] == {"payments_cents": 15000, "tips_cents": 1000,
                                      "refunds_cents": 3000, "net_cents": 13000}
    assert d["by_method"]["CREDIT_CARD"]["net_cents"] == 20000
    assert (d["tips_cents"], d["refunds_cents"], d["cash_in_cents"]) == (1000, 3000, 13000)
    assert d["close"] is None
    # The receptionist sees and closes its own register only.
    st, mine = bk.call("recep", "GET", q)
    assert st == 200 and mine["register_user_id"] == RECEP_ID and mine["cash_in_cents"] == 8000
    refused(bk, bk.call("recep", "GET", q + "&register_user_id=2"), 403, "forbidden")
    body = {"branch_id": b, "date": str(day), "opening_float_cents": 50000,
            "counted_cash_cents": 57900, "note": "faltó un billete de 100"}
    refused(bk, bk.call("recep", "POST", "/api/v1/cash-closes", {**body, "register_user_id": 2}),
            403, "forbidden")
    st, c = bk.call("recep", "POST", "/api/v1/cash-closes", body)
    assert st == 201, c
    assert c["register_user_id"] == RECEP_ID and c["closed_by"] == RECEP_ID
    assert (c["expected_cash_cents"], c["counted_cash_cents"], c["difference_cents"]) \
        == (58000, 57900, -100)
    assert c["by_method"]["CASH"]["net_cents"] == 8000 and c["note"] == "faltó un billete de 100"
    refused(bk, bk.call("recep", "POST", "/api/v1/cash-closes", body), 409, "already_closed")
    # The register's day is locked for its user, not yet for the others.
    n = bk.db.count("payments")
    refused(bk, bk.call("recep", "POST", "/api/v1/payments",
                        {"branch_id": b, "amount_cents": 1, "method": "CASH",
                         "paid_at": at(day, 15)}), 409, "day_closed", "paid_at")
    refused(bk, bk.call("recep", "POST", f"/api/v1/payments/{p1['id']}/refunds",
                        {"amount_cents": 1, "reason": "x", "paid_at": at(day, 15)}),
            409, "day_closed", "paid_at")
    assert bk.db.count("payments") == n
    pay("manager", amount_cents=2000, method="CASH", paid_at=at(day, 16))
    # The manager closes the whole branch.
    st, c2 = bk.call("manager", "POST", "/api/v1/cash-closes",
                     {"branch_id": b, "date": str(day), "opening_float_cents": 100000,
                      "counted_cash_cents": 115000})
    assert st == 201, c2
    assert c2["register_user_id"] is None and c2["cash_in_cents"] == 15000
    assert (c2["expected_cash_cents"], c2["difference_cents"]) == (115000, 0)
    n = bk.db.count("payments")
    refused(bk, bk.call("manager", "POST", "/api/v1/payments",
                        {"branch_id": b, "amount_cents": 1, "method": "CASH",
                         "paid_at": at(day, 23, 59)}), 409, "day_closed")
    assert bk.db.count("payments") == n
    # A correction is a new movement on a later day.
    st, fix = bk.call("manager", "POST", f"/api/v1/payments/{p1['id']}/refunds",
                      {"amount_cents": 1000, "reason": "corrección del corte"})
    assert st == 201 and fix["refund_of"] == p1["id"]
    st, again = bk.call("admin", "GET", q)
    assert again["cash_in_cents"] == 15000 and again["close"]["id"] == c2["id"]
    # The receptionist does not read the branch's close; the CSV export.
    refused(bk, bk.call("recep", "GET", f"/api/v1/cash-closes/{c2['id']}"), 404, "not_found")
    st, h, csv = bk.server.request("GET", f"/api/v1/cash-closes/{c['id']}?format=csv",
                                   headers={"Authorization": "Bearer " + bk.token("recep")})
    assert st == 200 and h["Content-Type"].startswith("text/csv")
    assert csv.startswith("\ufeffitem,amount\r\n")
    lines = csv[1:].split("\r\n")
    assert "expected_cash_cents,580.00" in lines and "difference_cents,-1.00" in lines
    assert "net_CASH,80.00" in lines and "note,faltó un billete de 100" in lines


def test_refusals(bk):
    tomorrow = dt.datetime.now(MX).date() + dt.timedelta(days=2)
    body = {"branch_id": 1, "date": str(tomorrow), "opening_float_cents": 0,
            "counted_cash_cents": 0}
    n = bk.db.count("cash_closes")
    refused(bk, bk.call("manager", "POST", "/api/v1/cash-closes", body), 400, "invalid", "date")
    refused(bk, bk.call("manager", "POST", "/api/v1/cash-closes", {**body, "date": "2026-02-30"}),
            400, "invalid", "date")
    refused(bk, bk.call("manager", "POST", "/api/v1/cash-closes",
                        {**body, "date": "2020-01-01", "counted_cash_cents": -1}), 400,
            "invalid", "counted_cash_cents")
    refused(bk, bk.call("manager", "POST", "/api/v1/cash-closes",
                        {**body, "date": "2020-01-01", "branch_id": 99999}), 404, "not_found")
    refused(bk, bk.call("pro1", "POST", "/api/v1/cash-closes", {**body, "date": "2020-01-01"}),
            403, "forbidden")
    refused(bk, bk.call("manager", "GET", "/api/v1/cash-close?branch_id=1"), 400, "invalid", "date")
    assert bk.db.count("cash_closes") == n
