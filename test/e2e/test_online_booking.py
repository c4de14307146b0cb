"""Online booking by clients from a link (issue 18), on both databases: the
settings and slugs, the public API (branch, services, professionals, free
times, booking with Idempotency-Key, slot taken, "anyone"), the client
matched by phone number, the rules (notice, horizon, services not bookable),
the manage link (view, reschedule, cancel, cut-off, expired, forged), the
limits, the honeypot, and that nothing public shows another client's data.

One seeded server per backend (module-scoped `bk`); each test books on its
own day.
"""
import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import uuid

import pytest

from test_appointments import BRANCH, FACIAL, MASAJE, booking_server, day_at, future_monday

T, B = "spa-demo", "centro"
BASE = f"/api/v1/public/b/{T}/{B}"


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def bk(request, tmp_path_factory):
    for srv in booking_server(request, tmp_path_factory):
        st, body = srv.call("admin", "PUT", "/api/v1/online-booking", {
            "tenant_slug": T, "branches": [{"id": BRANCH, "slug": B}], "enabled": True,
            "horizon_days": 120, "min_notice_min": 120, "cancel_cutoff_min": 1440,
            "limit_bookings_per_address_hour": 10000, "limit_bookings_per_phone_day": 1000,
            "limit_lookups_per_address_min": 100000})
        assert st == 200, body
        yield srv


def pub(bk, method, path, body=None, headers=None):
    st, _, payload = bk.server.request(method, path, body, headers=headers)
    return st, payload


def times(bk, day, service=FACIAL, pro=None):
    q = f"{BASE}/times?service_id={service}&date={day.isoformat()}"
    if pro:
        q += f"&professional_id={pro}"
    st, body = pub(bk, "GET", q)
    assert st == 200, body
    return body["times"]


def book(bk, start, pro=None, key=None, phone=None, first="Ana", last="Prueba", service=FACIAL,
         **extra):
    body = {"service_id": service, "professional_id": pro, "start": start,
            "first_name": first, "last_name": last,
            "phone": phone or "55 " + str(uuid.uuid4().int)[:8]}
    body.update(extra)
    return pub(bk, "POST", f"{BASE}/bookings", body,
               {"Idempotency-Key": key if key is not None else uuid.uuid4().hex})


def manage(bk, token, method="GET", path="", body=None):
    return pub(bk, method, "/api/v1/public/manage" + path, body, {"X-Manage-Token": token})


def test_settings_slugs_and_roles(bk):
    st, s = bk.call("admin", "GET", "/api/v1/online-booking")
    assert st == 200 and s["tenant_slug"] == T and s["enabled"] is True
    assert s["branches"][0]["slug"] == B and s["branches"][0]["url"].endswith(f"/b/{T}/{B}")
    assert any(x["id"] == FACIAL and x["online_bookable"] for x in s["services"])
    st, _ = bk.call("manager", "GET", "/api/v1/online-booking")
    assert st == 200
    st, e = bk.call("manager", "PUT", "/api/v1/online-booking", {"enabled": False})
    assert st == 403
    st, e = bk.call("recep", "GET", "/api/v1/online-booking")
    assert st == 403
    for bad, field in [({"tenant_slug": "Spa Demo"}, "tenant_slug"), ({"step_min": 7}, "step_min"),
                       ({"color": "red"}, "color"),
                       ({"frame_ancestors": ["javascript:alert(1)"]}, "frame_ancestors"),
                       ({"branches": [{"id": BRANCH, "slug": "-x"}]}, "branches")]:
        st, e = bk.call("admin", "PUT", "/api/v1/online-booking", bad)
        assert st == 400 and e["error"]["field"] == field, (bad, e)
    # A slug another tenant holds is refused, naming it.
    bk.sql("INSERT INTO tenants (name, email, timezone, slug) "
           "VALUES ('Otro Spa', 'otro@spa.example', 'America/Mexico_City', 'otro-spa')")
    st, e = bk.call("admin", "PUT", "/api/v1/online-booking", {"tenant_slug": "otro-spa"})
    assert st == 409 and e["error"]["code"] == "duplicate" and e["error"]["field"] == "tenant_slug"
    st, s = bk.call("admin", "GET", "/api/v1/online-booking")
    assert s["tenant_slug"] == T
    # The QR code of the link, made by the binary.
    st, hdrs, svg = bk.server.request("GET", f"/api/v1/online-booking/qr.svg?branch_id={BRANCH}",
                                      headers={"Authorization": "Bearer " + bk.token("admin")})
    assert st == 200 and hdrs["Content-Type"].startswith("image/svg+xml")
    assert svg.startswith("<svg") and svg.count("h1v1h-1z") > 200


def test_branch_info_and_off_switch(bk):
    st, info = pub(bk, "GET", BASE)
    assert st == 200, info
    assert info["tenant"]["slug"] == T and info["branch"]["timezone"] == "America/Mexico_City"
    assert info["branch"]["map_url"].startswith("https://www.openstreetmap.org/search?query=")
    assert {h["day"] for h in info["branch"]["hours"]} == {1, 2, 3, 4, 5, 6}
    assert any(s["id"] == FACIAL and s["duration_min"] == 60 for s in info["services"])
    assert info["professionals"] and "last_name" not in info["professionals"][0]
    st, p = pub(bk, "GET", f"{BASE}/professionals?service_id={FACIAL}")
    assert st == 200 and all(FACIAL in x["service_ids"] for x in p["items"])
    st, s = pub(bk, "GET", f"{BASE}/services")
    assert st == 200 and s["items"] == info["services"]
    for path in [f"/api/v1/public/b/{T}/nope", f"/api/v1/public/b/nope/{B}",
                 "/api/v1/public/b/UPPER/case"]:
        st, e = pub(bk, "GET", path)
        assert st == 404 and e["error"]["code"] == "not_found"
    st, _ = bk.call("admin", "PUT", "/api/v1/online-booking", {"enabled": False})
    assert st == 200
    try:
        st, e = pub(bk, "GET", BASE)
        assert st == 404 and e["error"]["code"] == "not_found"
        st, e = book(bk, day_at(future_monday(2), 10))
        assert st == 404
    finally:
        st, _ = bk.call("admin", "PUT", "/api/v1/online-booking", {"enabled": True})
        assert st == 200


def test_book_from_the_free_times(bk):
    day = future_monday(3)
    free = times(bk, day)
    assert free[0]["start"] == f"{day.isoformat()}T09:00:00-06:00"
    pro = free[0]["professional_ids"][0]
    st, r = book(bk, free[0]["start"], pro=pro, phone="+52 55 9000 0001", email="ana@example.com")
    assert st == 201, r
    token, b = r["manage_token"], r["booking"]
    assert len(token) >= 43 and b["status"] == "PENDING" and b["start"] == free[0]["start"]
    assert b["service"]["id"] == FACIAL and b["professional"]["id"] == pro and b["can_change"]
    rows = bk.sql("SELECT source, manage_token_hash, client_id, created_by FROM appointments "
                  "WHERE source = 'online' AND manage_token_hash = "
                  f"'{hashlib.sha256(token.encode()).hexdigest()}'")
    assert len(rows) == 1 and rows[0][3] in (None, "")  # created by nobody of the staff
    assert token not in json.dumps(bk.sql("SELECT * FROM appointments"), default=str)
    phone = bk.sql(f"SELECT phone FROM clients WHERE id = {rows[0][2]}")[0][0]
    assert phone == "+525590000001"
    # The time is gone for that professional; staff see the booking marked online.
    assert all(pro not in t["professional_ids"] for t in times(bk, day) if t["start"] == b["start"])
    st, lst = bk.call("recep", "GET", f"/api/v1/appointments?from={day}&to={day}&source=online")
    assert st == 200 and [a["source"] for a in lst["items"]] == ["online"]
    st, lst = bk.call("recep", "GET", f"/api/v1/appointments?from={day}&to={day}&source=staff")
    assert st == 200 and lst["items"] == []
    # CONFIRMED from the start when the tenant says so.
    bk.call("admin", "PUT", "/api/v1/online-booking", {"initial_status": "CONFIRMED"})
    try:
        st, r = book(bk, day_at(day, 12), pro=pro)
        assert st == 201 and r["booking"]["status"] == "CONFIRMED"
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking", {"initial_status": "PENDING"})


def test_double_tap_makes_one_appointment(bk):
    day = future_monday(4)
    start = day_at(day, 11)
    key = uuid.uuid4().hex
    before = bk.db.count("appointments")
    with cf.ThreadPoolExecutor(4) as ex:
        res = list(ex.map(lambda _: book(bk, start, key=key, phone="5590000002"), range(4)))
    assert sorted(st for st, _ in res) == [200, 200, 200, 201], res
    assert bk.db.count("appointments") == before + 1
    assert len({r["booking"]["start"] for _, r in res}) == 1
    # Only the last token handed out works (the others were rotated away)...
    ok = [manage(bk, r["manage_token"])[0] for _, r in res]
    assert ok.count(200) == 1 and ok.count(404) == 3
    # ... and the same key with another body is refused.
    st, e = book(bk, day_at(day, 14), key=key, phone="5590000002")
    assert st == 409 and e["error"]["code"] == "idempotency_key_reused"
    st, e = book(bk, start, key="", phone="5590000002")
    assert st == 400 and e["error"]["field"] == "Idempotency-Key"


def test_slot_taken_meanwhile_and_anyone(bk):
    day = future_monday(5)
    free = [t for t in times(bk, day) if t["start"] == day_at(day, 10)][0]
    pros = free["professional_ids"]
    st, r = book(bk, free["start"], pro=pros[0])
    assert st == 201
    st, e = book(bk, free["start"], pro=pros[0])
    assert st == 409 and e["error"]["code"] == "slot_taken" and e["error"]["field"] == "start"
    # "Anyone" takes whoever is still free, until nobody is.
    got = {pros[0]}
    for _ in pros[1:]:
        st, r = book(bk, free["start"])
        assert st == 201, r
        got.add(r["booking"]["professional"]["id"])
    assert got == set(pros)
    st, e = book(bk, free["start"])
    assert st == 409 and e["error"]["code"] == "slot_taken"
    assert all(t["start"] != free["start"] for t in times(bk, day))


def test_client_matched_by_phone(bk):
    day = future_monday(6)
    seeded = bk.sql("SELECT id, first_name, last_name FROM clients WHERE phone LIKE '%1111 0001'"
                    " OR phone = '+525511110001'")
    assert len(seeded) == 1
    cid, first, last = seeded[0]
    n = bk.db.count("clients")
    st, known = book(bk, day_at(day, 9), phone="55-1111-0001", first="Isa", last="Anónima")
    assert st == 201, known
    st, unknown = book(bk, day_at(day, 11), phone="55-7777-0001", first="Isa", last="Anónima")
    assert st == 201, unknown
    # The same answer whether the number was known or not.
    strip = lambda r: {k: v for k, v in r["booking"].items() if k not in ("start", "end",
                                                                         "change_until",
                                                                         "professional")}
    assert strip(known) == strip(unknown) and known.keys() == unknown.keys()
    assert bk.db.count("clients") == n + 1
    row = bk.sql(f"SELECT first_name, last_name FROM clients WHERE id = {cid}")[0]
    assert list(row) == [first, last]  # not overwritten by a visitor
    note = bk.sql(f"SELECT notes FROM appointments WHERE client_id = {cid} AND source = 'online'")
    assert len(note) == 1 and "Isa Anónima" in note[0][0]
    # The same number typed another way is the same client.
    st, _ = book(bk, day_at(day, 13), phone="+52 1 55 7777 0001", first="Isa", last="Anónima")
    assert st == 201 and bk.db.count("clients") == n + 1
    st, e = book(bk, day_at(day, 15), phone="12ab")
    assert st == 400 and e["error"]["field"] == "phone"


def test_rules_notice_horizon_services(bk):
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    st, e = book(bk, (now + dt.timedelta(minutes=30)).isoformat())
    assert st == 409 and e["error"]["code"] == "too_soon"
    st, e = book(bk, (now + dt.timedelta(days=200)).isoformat())
    assert st == 409 and e["error"]["code"] == "too_far"
    far = future_monday(20)
    assert times(bk, far) == []  # beyond 120 days
    day = future_monday(7)
    st, e = book(bk, day_at(day, 10, 7))  # off the 15-minute grid
    assert st == 409 and e["error"]["code"] == "slot_taken"
    st, e = book(bk, day_at(day, 22))  # closed
    assert st == 409 and e["error"]["code"] == "slot_taken"
    st, s = bk.call("admin", "GET", "/api/v1/online-booking")
    ids = [x["id"] for x in s["services"] if x["id"] != MASAJE]
    st, _ = bk.call("admin", "PUT", "/api/v1/online-booking", {"online_service_ids": ids})
    assert st == 200
    try:
        st, e = pub(bk, "GET", f"{BASE}/times?service_id={MASAJE}&date={day}")
        assert st == 404 and e["error"]["code"] == "not_bookable"
        st, e = book(bk, day_at(day, 10), service=MASAJE)
        assert st == 409 and e["error"]["code"] == "not_bookable"
        st, info = pub(bk, "GET", BASE)
        assert MASAJE not in [x["id"] for x in info["services"]]
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking",
                {"online_service_ids": [x["id"] for x in s["services"]]})
    # A 30-minute step offers :00 and :30 only.
    bk.call("admin", "PUT", "/api/v1/online-booking", {"step_min": 30})
    try:
        assert {t["start"][14:16] for t in times(bk, day)} == {"00", "30"}
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking", {"step_min": 15})


def test_manage_view_reschedule_cancel(bk):
    day = future_monday(8)
    st, r = book(bk, day_at(day, 10))
    assert st == 201
    tok, pro = r["manage_token"], r["booking"]["professional"]["id"]
    st, v = manage(bk, tok)
    assert st == 200 and v["booking"]["start"] == day_at(day, 10) and "manage_token" not in v
    st, t = manage(bk, tok, path=f"/times?date={day}")
    assert st == 200 and any(x["start"] == day_at(day, 10) for x in t["times"])  # its own
    st, v = manage(bk, tok, "POST", "/reschedule", {"start": day_at(day, 10, 30)})
    assert st == 200, v
    assert v["booking"]["start"] == day_at(day, 10, 30) and v["booking"]["professional"]["id"] == pro
    assert any(pro in x["professional_ids"] for x in times(bk, day) if x["start"] == day_at(day, 9))
    # Another's time is refused as taken.
    st, other = book(bk, day_at(day, 15), pro=pro)
    st, e = manage(bk, tok, "POST", "/reschedule", {"start": day_at(day, 15)})
    assert st == 409 and e["error"]["code"] == "slot_taken"
    st, v = manage(bk, tok, "POST", "/cancel")
    assert st == 200 and v["booking"]["status"] == "CANCELLED" and not v["booking"]["can_change"]
    st, e = manage(bk, tok, "POST", "/cancel")
    assert st == 409 and e["error"]["code"] == "not_open"
    st, e = manage(bk, tok, "POST", "/reschedule", {"start": day_at(day, 11)})
    assert st == 409 and e["error"]["code"] == "not_open"


def test_manage_cutoff_expired_forged(bk):
    day = future_monday(2)  # within the 30 days of the cut-off below
    st, r = book(bk, day_at(day, 10))
    tok = r["manage_token"]
    bk.call("admin", "PUT", "/api/v1/online-booking", {"cancel_cutoff_min": 43200})  # 30 days
    try:
        st, v = manage(bk, tok)
        assert st == 200 and v["booking"]["can_change"] is False
        st, e = manage(bk, tok, "POST", "/cancel")
        assert st == 409 and e["error"]["code"] == "cutoff_passed"
        st, e = manage(bk, tok, "POST", "/reschedule", {"start": day_at(day, 12)})
        assert st == 409 and e["error"]["code"] == "cutoff_passed"
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking", {"cancel_cutoff_min": 1440})
    for forged in ["x" * 43, tok[:-1] + ("A" if tok[-1] != "A" else "B"), "", "short"]:
        st, e = manage(bk, forged)
        assert st == 404 and e["error"]["code"] == "link_invalid", forged
    st, e = pub(bk, "GET", "/api/v1/public/manage")
    assert st == 404 and e["error"]["code"] == "link_invalid"
    h = hashlib.sha256(tok.encode()).hexdigest()
    bk.sql("UPDATE appointments SET manage_expires_at = '2020-01-01 00:00:00+00' "
           f"WHERE manage_token_hash = '{h}'")
    st, e = manage(bk, tok)
    assert st == 410 and e["error"]["code"] == "link_expired"
    st, e = manage(bk, tok, "POST", "/cancel")
    assert st == 410


def test_limits_and_honeypot(bk):
    day = future_monday(10)
    n = bk.db.count("appointments")
    st, e = book(bk, day_at(day, 10), website="http://spam.example")
    assert st == 400 and e["error"]["code"] == "rejected" and bk.db.count("appointments") == n
    bk.call("admin", "PUT", "/api/v1/online-booking", {"limit_bookings_per_phone_day": 2})
    try:
        phone = "5590001234"
        assert book(bk, day_at(day, 9), phone=phone)[0] == 201
        assert book(bk, day_at(day, 11), phone=phone)[0] == 201
        st, e = book(bk, day_at(day, 13), phone=phone)
        assert st == 429 and e["error"]["code"] == "rate_limited"
        assert book(bk, day_at(day, 13), phone="5590001235")[0] == 201
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking", {"limit_bookings_per_phone_day": 1000})
    bk.call("admin", "PUT", "/api/v1/online-booking", {"limit_bookings_per_address_hour": 1})
    try:
        st, e = book(bk, day_at(day, 15))
        assert st == 429 and e["error"]["code"] == "rate_limited"
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking",
                {"limit_bookings_per_address_hour": 10000})
    bk.call("admin", "PUT", "/api/v1/online-booking", {"limit_lookups_per_address_min": 1})
    try:
        codes = [pub(bk, "GET", f"{BASE}/services")[0] for _ in range(3)]
        assert codes[-1] == 429
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking", {"limit_lookups_per_address_min": 100000})
    # No row names an address or a number in clear.
    assert "127.0.0.1" not in json.dumps(bk.sql("SELECT bucket FROM rate_limits"))


def test_nothing_public_lists_clients(bk):
    day = future_monday(11)
    st, r = book(bk, day_at(day, 10), phone="5590009999", first="Zoe", last="Secreta",
                 email="zoe@secret.example")
    assert st == 201
    seen = []
    for path in [BASE, f"{BASE}/services", f"{BASE}/professionals",
                 f"{BASE}/times?service_id={FACIAL}&date={day}"]:
        st, body = pub(bk, "GET", path)
        assert st == 200
        seen.append(json.dumps(body, ensure_ascii=False))
    st, v = manage(bk, r["manage_token"])
    seen.append(json.dumps(v, ensure_ascii=False))
    text = " ".join(seen)
    for secret in ["Secreta", "zoe@secret", "5590009999", "Isabella", "1111 0001", "client"]:
        assert secret not in text, secret
    for method, path in [("GET", f"{BASE}/bookings"), ("GET", "/api/v1/public/clients"),
                         ("GET", f"{BASE}/appointments"), ("GET", "/api/v1/appointments"),
                         ("GET", "/api/v1/clients")]:
        st, _ = pub(bk, method, path)
        assert st in (401, 404, 405), (path, st)


def test_public_page_and_framing(bk):
    st, hdrs, html = bk.server.request("GET", f"/b/{T}/{B}")
    assert st == 200 and "text/html" in hdrs["Content-Type"]
    assert "frame-ancestors 'none'" in hdrs["Content-Security-Policy"]
    assert hdrs["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in hdrs["Content-Security-Policy"]
    st, _ = bk.call("admin", "PUT", "/api/v1/online-booking",
                    {"frame_ancestors": ["https://www.salon.example"]})
    assert st == 200
    try:
        st, hdrs, _ = bk.server.request("GET", f"/b/{T}/{B}")
        assert "frame-ancestors https://www.salon.example" in hdrs["Content-Security-Policy"]
        assert hdrs.get("X-Frame-Options") is None
    finally:
        bk.call("admin", "PUT", "/api/v1/online-booking", {"frame_ancestors": []})
