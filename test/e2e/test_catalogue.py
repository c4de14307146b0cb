"""The catalogue resources (issue 6, SPEC §8): /tenant, /branches, /users,
/services (+ /professionals), /clients, /working-hours.  CRUD, validation
(every 400 names its field), SQL-injection text stored verbatim, list
pagination, and delete-or-deactivate.  Both databases; one seeded server
per backend for the module."""
import pytest

from api_client import call, error_of, list_all, login, seeded_server

INJECTIONS = ["Robert'); DROP TABLE clients;--", "' OR '1'='1", "1; DELETE FROM users",
              "\\\"; SELECT pg_sleep(5);--", "%_\\%", "name\u00e9\u4e2d\U0001F600"]


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def srv(request, tmp_path_factory):
    for server, database in seeded_server(request.param, tmp_path_factory):
        yield server, database, login(server, "admin@citaplanner.com", "admin123")


def created(server, token, path, body):
    status, answer = call(server, token, "POST", path, body)
    assert status == 201, (path, body, answer)
    return answer


def assert_invalid(server, token, method, path, body, field, status=400):
    got, answer = call(server, token, method, path, body)
    assert got == status, (method, path, body, answer)
    code, named = error_of(answer)
    assert named == field, (body, answer)
    assert answer["error"]["message"]
    return answer


# ---- tenant ----

def test_tenant_get_and_patch(srv):
    server, _, admin = srv
    status, t = call(server, admin, "GET", "/tenant")
    assert status == 200 and t["currency"] == "MXN" and t["timezone"] == "America/Mexico_City"
    assert t["created_at"].endswith("Z") and "T" in t["created_at"]
    status, t2 = call(server, admin, "PATCH", "/tenant",
                      {"phone": "+52 (55) 5555-0199", "timezone": "America/Cancun"})
    assert status == 200, t2
    assert t2["phone"] == "+525555550199" and t2["timezone"] == "America/Cancun"
    call(server, admin, "PATCH", "/tenant", {"timezone": "America/Mexico_City"})


@pytest.mark.parametrize("body,field", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": 5}, "timezone"),
    ({"currency": "mxn"}, "currency"),
    ({"currency": "MXNN"}, "currency"),
    ({"email": "not-an-email"}, "email"),
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"phone": "12"}, "phone"),
    ({"id": 2}, "id"),
    ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
])
def test_tenant_validation(srv, body, field):
    server, _, admin = srv
    assert_invalid(server, admin, "PATCH", "/tenant", body, field)


# ---- branches ----

def test_branch_crud(srv):
    server, _, admin = srv
    b = created(server, admin, "/branches", {"name": "Sucursal Norte", "email": "Norte@Example.com",
                                             "timezone": "America/Monterrey"})
    assert b["email"] == "norte@example.com" and b["active"] is True and b["tenant_id"] == 1
    status, got = call(server, admin, "GET", f"/branches/{b['id']}")
    assert status == 200 and got == b
    status, upd = call(server, admin, "PATCH", f"/branches/{b['id']}",
                       {"address": "Av. Norte 1", "timezone": None})
    assert status == 200 and upd["address"] == "Av. Norte 1" and upd["timezone"] is None
    status, body = call(server, admin, "POST", "/branches", {"name": "Sucursal Norte"})
    assert status == 409 and error_of(body) == ("duplicate", "name")
    assert call(server, admin, "DELETE", f"/branches/{b['id']}")[0] == 204
    assert call(server, admin, "GET", f"/branches/{b['id']}")[0] == 404


def test_branch_in_use_is_deactivated_not_deleted(srv):
    server, database, admin = srv
    bid = database.scalar("SELECT branch_id FROM appointments ORDER BY id LIMIT 1")
    status, body = call(server, admin, "DELETE", f"/branches/{bid}")
    assert status == 200 and body["deactivated"] is True and body["id"] == bid
    status, got = call(server, admin, "GET", f"/branches/{bid}")
    assert status == 200 and got["active"] is False
    status, got = call(server, admin, "PATCH", f"/branches/{bid}", {"active": True})
    assert status == 200 and got["active"] is True


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"name": 12}, "name"),
    ({"name": "B", "email": "a@b"}, "email"),
    ({"name": "B", "timezone": "Nowhere/Land"}, "timezone"),
    ({"name": "B", "active": "yes"}, "active"),
    ({"name": "B", "active": 1}, "active"),
    ({"name": "B", "phone": "+52 55 abc"}, "phone"),
    ({"name": "B", "address": "x" * 501}, "address"),
    ({"name": "B", "tenant_id": 2}, "tenant_id"),
])
def test_branch_validation(srv, body, field):
    server, _, admin = srv
    assert_invalid(server, admin, "POST", "/branches", body, field)


# ---- services ----

def test_service_crud_and_money_as_cents(srv):
    server, _, admin = srv
    s = created(server, admin, "/services", {"name": "Pedicure Spa", "duration_min": 50,
                                             "price_cents": 79950, "color": "#112233"})
    assert s["price_cents"] == 79950 and isinstance(s["price_cents"], int)
    status, upd = call(server, admin, "PATCH", f"/services/{s['id']}",
                       {"price_cents": 0, "description": "Con sales"})
    assert status == 200 and upd["price_cents"] == 0 and upd["description"] == "Con sales"
    status, body = call(server, admin, "PATCH", f"/services/{s['id']}", {"name": "Facial Hidratante"})
    assert status == 409 and error_of(body) == ("duplicate", "name")
    assert call(server, admin, "DELETE", f"/services/{s['id']}")[0] == 204


def test_service_in_use_is_deactivated(srv):
    server, database, admin = srv
    sid = database.scalar("SELECT service_id FROM appointments ORDER BY id LIMIT 1")
    status, body = call(server, admin, "DELETE", f"/services/{sid}")
    assert status == 200 and body["deactivated"] is True
    assert call(server, admin, "GET", f"/services/{sid}")[1]["active"] is False
    call(server, admin, "PATCH", f"/services/{sid}", {"active": True})


@pytest.mark.parametrize("body,field", [
    ({"duration_min": 60, "price_cents": 100}, "name"),
    ({"name": "S", "price_cents": 100}, "duration_min"),
    ({"name": "S", "duration_min": 0, "price_cents": 100}, "duration_min"),
    ({"name": "S", "duration_min": -5, "price_cents": 100}, "duration_min"),
    ({"name": "S", "duration_min": 60.0, "price_cents": 100}, "duration_min"),
    ({"name": "S", "duration_min": "60", "price_cents": 100}, "duration_min"),
    ({"name": "S", "duration_min": 60, "price_cents": -1}, "price_cents"),
    ({"name": "S", "duration_min": 60, "price_cents": 12.5}, "price_cents"),
    ({"name": "S", "duration_min": 60, "price_cents": True}, "price_cents"),
    ({"name": "S", "duration_min": 60}, "price_cents"),
    ({"name": "S", "duration_min": 60, "price_cents": 1, "colour": "red"}, "colour"),
])
def test_service_validation(srv, body, field):
    server, _, admin = srv
    assert_invalid(server, admin, "POST", "/services", body, field)


def test_service_professionals(srv):
    server, database, admin = srv
    status, body = call(server, admin, "GET", "/services/1/professionals")
    assert status == 200 and body["items"] and body["next_cursor"] is None
    pros = [u["id"] for u in list_all(server, admin, "/users?role=PROFESSIONAL")]
    assert len(pros) >= 2
    status, body = call(server, admin, "PUT", "/services/1/professionals",
                        {"professionals": [{"user_id": pros[0], "commission_pct": 0},
                                           {"user_id": pros[1], "commission_pct": 100}]})
    assert status == 200, body
    assert [(i["user_id"], i["commission_pct"]) for i in body["items"]] == \
        [(pros[0], 0), (pros[1], 100)]
    # Invalid sets change nothing (atomic replace).
    for bad, field, code in [
            ({"professionals": [{"user_id": pros[0], "commission_pct": 101}]},
             "professionals[0].commission_pct", 400),
            ({"professionals": [{"user_id": pros[0], "commission_pct": -1}]},
             "professionals[0].commission_pct", 400),
            ({"professionals": [{"user_id": pros[0]}]}, "professionals[0].commission_pct", 400),
            ({"professionals": [{"user_id": pros[0], "commission_pct": 5, "x": 1}]},
             "professionals[0].x", 400),
            ({"professionals": ["nope"]}, "professionals[0]", 400),
            ({"professionals": {"user_id": 1}}, "professionals", 400),
            ({"professionals": [{"user_id": pros[0], "commission_pct": 5}] * 2},
             "professionals", 400),
            ({"professionals": [{"user_id": 1, "commission_pct": 5}]},  # the ADMIN
             "professionals[0].user_id", 400),
            ({"professionals": [{"user_id": 999999, "commission_pct": 5}]},
             "professionals[0].user_id", 404),
            ({}, "professionals", 400)]:
        assert_invalid(server, admin, "PUT", "/services/1/professionals", bad, field, code)
    status, again = call(server, admin, "GET", "/services/1/professionals")
    assert again["items"] == body["items"]
    status, body = call(server, admin, "PUT", "/services/1/professionals", {"professionals": []})
    assert status == 200 and body["items"] == []
    assert database.count("service_professionals", "WHERE service_id = 1") == 0
    assert call(server, admin, "GET", "/services/999999/professionals")[0] == 404


# ---- clients ----

def test_client_crud_phone_normalised_and_unique(srv):
    server, _, admin = srv
    c = created(server, admin, "/clients", {"first_name": "Ana", "last_name": "López",
                                            "phone": "+52 (55) 2222-0001",
                                            "email": "ANA@Example.com", "notes": "alergia"})
    assert c["phone"] == "+525522220001" and c["email"] == "ana@example.com"
    status, body = call(server, admin, "POST", "/clients",
                        {"first_name": "Otra", "phone": "+52 55 2222 0001"})
    assert status == 409 and error_of(body) == ("duplicate", "phone")
    # A number the seed stored with spaces is the same number.
    status, body = call(server, admin, "POST", "/clients",
                        {"first_name": "Copia", "phone": "+525511110002"})
    assert status == 409 and error_of(body) == ("duplicate", "phone")
    status, body = call(server, admin, "PATCH", f"/clients/{c['id']}", {"phone": "+52 55 1111 0003"})
    assert status == 409 and error_of(body) == ("duplicate", "phone")
    status, body = call(server, admin, "PATCH", f"/clients/{c['id']}",
                        {"phone": "+52 55 2222 0001", "email": None})
    assert status == 200 and body["email"] is None
    assert call(server, admin, "DELETE", f"/clients/{c['id']}")[0] == 204


def test_client_in_use_is_deactivated(srv):
    server, database, admin = srv
    cid = database.scalar("SELECT client_id FROM appointments ORDER BY id LIMIT 1")
    status, body = call(server, admin, "DELETE", f"/clients/{cid}")
    assert status == 200 and body["deactivated"] is True
    assert database.count("clients", f"WHERE id = {cid}") == 1
    status, body = call(server, admin, "GET", "/clients?active=false")
    assert cid in [c["id"] for c in body["items"]]
    call(server, admin, "PATCH", f"/clients/{cid}", {"active": True})


def test_client_search(srv):
    server, _, admin = srv
    created(server, admin, "/clients", {"first_name": "Búsqueda", "last_name": "Prueba",
                                        "phone": "+52 55 3333 0001", "email": "busca@example.com"})
    for q, expect in [("prueba", True), ("PRUEBA", True), ("Búsqueda Prueba", True),
                      ("busca@", True), ("3333 0001", True), ("33330001", True),
                      ("nadie-asi", False), ("%", False), ("_", False)]:
        status, body = call(server, admin, "GET", f"/clients?q={urlq(q)}")
        assert status == 200, body
        names = [c["last_name"] for c in body["items"]]
        assert ("Prueba" in names) == expect, (q, names)
    assert_invalid(server, admin, "GET", f"/clients?q={'x' * 101}", None, "q")


def urlq(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


@pytest.mark.parametrize("body,field", [
    ({"phone": "+52 55 1234 5678"}, "first_name"),
    ({"first_name": "A"}, "phone"),
    ({"first_name": "A", "phone": "1234567"}, "phone"),
    ({"first_name": "A", "phone": "1234567890123456"}, "phone"),
    ({"first_name": "A", "phone": "++5255123456"}, "phone"),
    ({"first_name": "A", "phone": 5255123456}, "phone"),
    ({"first_name": "A", "phone": "+52 55 4444 0001", "email": "a@@b.com"}, "email"),
    ({"first_name": "A", "phone": "+52 55 4444 0001", "email": "a b@c.com"}, "email"),
    ({"first_name": "A", "phone": "+52 55 4444 0001", "email": "a@b." + "c" * 300}, "email"),
    ({"first_name": "A", "phone": "+52 55 4444 0001", "notes": "n" * 2001}, "notes"),
    ({"first_name": ["A"], "phone": "+52 55 4444 0001"}, "first_name"),
    ({"first_name": {"x": 1}, "phone": "+52 55 4444 0001"}, "first_name"),
    ({"first_name": "A", "phone": "+52 55 4444 0001", "active": None}, "active"),
])
def test_client_validation(srv, body, field):
    server, _, admin = srv
    assert_invalid(server, admin, "POST", "/clients", body, field)


def test_sql_injection_text_is_stored_verbatim(srv):
    server, database, admin = srv
    before = database.count("clients")
    ids = []
    for i, text in enumerate(INJECTIONS):
        c = created(server, admin, "/clients", {"first_name": text, "last_name": text,
                                                "phone": f"+52 55 6666 {i:04d}", "notes": text})
        assert c["first_name"] == text and c["notes"] == text
        status, got = call(server, admin, "GET", f"/clients/{c['id']}")
        assert got["first_name"] == text and got["last_name"] == text
        ids.append(c["id"])
        # Searching for the text finds exactly the rows holding it, nothing more.
        status, body = call(server, admin, "GET", f"/clients?q={urlq(text)}")
        assert status == 200 and c["id"] in [x["id"] for x in body["items"]]
    assert database.count("clients") == before + len(INJECTIONS)
    assert database.count("users") >= 5
    s = created(server, admin, "/services", {"name": INJECTIONS[0], "duration_min": 10,
                                             "price_cents": 1, "description": INJECTIONS[1]})
    assert s["name"] == INJECTIONS[0] and s["description"] == INJECTIONS[1]
    status, body = call(server, admin, "GET", "/clients?q=%27%20OR%20%271%27%3D%271")
    assert {x["id"] for x in body["items"]} == {ids[1]}
    for cid in ids:
        call(server, admin, "DELETE", f"/clients/{cid}")


# ---- users ----

def test_user_crud_without_password_hashes(srv):
    server, database, admin = srv
    u = created(server, admin, "/users", {"email": "Nueva@Example.com", "password": "longenough",
                                          "first_name": "Nueva", "last_name": "Persona",
                                          "role": "PROFESSIONAL", "branch_id": 1,
                                          "phone": "+52 55 8888 0001"})
    assert u["email"] == "nueva@example.com" and u["role"] == "PROFESSIONAL"
    assert not any("password" in k or "hash" in k for k in u)
    for item in list_all(server, admin, "/users"):
        assert not any("password" in k or "hash" in k for k in item)
    stored = database.scalar(f"SELECT password_hash FROM users WHERE id = {u['id']}")
    assert stored.startswith("$2b$10$") and "longenough" not in stored
    assert login(server, "nueva@example.com", "longenough")
    status, body = call(server, admin, "POST", "/users",
                        {"email": "nueva@example.com", "password": "longenough",
                         "first_name": "Dup", "role": "ADMIN"})
    assert status == 409 and error_of(body) == ("duplicate", "email")
    status, upd = call(server, admin, "PATCH", f"/users/{u['id']}",
                       {"role": "RECEPTIONIST", "branch_id": None})
    assert status == 200 and upd["role"] == "RECEPTIONIST" and upd["branch_id"] is None
    status, body = call(server, admin, "GET", "/users?role=RECEPTIONIST")
    assert u["id"] in [x["id"] for x in body["items"]]
    assert call(server, admin, "DELETE", f"/users/{u['id']}")[0] == 204
    assert database.count("users", f"WHERE id = {u['id']}") == 0


def test_user_in_use_is_deactivated(srv):
    server, database, admin = srv
    pid = database.scalar("SELECT professional_id FROM appointments ORDER BY id LIMIT 1")
    email = database.scalar(f"SELECT email FROM users WHERE id = {pid}")
    token = login(server, email, "prof123")
    status, body = call(server, admin, "DELETE", f"/users/{pid}")
    assert status == 200 and body["deactivated"] is True
    assert call(server, token, "GET", "/auth/me")[0] == 401  # sessions ended
    call(server, admin, "PATCH", f"/users/{pid}", {"active": True})


@pytest.mark.parametrize("body,field", [
    ({"password": "longenough", "first_name": "A", "role": "ADMIN"}, "email"),
    ({"email": "a@example.com", "first_name": "A", "role": "ADMIN"}, "password"),
    ({"email": "a@example.com", "password": "short", "first_name": "A", "role": "ADMIN"},
     "password"),
    ({"email": "a@example.com", "password": "x" * 73, "first_name": "A", "role": "ADMIN"},
     "password"),
    ({"email": "a@example.com", "password": "longenough", "first_name": "A", "role": "OWNER"},
     "role"),
    ({"email": "a@example.com", "password": "longenough", "first_name": "A", "role": "admin"},
     "role"),
    ({"email": "a@example.com", "password": "longenough", "first_name": "A", "role": "ADMIN",
      "branch_id": 0}, "branch_id"),
    ({"email": "a@example.com", "password": "longenough", "first_name": "A", "role": "ADMIN",
      "branch_id": "1"}, "branch_id"),
    ({"email": "a@example.com", "password": "longenough", "first_name": "A", "role": "ADMIN",
      "password_hash": "$2b$10$abc"}, "password_hash"),
    ({"email": "a@example.com", "password": "longenough", "first_name": "", "role": "ADMIN"},
     "first_name"),
])
def test_user_validation(srv, body, field):
    server, _, admin = srv
    assert_invalid(server, admin, "POST", "/users", body, field)


# ---- working hours ----

def test_working_hours_set_replace_and_rows(srv):
    server, database, admin = srv
    pro = list_all(server, admin, "/users?role=PROFESSIONAL")[0]["id"]
    hours = [{"day_of_week": 1, "start_time": "09:00", "end_time": "13:00"},
             {"day_of_week": 1, "start_time": "14:00", "end_time": "18:30"},
             {"day_of_week": 6, "start_time": "10:00", "end_time": "14:00"}]
    status, body = call(server, admin, "PUT", "/working-hours",
                        {"branch_id": 1, "user_id": pro, "hours": hours})
    assert status == 200, body
    assert [(h["day_of_week"], h["start_time"], h["end_time"]) for h in body["items"]] == \
        [(1, "09:00", "13:00"), (1, "14:00", "18:30"), (6, "10:00", "14:00")]
    assert all(h["user_id"] == pro and h["branch_id"] == 1 for h in body["items"])
    status, listed = call(server, admin, "GET", f"/working-hours?user_id={pro}&day_of_week=1")
    assert len(listed["items"]) == 2
    branch_default = database.count("working_hours", "WHERE user_id IS NULL")
    # An overlapping set is refused whole; the stored set is unchanged.
    bad = hours + [{"day_of_week": 6, "start_time": "13:59", "end_time": "15:00"}]
    assert_invalid(server, admin, "PUT", "/working-hours",
                   {"branch_id": 1, "user_id": pro, "hours": bad}, "hours[3]", 409)
    assert database.count("working_hours", f"WHERE user_id = {pro}") == 3
    # Single rows.
    row = body["items"][2]
    status, got = call(server, admin, "PATCH", f"/working-hours/{row['id']}", {"end_time": "15:00"})
    assert status == 200 and got["end_time"] == "15:00"
    assert_invalid(server, admin, "PATCH", f"/working-hours/{row['id']}", {"end_time": "09:00"},
                   "end_time")
    assert_invalid(server, admin, "PATCH", f"/working-hours/{body['items'][1]['id']}",
                   {"start_time": "12:00"}, "start_time", 409)
    new = created(server, admin, "/working-hours", {"branch_id": 1, "user_id": pro,
                                                    "day_of_week": 0, "start_time": "10:00",
                                                    "end_time": "12:00"})
    assert_invalid(server, admin, "POST", "/working-hours",
                   {"branch_id": 1, "user_id": pro, "day_of_week": 0, "start_time": "11:00",
                    "end_time": "13:00"}, "start_time", 409)
    assert call(server, admin, "DELETE", f"/working-hours/{new['id']}")[0] == 204
    # Replacing with nothing clears the professional's set; the branch's stays.
    status, body = call(server, admin, "PUT", "/working-hours",
                        {"branch_id": 1, "user_id": pro, "hours": []})
    assert status == 200 and body["items"] == []
    assert database.count("working_hours", "WHERE user_id IS NULL") == branch_default
    # A receptionist is not a professional.
    rec = list_all(server, admin, "/users?role=RECEPTIONIST")[0]["id"]
    assert_invalid(server, admin, "PUT", "/working-hours",
                   {"branch_id": 1, "user_id": rec, "hours": []}, "user_id")


@pytest.mark.parametrize("body,field", [
    ({"user_id": None, "day_of_week": 1, "start_time": "09:00", "end_time": "10:00"}, "branch_id"),
    ({"branch_id": 1, "day_of_week": 7, "start_time": "09:00", "end_time": "10:00"},
     "day_of_week"),
    ({"branch_id": 1, "day_of_week": -1, "start_time": "09:00", "end_time": "10:00"},
     "day_of_week"),
    ({"branch_id": 1, "day_of_week": 1, "start_time": "9:00", "end_time": "10:00"}, "start_time"),
    ({"branch_id": 1, "day_of_week": 1, "start_time": "24:00", "end_time": "10:00"},
     "start_time"),
    ({"branch_id": 1, "day_of_week": 1, "start_time": "09:60", "end_time": "10:00"},
     "start_time"),
    ({"branch_id": 1, "day_of_week": 1, "start_time": "09:00", "end_time": "09:00"}, "end_time"),
    ({"branch_id": 1, "day_of_week": 1, "start_time": "10:00", "end_time": "09:00"}, "end_time"),
    ({"branch_id": 1, "day_of_week": 1, "start_time": 900, "end_time": "10:00"}, "start_time"),
    ({"branch_id": 1, "day_of_week": "1", "start_time": "09:00", "end_time": "10:00"},
     "day_of_week"),
])
def test_working_hours_validation(srv, body, field):
    server, _, admin = srv
    assert_invalid(server, admin, "POST", "/working-hours", body, field)
    # The same interval inside a PUT set is named by its place in the list.
    interval = {k: v for k, v in body.items() if k not in ("branch_id", "user_id")}
    put = {"branch_id": 1, "user_id": None, "hours": [interval]}
    if field == "branch_id":
        del put["branch_id"]
    assert_invalid(server, admin, "PUT", "/working-hours", put,
                   field if field == "branch_id" else f"hours[0].{field}")


# ---- lists ----

def test_pagination_is_stable_and_complete(srv):
    server, _, admin = srv
    for i in range(7):
        created(server, admin, "/clients", {"first_name": f"Pag{i}", "phone": f"+52 55 7777 {i:04d}"})
    everything = list_all(server, admin, "/clients", limit=200)
    ids = [c["id"] for c in everything]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    paged, cursor, pages = [], None, 0
    while True:
        path = "/clients?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, body = call(server, admin, "GET", path)
        assert status == 200 and len(body["items"]) <= 3
        paged += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        pages += 1
        if cursor is None:
            break
        # A row created meanwhile does not disturb the walk.
        if pages == 1:
            created(server, admin, "/clients", {"first_name": "Meanwhile",
                                                "phone": "+52 55 7777 9999"})
    assert paged[:len(ids)] == ids and len(paged) == len(ids) + 1
    status, body = call(server, admin, "GET", "/clients")
    assert len(body["items"]) == min(50, len(paged))


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"),
    ("limit=1.5", "limit"), ("cursor=notacursor", "cursor"), ("cursor=MA", "cursor"),
    ("cursor=%00", "cursor"), ("active=yes", "active"),
])
def test_list_parameters_are_checked(srv, query, field):
    server, _, admin = srv
    for resource in ("/clients", "/branches", "/services", "/users", "/working-hours"):
        if field == "active" and resource == "/working-hours":
            continue
        assert_invalid(server, admin, "GET", f"{resource}?{query}", None, field)


def test_unknown_ids_are_404(srv):
    server, _, admin = srv
    for resource in ("branches", "services", "clients", "users", "working-hours"):
        for rid in ("999999", "0", "-1", "abc", "1e3", "99999999999999999999"):
            status, body = call(server, admin, "GET", f"/{resource}/{rid}")
            assert status == 404 and error_of(body)[0] == "not_found", (resource, rid, body)


def test_wrong_content_type_and_bad_json(srv):
    server, _, admin = srv
    status, body = call(server, admin, "POST", "/clients", "first_name=A",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, body = call(server, admin, "POST", "/clients", "{not json")
    assert status == 400 and error_of(body)[0] == "invalid_json"
    status, body = call(server, admin, "POST", "/clients", "[1, 2]")
    assert status == 400
