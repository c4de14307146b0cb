"""The role matrix of SPEC §8, from the outside: every role against every
catalogue endpoint, allowed or 403.

The expectations below are written from the SPEC (and issue 6's decisions),
not read from the C table, so that the two are compared.  Each call is made
so that, when allowed, it changes nothing (an empty body that fails
validation, an id that does not exist): allowed means "not 401/403", denied
means 403 "forbidden".  Both databases, one seeded server per backend."""
import pytest

from api_client import SEED_USERS, call, error_of, login_role, seeded_server

A, M, P, R = "ADMIN", "MANAGER", "PROFESSIONAL", "RECEPTIONIST"
ROLES = (A, M, P, R)
ALL = set(ROLES)
MISSING = 999999999

# resource -> action -> roles allowed (SPEC §8: ADMIN everything in the tenant;
# MANAGER all but managing users and tenant settings (reads them);
# RECEPTIONIST clients (read, create, update) and reads the rest;
# PROFESSIONAL reads services, clients, branches and working hours).
EXPECTED = {
    "tenant": {"read": {A, M, R}, "update": {A}},
    "branches": {"read": ALL, "create": {A, M}, "update": {A, M}, "delete": {A, M}},
    "users": {"read": {A, M, R}, "create": {A}, "update": {A}, "delete": {A}},
    "services": {"read": ALL, "create": {A, M}, "update": {A, M}, "delete": {A, M}},
    "clients": {"read": ALL, "create": {A, M, R}, "update": {A, M, R}, "delete": {A, M}},
    "working_hours": {"read": ALL, "create": {A, M}, "update": {A, M}, "delete": {A, M}},
}

# (method, path, body, resource, action): every catalogue endpoint.
ENDPOINTS = [
    ("GET", "/tenant", None, "tenant", "read"),
    ("PATCH", "/tenant", {"timezone": "Not/AZone"}, "tenant", "update"),
    ("GET", "/branches", None, "branches", "read"),
    ("GET", "/branches/1", None, "branches", "read"),
    ("POST", "/branches", {}, "branches", "create"),
    ("PATCH", f"/branches/{MISSING}", {}, "branches", "update"),
    ("DELETE", f"/branches/{MISSING}", None, "branches", "delete"),
    ("GET", "/users", None, "users", "read"),
    ("GET", f"/users/{MISSING}", None, "users", "read"),
    ("POST", "/users", {}, "users", "create"),
    ("PATCH", f"/users/{MISSING}", {}, "users", "update"),
    ("DELETE", f"/users/{MISSING}", None, "users", "delete"),
    ("GET", "/services", None, "services", "read"),
    ("GET", "/services/1", None, "services", "read"),
    ("POST", "/services", {}, "services", "create"),
    ("PATCH", f"/services/{MISSING}", {}, "services", "update"),
    ("DELETE", f"/services/{MISSING}", None, "services", "delete"),
    ("GET", "/services/1/professionals", None, "services", "read"),
    ("PUT", f"/services/{MISSING}/professionals", {"professionals": []}, "services", "update"),
    ("GET", "/clients", None, "clients", "read"),
    ("GET", "/clients/1", None, "clients", "read"),
    ("POST", "/clients", {}, "clients", "create"),
    ("PATCH", f"/clients/{MISSING}", {}, "clients", "update"),
    ("DELETE", f"/clients/{MISSING}", None, "clients", "delete"),
    ("GET", "/working-hours", None, "working_hours", "read"),
    ("GET", "/working-hours/1", None, "working_hours", "read"),
    ("POST", "/working-hours", {}, "working_hours", "create"),
    ("PUT", "/working-hours", {}, "working_hours", "update"),
    ("PATCH", f"/working-hours/{MISSING}", {}, "working_hours", "update"),
    ("DELETE", f"/working-hours/{MISSING}", None, "working_hours", "delete"),
]


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def srv(request, tmp_path_factory):
    yield from seeded_server(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def tokens(srv):
    server, _ = srv
    return {role: login_role(server, role) for role in ROLES}


def test_every_endpoint_requires_a_session(srv):
    server, _ = srv
    for method, path, body, _, _ in ENDPOINTS:
        status, answer = call(server, None, method, path, body)
        assert status == 401 and error_of(answer)[0] == "unauthorized", (method, path, answer)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(srv, tokens, role):
    server, _ = srv
    wrong = []
    for method, path, body, resource, action in ENDPOINTS:
        allowed = role in EXPECTED[resource][action]
        status, answer = call(server, tokens[role], method, path, body)
        if allowed:
            ok = status not in (401, 403) and status < 500
        else:
            ok = status == 403 and error_of(answer)[0] == "forbidden"
        if not ok:
            wrong.append((method, path, "allowed" if allowed else "denied", status, answer))
    assert not wrong, wrong


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_and_edits_own_profile_but_not_role(srv, tokens, role):
    server, _ = srv
    token = tokens[role]
    status, me = call(server, token, "GET", "/auth/me")
    assert status == 200
    uid = me["user"]["id"]
    status, body = call(server, token, "GET", f"/users/{uid}")
    assert status == 200 and body["email"] == SEED_USERS[role][0]
    status, body = call(server, token, "PATCH", f"/users/{uid}",
                        {"first_name": me["user"]["first_name"]})
    assert status == 200, body
    for change in ({"role": "ADMIN"}, {"active": False}, {"email": "x@example.com"}):
        status, body = call(server, token, "PATCH", f"/users/{uid}", change)
        assert status == 403, (change, body)
        assert error_of(body) == ("forbidden", next(iter(change)))
    status, body = call(server, token, "DELETE", f"/users/{uid}")
    assert status == 403
    status, body = call(server, token, "GET", f"/users/{uid}")
    assert status == 200 and body["role"] == role and body["active"] is True, (status, body)


def test_staff_never_reach_admin_routes(srv, tokens):
    server, _ = srv
    for role in ROLES:
        status, body = call(server, tokens[role], "POST", "/admin/logout")
        assert status == 403, (role, body)
