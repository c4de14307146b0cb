"""Retail products, stock and sales (issue 19), on both databases: products,
stock that moves only through recorded movements and is recomputed at any
date, never below zero unless the tenant allows it, and a ticket with
services and products paid by several methods."""
import datetime as dt

import pytest

from test_appointments import CORTE, FACIAL, PRO1, PRO2, RECEP_ID, booking_server
from test_money import appointment, money, pay, refused

MX = dt.timezone(dt.timedelta(hours=-6))


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from booking_server(request, tmp_path_factory)


def product(bk, sku, price=25000, **more):
    body = {"sku": sku, "name": f"Producto {sku}", "price_cents": price, "cost_cents": price // 2,
            "low_stock_threshold": 3}
    body.update(more)
    st, p = bk.call("manager", "POST", "/api/v1/products", body)
    assert st == 201, p
    return p


def move(bk, who="manager", **body):
    return bk.call(who, "POST", "/api/v1/stock-movements", {"branch_id": 1, **body})


def stock(bk, pid, at=None):
    q = f"/api/v1/stock?branch_id=1" + (f"&at={at}" if at else "")
    st, s = bk.call("recep", "GET", q)
    assert st == 200, s
    return next(i for i in s["items"] if i["product_id"] == pid)


def counts(bk):
    return [bk.db.count(t) for t in ("sales", "sale_lines", "stock_movements", "payments")]


def test_products(bk):
    p = product(bk, "SH-001")
    assert p["price_cents"] == 25000 and p["cost_cents"] == 12500 and p["active"] is True
    refused(bk, bk.call("manager", "POST", "/api/v1/products",
                        {"sku": "SH-001", "name": "x", "price_cents": 1}), 409, "duplicate")
    refused(bk, bk.call("manager", "POST", "/api/v1/products",
                        {"sku": "X", "name": "x", "price_cents": -1}), 400, "invalid",
            "price_cents")
    refused(bk, bk.call("recep", "POST", "/api/v1/products",
                        {"sku": "X", "name": "x", "price_cents": 1}), 403, "forbidden")
    st, got = bk.call("pro1", "GET", f"/api/v1/products/{p['id']}")
    assert st == 200 and got == p


def test_stock_only_through_movements_recomputed_at_any_date(bk):
    p = product(bk, "CR-100")
    day = lambda n: (dt.date.today() - dt.timedelta(days=n))
    moves = [("RECEIPT", 10, None, 5), ("ADJUSTMENT", -2, "frasco roto", 3),
             ("RETURN", 1, None, 2), ("ADJUSTMENT", 4, "conteo físico", 1)]
    for kind, q, reason, ago in moves:
        at = dt.datetime.combine(day(ago), dt.time(12), MX).isoformat()
        st, m = move(bk, product_id=p["id"], kind=kind, quantity=q, reason=reason, moved_at=at)
        assert st == 201 and m["quantity"] == q and m["kind"] == kind, m
    # Independent recomputation: the sum of the movements up to the end of each day.
    for ago in range(6, -1, -1):
        expected = sum(q for _, q, _, a in moves if a >= ago)
        assert stock(bk, p["id"], day(ago).isoformat())["quantity"] == expected, ago
    assert stock(bk, p["id"])["quantity"] == 13
    at = dt.datetime.combine(day(3), dt.time(11, 59), MX).isoformat().replace("+", "%2B")
    assert stock(bk, p["id"], at)["quantity"] == 10
    # Refusals, each changing nothing.
    before = counts(bk)
    refused(bk, move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-1), 400, "invalid",
            "reason")
    refused(bk, move(bk, product_id=p["id"], kind="RECEIPT", quantity=-1), 400, "invalid",
            "quantity")
    refused(bk, move(bk, product_id=p["id"], kind="SALE", quantity=-1), 400, "invalid", "kind")
    refused(bk, move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-14, reason="x"), 409,
            "insufficient_stock", "quantity")
    refused(bk, move(bk, product_id=999999, kind="RECEIPT", quantity=1), 404, "not_found")
    refused(bk, move(bk, "recep", product_id=p["id"], kind="RECEIPT", quantity=1), 403,
            "forbidden")
    assert counts(bk) == before
    # Low stock.
    assert move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-10, reason="merma")[0] == 201
    s = stock(bk, p["id"])
    assert s["quantity"] == 3 and s["low"] is True


def test_sale_with_services_and_products_split_payment(bk):
    a = appointment(bk, FACIAL, PRO1)  # 85000
    b = appointment(bk, CORTE, PRO2)  # 45000, 10000 paid already as a deposit
    assert pay(bk, appointment_id=b["id"], amount_cents=10000, kind="DEPOSIT")[0] == 201
    sh = product(bk, "SH-200", 25000)
    cr = product(bk, "CR-200", 18050)
    for p in (sh, cr):
        assert move(bk, product_id=p["id"], kind="RECEIPT", quantity=5)[0] == 201
    # 85000 + 35000 + 2 x 25000 + 18050 = 188050, paid by card, cash and transfer.
    body = {"branch_id": 1, "client_id": 1,
            "lines": [{"appointment_id": a["id"]}, {"appointment_id": b["id"]},
                      {"product_id": sh["id"], "quantity": 2}, {"product_id": cr["id"], "quantity": 1}],
            "payments": [{"method": "CREDIT_CARD", "amount_cents": 100000, "tip_cents": 8000},
                         {"method": "CASH", "amount_cents": 50000},
                         {"method": "TRANSFER", "amount_cents": 38050}]}
    st, s = bk.call("recep", "POST", "/api/v1/sales", body)
    assert st == 201, s
    assert s["total_cents"] == 188050 and s["recorded_by"] == RECEP_ID
    assert [(l["kind"], l["amount_cents"]) for l in s["lines"]] == [
        ("SERVICE", 85000), ("SERVICE", 35000), ("PRODUCT", 50000), ("PRODUCT", 18050)]
    assert sum(p["amount_cents"] for p in s["payments"]) == 188050
    by_method = {}
    for p in s["payments"]:
        by_method[p["method"]] = by_method.get(p["method"], 0) + p["amount_cents"]
    assert by_method == {"CREDIT_CARD": 100000, "CASH": 50000, "TRANSFER": 38050}
    assert sum(p["tip_cents"] for p in s["payments"]) == 8000
    assert [p["professional_id"] for p in s["payments"] if p["tip_cents"]] == [PRO1]
    # The appointments are paid in full, each by its own rows.
    assert money(bk, a)["balance_cents"] == 0 and money(bk, b)["balance_cents"] == 0
    assert money(bk, a)["tips_cents"] == 8000
    # Stock went down through SALE movements.
    assert stock(bk, sh["id"])["quantity"] == 3 and stock(bk, cr["id"])["quantity"] == 4
    assert bk.db.count("stock_movements", f"WHERE sale_id = {s['id']} AND kind = 'SALE'") == 2
    st, again = bk.call("manager", "GET", f"/api/v1/sales/{s['id']}")
    assert st == 200 and again == s


def test_sale_refusals_change_nothing(bk):
    a = appointment(bk, CORTE, PRO2)  # 45000
    p = product(bk, "SH-300", 10000)
    assert move(bk, product_id=p["id"], kind="RECEIPT", quantity=2)[0] == 201
    base = {"branch_id": 1, "lines": [{"appointment_id": a["id"]},
                                      {"product_id": p["id"], "quantity": 2}]}
    before = counts(bk)
    refused(bk, bk.call("recep", "POST", "/api/v1/sales",
                        {**base, "payments": [{"method": "CASH", "amount_cents": 64999}]}),
            409, "payment_mismatch", "payments")
    refused(bk, bk.call("recep", "POST", "/api/v1/sales", {
        "branch_id": 1, "lines": [{"product_id": p["id"], "quantity": 2},
                                  {"product_id": p["id"], "quantity": 1}],
        "payments": [{"method": "CASH", "amount_cents": 30000}]}),
        409, "insufficient_stock", "lines[1].quantity")
    refused(bk, bk.call("recep", "POST", "/api/v1/sales", {
        "branch_id": 1, "lines": [{"appointment_id": a["id"], "product_id": p["id"]}],
        "payments": [{"method": "CASH", "amount_cents": 1}]}),
        400, "invalid", "lines[0].appointment_id")
    refused(bk, bk.call("recep", "POST", "/api/v1/sales", {
        **base, "payments": [{"method": "BITCOIN", "amount_cents": 65000}]}),
        400, "invalid", "payments[0].method")
    refused(bk, bk.call("recep", "POST", "/api/v1/sales", {
        "branch_id": 1, "lines": [{"product_id": p["id"], "quantity": 1}],
        "payments": [{"method": "CASH", "amount_cents": 10000, "tip_cents": 100}]}),
        400, "invalid", "payments[0].professional_id")
    refused(bk, bk.call("pro1", "POST", "/api/v1/sales",
                        {**base, "payments": [{"method": "CASH", "amount_cents": 65000}]}),
            403, "forbidden")
    assert counts(bk) == before
    # Paid already: nothing due.
    assert pay(bk, appointment_id=a["id"], amount_cents=45000)[0] == 201
    before = counts(bk)
    refused(bk, bk.call("recep", "POST", "/api/v1/sales",
                        {**base, "payments": [{"method": "CASH", "amount_cents": 20000}]}),
            409, "nothing_due", "lines[0].appointment_id")
    assert counts(bk) == before


def test_backdated_movement_cannot_empty_a_later_moment(bk):
    """Only the current total was guarded: a movement dated in the past must
    also leave every later moment at or above zero."""
    p = product(bk, "SH-500", 5000)
    today = dt.datetime.now(MX).date()  # the branch's day
    at = lambda ago, h=12: dt.datetime.combine(today - dt.timedelta(days=ago), dt.time(h), MX)
    assert move(bk, product_id=p["id"], kind="RECEIPT", quantity=5,
                moved_at=at(5).isoformat())[0] == 201
    st, s = bk.call("recep", "POST", "/api/v1/sales", {
        "branch_id": 1, "sold_at": at(3).isoformat(),
        "lines": [{"product_id": p["id"], "quantity": 5}],
        "payments": [{"method": "CASH", "amount_cents": 25000}]})
    assert st == 201, s
    assert move(bk, product_id=p["id"], kind="RECEIPT", quantity=10,
                moved_at=at(1).isoformat())[0] == 201
    assert stock(bk, p["id"])["quantity"] == 10
    before = counts(bk)
    # Day -4 holds 5, but day -3's sale would then leave -2.
    e = refused(bk, move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-2, reason="merma",
                         moved_at=at(4).isoformat()), 409, "stock_negative", "quantity")
    sold = at(3).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (e["error"]["product_id"], e["error"]["at"], e["error"]["stock"]) == (p["id"], sold, -2)
    assert sold in e["error"]["message"] and f"'{p['id']}'" in e["error"]["message"]
    # The same through a backdated ticket.
    refused(bk, bk.call("recep", "POST", "/api/v1/sales", {
        "branch_id": 1, "sold_at": at(4).isoformat(),
        "lines": [{"product_id": p["id"], "quantity": 1}],
        "payments": [{"method": "CASH", "amount_cents": 5000}]}),
        409, "stock_negative", "lines[0].quantity")
    # Day -2 holds nothing at all: not enough at that moment.
    refused(bk, move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-1, reason="merma",
                     moved_at=at(2).isoformat()), 409, "insufficient_stock", "quantity")
    # At the sale's own instant (the movements of that instant counted).
    refused(bk, move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-1, reason="merma",
                     moved_at=at(3).isoformat()), 409, "insufficient_stock", "quantity")
    assert counts(bk) == before
    # A backdated return always fits; then what every moment can spare is taken.
    assert move(bk, product_id=p["id"], kind="RETURN", quantity=2,
                moved_at=at(4, 9).isoformat())[0] == 201
    assert move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-2, reason="caducado",
                moved_at=at(4, 13).isoformat())[0] == 201
    assert move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-10, reason="conteo")[0] == 201
    for ago, q in ((5, 5), (4, 5), (3, 0), (2, 0), (1, 10), (0, 0)):
        assert stock(bk, p["id"], (today - dt.timedelta(days=ago)).isoformat())["quantity"] == q, ago
    # A tenant that allows negative stock is not asked.
    assert bk.call("admin", "PUT", "/api/v1/money-settings", {"allow_negative_stock": True})[0] == 200
    try:
        assert move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-1, reason="x",
                    moved_at=at(4).isoformat())[0] == 201
    finally:
        assert bk.call("admin", "PUT", "/api/v1/money-settings",
                       {"allow_negative_stock": False})[0] == 200


def test_racing_backdated_movements_leave_no_later_moment_negative(bk):
    import threading
    p = product(bk, "SH-600", 5000)
    today = dt.datetime.now(MX).date()
    at = lambda ago, h=12: dt.datetime.combine(today - dt.timedelta(days=ago), dt.time(h), MX)
    for kind, q, ago in (("RECEIPT", 5, 6), ("ADJUSTMENT", -3, 2), ("RECEIPT", 10, 1)):
        assert move(bk, product_id=p["id"], kind=kind, quantity=q, reason="x",
                    moved_at=at(ago).isoformat())[0] == 201
    # Day -2 can spare 2 units: of six backdated takers, two pass.
    results = []
    barrier = threading.Barrier(6)

    def one(i):
        barrier.wait()
        results.append(move(bk, product_id=p["id"], kind="ADJUSTMENT", quantity=-1, reason="merma",
                            moved_at=at(5, 8 + i).isoformat()))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(st for st, _ in results) == [201] * 2 + [409] * 4, results
    assert {r["error"]["code"] for st, r in results if st == 409} == {"stock_negative"}
    assert stock(bk, p["id"], (today - dt.timedelta(days=2)).isoformat())["quantity"] == 0


def test_list_of_sales_with_lines_methods_and_who(bk):
    today = dt.datetime.now(MX).date()
    day = lambda ago: (today - dt.timedelta(days=ago)).isoformat()
    at = lambda ago: dt.datetime.combine(today - dt.timedelta(days=ago), dt.time(12), MX).isoformat()
    a = appointment(bk, FACIAL, PRO1)  # 85000
    p = product(bk, "LS-100", 25000)
    assert move(bk, product_id=p["id"], kind="RECEIPT", quantity=10, moved_at=at(42))[0] == 201
    st, s1 = bk.call("recep", "POST", "/api/v1/sales", {
        "branch_id": 1, "client_id": 1, "sold_at": at(41),
        "lines": [{"appointment_id": a["id"]}, {"product_id": p["id"], "quantity": 2}],
        "payments": [{"method": "CASH", "amount_cents": 100000},
                     {"method": "CREDIT_CARD", "amount_cents": 35000, "tip_cents": 5000}]})
    assert st == 201, s1
    st, s2 = bk.call("manager", "POST", "/api/v1/sales", {
        "branch_id": 1, "sold_at": at(40), "lines": [{"product_id": p["id"], "quantity": 1}],
        "payments": [{"method": "TRANSFER", "amount_cents": 25000}]})
    assert st == 201, s2
    # The detail names each line.
    svc = bk.call("admin", "GET", f"/api/v1/services/{FACIAL}")[1]["name"]
    assert [l["name"] for l in s1["lines"]] == [svc, p["name"]]
    st, l1 = bk.call("recep", "GET", f"/api/v1/sales?from={day(41)}&to={day(41)}")
    assert st == 200, l1
    recep = bk.call("admin", "GET", f"/api/v1/users/{RECEP_ID}")[1]
    client = bk.call("admin", "GET", "/api/v1/clients/1")[1]
    assert [x["id"] for x in l1["items"]] == [s1["id"]] and l1["next_cursor"] is None
    got = l1["items"][0]
    assert (got["total_cents"], got["sold_at"], got["recorded_by"], got["recorded_by_name"],
            got["client_name"]) == (135000, s1["sold_at"], RECEP_ID,
                                    f"{recep['first_name']} {recep['last_name']}",
                                    f"{client['first_name']} {client['last_name']}")
    assert got["lines"] == [{"kind": "SERVICE", "name": svc, "quantity": 1, "amount_cents": 85000},
                            {"kind": "PRODUCT", "name": p["name"], "quantity": 2,
                             "amount_cents": 50000}]
    # The cash paid both the service and the products (two rows): one method.
    assert got["methods"] == [{"method": "CASH", "amount_cents": 100000, "tip_cents": 0},
                              {"method": "CREDIT_CARD", "amount_cents": 35000, "tip_cents": 5000}]
    # Two days, a page at a time; a branch; the period's bounds.
    st, one = bk.call("manager", "GET", f"/api/v1/sales?from={day(41)}&to={day(40)}&limit=1")
    assert st == 200 and [x["id"] for x in one["items"]] == [s1["id"]] and one["next_cursor"]
    st, two = bk.call("manager", "GET", f"/api/v1/sales?from={day(41)}&to={day(40)}&limit=1"
                      f"&cursor={one['next_cursor']}")
    assert st == 200 and [x["id"] for x in two["items"]] == [s2["id"]]
    assert two["items"][0]["methods"] == [{"method": "TRANSFER", "amount_cents": 25000,
                                           "tip_cents": 0}]
    assert two["items"][0]["client_name"] is None
    st, both = bk.call("recep", "GET", f"/api/v1/sales?from={day(41)}&to={day(40)}&branch_id=1")
    assert [x["id"] for x in both["items"]] == [s1["id"], s2["id"]]
    st, none = bk.call("recep", "GET", f"/api/v1/sales?from={day(41)}&to={day(40)}&branch_id=999")
    assert st == 200 and none["items"] == []
    refused(bk, bk.call("recep", "GET", f"/api/v1/sales?to={day(40)}"), 400, "invalid", "from")
    refused(bk, bk.call("recep", "GET", f"/api/v1/sales?from={day(40)}&to={day(41)}"), 400,
            "invalid", "to")
    refused(bk, bk.call("pro1", "GET", f"/api/v1/sales?from={day(41)}&to={day(40)}"), 403,
            "forbidden")


def test_negative_stock_only_when_the_tenant_allows_it(bk):
    p = product(bk, "SH-400", 5000)
    sale = {"branch_id": 1, "lines": [{"product_id": p["id"], "quantity": 1}],
            "payments": [{"method": "CASH", "amount_cents": 5000}]}
    refused(bk, bk.call("recep", "POST", "/api/v1/sales", sale), 409, "insufficient_stock")
    refused(bk, bk.call("manager", "PUT", "/api/v1/money-settings",
                        {"allow_negative_stock": True}), 403, "forbidden")
    assert bk.call("admin", "PUT", "/api/v1/money-settings",
                   {"allow_negative_stock": True})[0] == 200
    try:
        st, s = bk.call("recep", "POST", "/api/v1/sales", sale)
        assert st == 201, s
        assert stock(bk, p["id"])["quantity"] == -1
    finally:
        assert bk.call("admin", "PUT", "/api/v1/money-settings",
                       {"allow_negative_stock": False})[0] == 200
    assert bk.call("recep", "GET", "/api/v1/money-settings")[1] == {"allow_negative_stock": False}
