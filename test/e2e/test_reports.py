"""Reports (issue 19), on both databases, each checked against an
independent computation in Python from the raw rows: sales by day, week
and month in the tenant's zone, by service, by professional, by payment
method, top services and products, cancellation and no-show rates, the
90-day retention; the branch filter; the CSV export (RFC 4180 with BOM);
roles."""
import csv
import datetime as dt
import io
import zoneinfo

import pytest

from test_appointments import PRO1, PRO2, booking_server, day_at, future_monday
from test_money import refused

ZONE = zoneinfo.ZoneInfo("America/Mexico_City")
FACIAL, MASAJE, MANICURE, CORTE, LIMPIEZA = 1, 2, 3, 4, 5


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    yield from fixture(request, tmp_path_factory)


def fixture(request, tmp_path_factory):
    gen = booking_server(request, tmp_path_factory)
    bk = next(gen)
    build(bk)
    yield bk
    try:
        next(gen)
    except StopIteration:
        pass


def build(bk):
    st, br = bk.call("admin", "POST", "/api/v1/branches", {"name": "Sucursal Sur"})
    assert st == 201
    bk.branch2 = br["id"]
    today = dt.date.today()

    def visit(service, pro, client, weeks, hour, final="COMPLETED", discount=None):
        st, a = bk.book(start=day_at(future_monday(weeks), hour), service_id=service,
                        professional_id=pro, client_id=client)
        assert st == 201, a
        if discount:
            assert bk.call("manager", "POST", f"/api/v1/appointments/{a['id']}/discount",
                           discount)[0] == 201
        path = f"/api/v1/appointments/{a['id']}"
        if final == "COMPLETED":
            assert bk.call("recep", "PATCH", path, {"status": "CONFIRMED"})[0] == 200
        if final == "NO_SHOW":  # a future visit: the API takes NO_SHOW only after the start
            bk.sql(f"UPDATE appointments SET status = 'NO_SHOW' WHERE id = {a['id']}")
        else:
            assert (bk.call("recep", "POST", path + "/cancel", {"reason": "la clienta avisó"}) if final == "CANCELLED"
                    else bk.call("recep", "PATCH", path, {"status": final}))[0] == 200
        return a

    visit(FACIAL, PRO1, 1, 40, 9, discount={"kind": "PERCENT", "value": 20, "reason": "x"})
    visit(FACIAL, PRO1, 1, 44, 9)  # client 1 back within 90 days
    visit(LIMPIEZA, PRO1, 2, 40, 11)
    visit(LIMPIEZA, PRO1, 2, 60, 11)  # client 2 back after 140 days
    visit(MASAJE, PRO2, 3, 41, 9, discount={"kind": "AMOUNT", "value": 999, "reason": "x"})
    visit(CORTE, PRO2, 4, 41, 13, final="NO_SHOW")
    visit(MANICURE, PRO1, 5, 42, 14, final="CANCELLED")
    visit(CORTE, PRO2, 5, 42, 9)
    # Payments on several days, weeks and months, some at the edges of a local day.
    def pay(days_ago, hh, mm, amount, method, tip=0, branch=1):
        d = today - dt.timedelta(days=days_ago)
        when = dt.datetime(d.year, d.month, d.day, hh, mm, tzinfo=ZONE).isoformat()
        body = {"amount_cents": amount, "method": method, "paid_at": when, "branch_id": branch}
        if tip:
            body.update(tip_cents=tip, professional_id=PRO1)
        st, p = bk.call("recep", "POST", "/api/v1/payments", body)
        assert st == 201, p
        return p

    p = pay(3, 23, 59, 50000, "CASH", tip=5000)
    pay(2, 0, 0, 12345, "CREDIT_CARD")
    pay(10, 12, 0, 30000, "TRANSFER", branch=bk.branch2)
    pay(40, 18, 30, 7000, "CASH")
    pay(75, 9, 15, 99900, "DEBIT_CARD", tip=1000)
    pay(200, 17, 0, 45000, "CASH", branch=bk.branch2)
    st, _ = bk.call("recep", "POST", f"/api/v1/payments/{p['id']}/refunds",
                    {"amount_cents": 20000, "tip_cents": 500, "reason": "x",
                     "paid_at": dt.datetime.combine(today - dt.timedelta(days=1), dt.time(10),
                                                    ZONE).isoformat()})
    assert st == 201
    for sku, price, q in (("R-1", 15000, 4), ("R-2", 9999, 7), ("R-3", 50000, 1)):
        st, prod = bk.call("manager", "POST", "/api/v1/products",
                           {"sku": sku, "name": "Producto " + sku, "price_cents": price})
        assert st == 201
        assert bk.call("manager", "POST", "/api/v1/stock-movements", {
            "branch_id": 1, "product_id": prod["id"], "kind": "RECEIPT", "quantity": 20})[0] == 201
        st, s = bk.call("recep", "POST", "/api/v1/sales", {
            "branch_id": 1, "lines": [{"product_id": prod["id"], "quantity": q}],
            "payments": [{"method": "CASH", "amount_cents": price * q}]})
        assert st == 201, s


# ---- the independent computation -----------------------------------------------------------

def epoch_expr(db, col):
    if db.kind == "pg":
        return f"CAST(EXTRACT(EPOCH FROM {col}) AS BIGINT)"
    return f"CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER)"


def rows(bk, sql):
    out = []
    for r in bk.db.query(sql):
        out.append([int(x) if isinstance(x, str) and x.lstrip("-").isdigit() else x for x in r])
    return out


def local(epoch):
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).astimezone(ZONE)


def pct(part, whole):
    return (part * 1000 * 2 + whole) // (2 * whole) / 10 if whole else 0.0


def period():
    today = dt.date.today()
    frm, to = today - dt.timedelta(days=400), today + dt.timedelta(days=600)
    lo = dt.datetime.combine(frm, dt.time(0), ZONE).timestamp()
    hi = dt.datetime.combine(to + dt.timedelta(days=1), dt.time(0), ZONE).timestamp()
    return frm, to, lo, hi


def expected(bk, name, group="day", branch=None):
    frm, to, lo, hi = period()
    inb = lambda b: branch is None or b == branch
    if name == "sales":
        pays = rows(bk, f"SELECT {epoch_expr(bk.db, 'paid_at')}, kind, amount_cents, tip_cents, "
                        f"COALESCE(branch_id, 0) FROM payments WHERE tenant_id = 1")
        buckets = {}
        for t, kind, amount, tip, b in pays:
            if not (lo <= t < hi and inb(b)):
                continue
            d = local(t).date()
            if group == "week":
                d -= dt.timedelta(days=d.weekday())
            elif group == "month":
                d = d.replace(day=1)
            x = buckets.setdefault(str(d), [0, 0, 0, 0, 0])
            x[0] += amount if kind != "REFUND" else 0
            x[1] += -amount if kind == "REFUND" else 0
            x[2] += amount
            x[3] += tip
            x[4] += 1 if kind != "REFUND" else 0
        return [[k] + v for k, v in sorted(buckets.items())]
    appts = rows(bk, f"SELECT a.id, {epoch_expr(bk.db, 'a.start_at')}, a.status, s.name, "
                     "u.first_name || ' ' || COALESCE(u.last_name, ''), a.client_id, a.branch_id, "
                     "a.price_cents - COALESCE((SELECT d.amount_cents FROM appointment_discounts d "
                     "WHERE d.appointment_id = a.id), 0) "
                     "FROM appointments a JOIN services s ON s.id = a.service_id "
                     "JOIN users u ON u.id = a.professional_id WHERE a.tenant_id = 1")
    inp = [a for a in appts if lo <= a[1] < hi and inb(a[6])]
    done = [a for a in inp if a[2] == "COMPLETED"]
    if name in ("by_service", "top_services", "by_professional"):
        key = 3 if name != "by_professional" else 4
        g = {}
        for a in done:
            x = g.setdefault(a[key], [0, 0])
            x[0] += 1
            x[1] += a[7]
        out = sorted(([k] + v for k, v in g.items()), key=lambda r: (-r[2], r[0]))
        return out[:10] if name == "top_services" else out
    if name == "by_method":
        pays = rows(bk, f"SELECT {epoch_expr(bk.db, 'paid_at')}, method, amount_cents, tip_cents, "
                        "COALESCE(branch_id, 0) FROM payments WHERE tenant_id = 1")
        g = {}
        for t, m, amount, tip, b in pays:
            if lo <= t < hi and inb(b):
                x = g.setdefault(m, [0, 0, 0])
                x[0] += amount
                x[1] += tip
                x[2] += 1
        return [[k] + v for k, v in sorted(g.items())]
    if name == "top_products":
        lines = rows(bk, f"SELECT {epoch_expr(bk.db, 's.sold_at')}, p.sku, p.name, l.quantity, "
                         "l.amount_cents, s.branch_id FROM sale_lines l JOIN sales s ON s.id = l.sale_id "
                         "JOIN products p ON p.id = l.product_id WHERE l.tenant_id = 1")
        g = {}
        for t, sku, pname, q, amount, b in lines:
            if lo <= t < hi and inb(b):
                x = g.setdefault((sku, pname), [0, 0])
                x[0] += q
                x[1] += amount
        return sorted(([k[0], k[1]] + v for k, v in g.items()), key=lambda r: (-r[3], r[0]))[:10]
    if name == "attendance":
        n = len(inp)
        c = sum(a[2] == "CANCELLED" for a in inp)
        ns = sum(a[2] == "NO_SHOW" for a in inp)
        return [[n, len(done), c, ns, pct(c, n), pct(ns, n)]]
    if name == "retention":
        first = {}
        for a in done:
            first[a[5]] = min(first.get(a[5], a[1]), a[1])
        allc = [a for a in appts if a[2] == "COMPLETED"]
        back = sum(any(a[5] == c and f < a[1] <= f + 90 * 86400 for a in allc)
                   for c, f in first.items())
        return [[len(first), back, pct(back, len(first))]]
    raise AssertionError(name)


def report(bk, name, **q):
    frm, to, _, _ = period()
    qs = "&".join(f"{k}={v}" for k, v in {"from": frm, "to": to, **q}.items())
    st, r = bk.call("manager", "GET", f"/api/v1/reports/{name}?{qs}")
    assert st == 200, r
    return r


@pytest.mark.parametrize("group", ["day", "week", "month"])
def test_sales_by_period(bk, group):
    r = report(bk, "sales", group=group)
    assert r["columns"] == ["period", "payments_cents", "refunds_cents", "net_cents", "tips_cents",
                            "payments"]
    want = expected(bk, "sales", group)
    assert r["rows"] == want and len(want) >= 3
    assert r["currency"] == "MXN" and r["group"] == group


@pytest.mark.parametrize("name", ["by_service", "top_services", "by_professional", "by_method",
                                  "top_products", "attendance", "retention"])
def test_each_report(bk, name):
    want = expected(bk, name)
    got = report(bk, name)["rows"]
    assert got == want
    assert want and want != [[0, 0, 0]]


def test_known_figures(bk):
    """A few figures from the fixture itself, so that the computation above is not
    trusted blindly."""
    ret = report(bk, "retention")["rows"][0]
    assert ret[0] >= 4 and ret[1] >= 1
    att = report(bk, "attendance")["rows"][0]
    assert att[2] >= 1 and att[3] >= 1
    tp = report(bk, "top_products")["rows"]
    assert tp == [["R-2", "Producto R-2", 7, 69993], ["R-1", "Producto R-1", 4, 60000],
                  ["R-3", "Producto R-3", 1, 50000]]


def test_branch_filter(bk):
    for name in ("sales", "by_method"):
        got = report(bk, name, branch_id=bk.branch2)["rows"]
        assert got == expected(bk, name, branch=bk.branch2)
        assert sum(r[-3 if name == "sales" else 1] for r in got) == 75000


def test_csv_export(bk):
    frm, to, _, _ = period()
    st, h, body = bk.server.request(
        "GET", f"/api/v1/reports/by_method?from={frm}&to={to}&format=csv",
        headers={"Authorization": "Bearer " + bk.token("admin")})
    assert st == 200 and h["Content-Type"].startswith("text/csv")
    assert 'filename="by_method.csv"' in h["Content-Disposition"]
    assert body.startswith("\ufeff") and "\r\n" in body
    table = list(csv.reader(io.StringIO(body[1:], newline="")))
    assert table[0] == ["method", "net_MXN", "tips_MXN", "movements"]
    want = expected(bk, "by_method")
    assert table[1:] == [[m, f"{a / 100:.2f}", f"{t / 100:.2f}", str(n)] for m, a, t, n in want]


def test_refusals_and_roles(bk):
    frm, to, _, _ = period()
    for who in ("recep", "pro1"):
        refused(bk, bk.call(who, "GET", f"/api/v1/reports/sales?from={frm}&to={to}"), 403,
                "forbidden")
    refused(bk, bk.call("manager", "GET", f"/api/v1/reports/nope?from={frm}&to={to}"), 404,
            "not_found")
    refused(bk, bk.call("manager", "GET", "/api/v1/reports/sales"), 400, "invalid", "from")
    refused(bk, bk.call("manager", "GET", f"/api/v1/reports/sales?from={frm}&to={to}&group=year"),
            400, "invalid", "group")
    refused(bk, bk.call("manager", "GET", f"/api/v1/reports/sales?from=2020-01-01&to=2024-01-01"),
            400, "invalid")
