"""Tenant isolation (issue 6): with two tenants in one database, no read,
update, delete or reference crosses between them.  The second tenant and
its admin are made directly in the database; its data through the API as
its own admin.  Both databases, one seeded server per backend."""
import pytest

from api_client import call, error_of, list_all, login, make_tenant, seeded_server


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def world(request, tmp_path_factory):
    for server, database in seeded_server(request.param, tmp_path_factory):
        make_tenant(database, "Otro Salón", "otro@example.com", "admin@otro.example.com")
        t1 = login(server, "admin@citaplanner.com", "admin123")
        t2 = login(server, "admin@otro.example.com", "admin123")
        other = {}
        status, b = call(server, t2, "POST", "/branches", {"name": "Sucursal Centro"})
        assert status == 201, b
        other["branches"] = b["id"]
        status, b = call(server, t2, "POST", "/services",
                         {"name": "Facial Hidratante", "duration_min": 30, "price_cents": 1000})
        assert status == 201, b
        other["services"] = b["id"]
        # The same phone as a client of the first tenant: unique per tenant only.
        status, b = call(server, t2, "POST", "/clients",
                         {"first_name": "Zoe", "last_name": "Otra", "phone": "+52 55 1111 0001",
                          "email": "zoe@example.com"})
        assert status == 201, b
        other["clients"] = b["id"]
        status, b = call(server, t2, "POST", "/users",
                         {"email": "pro@otro.example.com", "password": "password123",
                          "first_name": "Pro", "role": "PROFESSIONAL",
                          "branch_id": other["branches"]})
        assert status == 201, b
        other["users"] = b["id"]
        status, b = call(server, t2, "POST", "/working-hours",
                         {"branch_id": other["branches"], "day_of_week": 1,
                          "start_time": "09:00", "end_time": "17:00"})
        assert status == 201, b
        other["working-hours"] = b["id"]
        status, b = call(server, t2, "PUT", f"/services/{other['services']}/professionals",
                         {"professionals": [{"user_id": other["users"], "commission_pct": 10}]})
        assert status == 200, b
        yield server, database, t1, t2, other


RESOURCES = ["branches", "services", "clients", "users", "working-hours"]
CHANGE = {"branches": {"name": "Hacked"}, "services": {"name": "Hacked"},
          "clients": {"first_name": "Hacked"}, "users": {"first_name": "Hacked"},
          "working-hours": {"start_time": "10:00"}}


def snapshot(server, t2, other):
    return {r: call(server, t2, "GET", f"/{r}/{other[r]}") for r in RESOURCES}


@pytest.mark.parametrize("resource", RESOURCES)
def test_no_read_update_or_delete_across_tenants(world, resource):
    server, _, t1, t2, other = world
    before = snapshot(server, t2, other)
    oid = other[resource]
    assert call(server, t1, "GET", f"/{resource}/{oid}")[0] == 404
    status, body = call(server, t1, "PATCH", f"/{resource}/{oid}", {})
    assert status == 404, body
    status, body = call(server, t1, "PATCH", f"/{resource}/{oid}", CHANGE[resource])
    assert status == 404, body
    status, body = call(server, t1, "DELETE", f"/{resource}/{oid}")
    assert status == 404, body
    assert oid not in [x["id"] for x in list_all(server, t1, f"/{resource}")]
    assert snapshot(server, t2, other) == before


def test_lists_and_search_stay_in_the_tenant(world):
    server, _, t1, t2, other = world
    for token in (t1, t2):
        status, me = call(server, token, "GET", "/auth/me")
        tenant_id = me["tenant"]["id"]
        for r in RESOURCES:
            for item in list_all(server, token, f"/{r}"):
                assert item["tenant_id"] == tenant_id, (r, item)
    status, body = call(server, t1, "GET", "/clients?q=zoe")
    assert status == 200 and body["items"] == []
    status, body = call(server, t1, "GET", "/clients?q=1111%200001")
    assert [c["first_name"] for c in body["items"]] == ["Isabella"]
    status, body = call(server, t2, "GET", "/clients?q=1111%200001")
    assert [c["first_name"] for c in body["items"]] == ["Zoe"]


def test_tenant_resource_is_the_sessions_own(world):
    server, _, t1, t2, _ = world
    s1, b1 = call(server, t1, "GET", "/tenant")
    s2, b2 = call(server, t2, "GET", "/tenant")
    assert s1 == s2 == 200 and b1["id"] != b2["id"] and b2["name"] == "Otro Salón"
    status, body = call(server, t2, "PATCH", "/tenant", {"city": "Madrid"})
    assert status == 200 and body["city"] == "Madrid"
    assert call(server, t1, "GET", "/tenant")[1]["city"] == b1["city"]


def test_no_reference_to_another_tenants_rows(world):
    server, _, t1, _, other = world
    # A service of tenant 1 offered by tenant 2's professional.
    status, body = call(server, t1, "PUT", "/services/1/professionals",
                        {"professionals": [{"user_id": other["users"], "commission_pct": 10}]})
    assert status == 404 and error_of(body) == ("not_found", "professionals[0].user_id"), body
    # Tenant 2's service, from tenant 1.
    assert call(server, t1, "GET", f"/services/{other['services']}/professionals")[0] == 404
    status, _ = call(server, t1, "PUT", f"/services/{other['services']}/professionals",
                     {"professionals": []})
    assert status == 404
    # A user of tenant 1 in tenant 2's branch.
    status, body = call(server, t1, "POST", "/users",
                        {"email": "cross@example.com", "password": "password123",
                         "first_name": "Cross", "role": "RECEPTIONIST",
                         "branch_id": other["branches"]})
    assert status == 404 and error_of(body) == ("not_found", "branch_id"), body
    status, body = call(server, t1, "PATCH", "/users/2", {"branch_id": other["branches"]})
    assert status == 404 and error_of(body) == ("not_found", "branch_id"), body
    # Working hours at tenant 2's branch, or for tenant 2's professional.
    status, body = call(server, t1, "PUT", "/working-hours",
                        {"branch_id": other["branches"], "user_id": None, "hours": []})
    assert status == 404 and error_of(body) == ("not_found", "branch_id"), body
    status, body = call(server, t1, "POST", "/working-hours",
                        {"branch_id": 1, "user_id": other["users"], "day_of_week": 2,
                         "start_time": "09:00", "end_time": "10:00"})
    assert status == 404 and error_of(body) == ("not_found", "user_id"), body
    status, body = call(server, t1, "PATCH", "/working-hours/1", {"branch_id": other["branches"]})
    assert status == 404 and error_of(body) == ("not_found", "branch_id"), body
    # Nothing of tenant 2 was touched: its professional still offers only its service.
    status, items = call(server, t1, "GET", "/services/1/professionals")
    assert other["users"] not in [i["user_id"] for i in items["items"]]


def test_cross_tenant_attempts_change_nothing_in_the_database(world):
    server, database, t1, _, other = world
    tid2 = database.scalar("SELECT id FROM tenants WHERE email = 'otro@example.com'")
    for table in ("branches", "services", "clients", "users", "working_hours",
                  "service_professionals"):
        # Every row of tenant 2 refers only to tenant 2's rows.
        assert database.count(table, f"WHERE tenant_id = {tid2}") >= 1, table
    assert database.count("service_professionals sp JOIN users u ON u.id = sp.user_id",
                          "WHERE sp.tenant_id <> u.tenant_id") == 0
    assert database.count("users u JOIN branches b ON b.id = u.branch_id",
                          "WHERE u.tenant_id <> b.tenant_id") == 0
    assert database.count("working_hours w JOIN branches b ON b.id = w.branch_id",
                          "WHERE w.tenant_id <> b.tenant_id") == 0
