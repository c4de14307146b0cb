"""Authentication and sessions (issue 6, SPEC §8): login success and failure,
the same answer for an unknown email and a wrong password, expiry and its
sliding, logout, sessions ended by a password change or a deactivation,
the failed-login limit, cookie flags, the CSRF rule, and the master admin.
Both databases; one seeded server per backend for the module."""
import hashlib
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from api_client import (call, call_full, error_of, login, login_full, raw_request,
                        seeded_server, sql_quote)
from server import Server

ADMIN = ("admin@citaplanner.com", "admin123")


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def srv(request, tmp_path_factory):
    yield from seeded_server(request.param, tmp_path_factory)


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def make_user(server, admin_token, email, password="password123", role="RECEPTIONIST"):
    status, body = call(server, admin_token, "POST", "/users",
                        {"email": email, "password": password, "first_name": "Test",
                         "role": role})
    assert status == 201, body
    return body["id"]


def cookie_of(headers):
    cookies = [c for c in headers.get_all("Set-Cookie") or [] if c.startswith("citaplanner_session=")]
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_login_success_returns_token_user_tenant_and_cookie(srv):
    server, _ = srv
    status, headers, body = login_full(server, *ADMIN)
    assert status == 200, body
    assert len(body["token"]) == 64 and int(body["token"], 16) >= 0
    assert body["user"]["email"] == ADMIN[0] and body["user"]["role"] == "ADMIN"
    assert "password_hash" not in body["user"]
    assert body["tenant"]["name"] == "Bella Vita Spa & Wellness"
    assert body["expires_at"].endswith("Z")
    assert len(body["csrf_token"]) == 64
    cookie = cookie_of(headers)
    assert cookie.startswith(f"citaplanner_session={body['token']};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is http here


def test_email_is_case_insensitive(srv):
    server, _ = srv
    status, _, body = login_full(server, "ADMIN@CitaPlanner.com", "admin123")
    assert status == 200, body


def test_session_stored_only_as_its_hash(srv):
    server, database = srv
    token = login(server, *ADMIN)
    assert database.count("sessions", f"WHERE token_hash = {sql_quote(token_hash(token))}") == 1
    assert database.count("sessions", f"WHERE token_hash = {sql_quote(token)}") == 0


def test_unknown_email_and_wrong_password_answer_alike(srv):
    server, _ = srv
    answers, samples = {}, {"wrong": [], "unknown": []}
    # interleaved, so that a loaded machine slows both alike
    for _ in range(5):
        for label, email, pw in [("wrong", ADMIN[0], "nope-nope"),
                                 ("unknown", "nobody-here@example.com", "nope-nope")]:
            t0 = time.monotonic()
            status, _, body = login_full(server, email, pw)
            samples[label].append(time.monotonic() - t0)
            answers[label] = (status, body)
    times = {label: statistics.median(v) for label, v in samples.items()}
    assert answers["wrong"] == answers["unknown"]
    assert answers["wrong"][0] == 401
    assert error_of(answers["wrong"][1]) == ("invalid_credentials", None)
    # bcrypt runs for the unknown email too (a dummy hash): similar times.
    assert times["unknown"] > 0.4 * times["wrong"], times
    assert times["wrong"] > 0.4 * times["unknown"], times


def test_login_validation(srv):
    server, _ = srv
    for body, field in [({"email": ADMIN[0]}, "password"),
                        ({"password": "x"}, "email"),
                        ({"email": 5, "password": "x"}, "email"),
                        ({"email": ADMIN[0], "password": "admin123", "remember": True}, "remember")]:
        status, _, answer = raw_request(server, "POST", "/auth/login", body)
        assert status == 400, answer
        assert error_of(answer) == ("invalid", field)


def test_me_and_logout(srv):
    server, _ = srv
    token = login(server, *ADMIN)
    status, body = call(server, token, "GET", "/auth/me")
    assert status == 200 and body["user"]["email"] == ADMIN[0]
    assert body["tenant"]["timezone"] == "America/Mexico_City"
    status, headers, _ = call_full(server, token, "POST", "/auth/logout")
    assert status == 204
    assert "Max-Age=0" in cookie_of(headers)
    status, body = call(server, token, "GET", "/auth/me")
    assert status == 401 and error_of(body)[0] == "unauthorized"


def test_no_or_bad_token_is_401(srv):
    server, _ = srv
    for headers in [{}, {"Authorization": "Bearer " + "0" * 64},
                    {"Authorization": "Bearer short"}, {"Authorization": "Basic YWRtaW46YWRtaW4="},
                    {"Cookie": "citaplanner_session=" + "a" * 64}]:
        status, _, body = raw_request(server, "GET", "/clients", headers=headers)
        assert status == 401, (headers, body)


def test_expired_session_is_refused(srv):
    server, database = srv
    token = login(server, *ADMIN)
    database.query("UPDATE sessions SET expires_at = '2000-01-01 00:00:00+00' "
                   f"WHERE token_hash = {sql_quote(token_hash(token))}")
    status, _ = call(server, token, "GET", "/auth/me")
    assert status == 401


def test_expiry_slides_on_use(srv):
    server, database = srv
    token = login(server, *ADMIN)
    soon = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(time.time() + 3600))
    where = f"WHERE token_hash = {sql_quote(token_hash(token))}"
    database.query(f"UPDATE sessions SET expires_at = '{soon}' {where}")
    status, _ = call(server, token, "GET", "/auth/me")
    assert status == 200
    after = database.scalar(f"SELECT expires_at FROM sessions {where}")
    later = time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() + 11 * 3600))
    assert str(after)[:16] > later, after


def test_password_change_ends_other_sessions(srv):
    server, _ = srv
    admin = login(server, *ADMIN)
    make_user(server, admin, "pwchange@example.com")
    first = login(server, "pwchange@example.com", "password123")
    second = login(server, "pwchange@example.com", "password123")
    status, me = call(server, second, "GET", "/auth/me")
    uid = me["user"]["id"]
    # The user changes their own password with the second session: it survives, the first not.
    status, body = call(server, second, "PATCH", f"/users/{uid}", {"password": "newpassword1",
                                                                 "current_password": "password123"})
    assert status == 200, body
    assert call(server, first, "GET", "/auth/me")[0] == 401
    assert call(server, second, "GET", "/auth/me")[0] == 200
    # An admin resets it: every session of the user ends.
    status, body = call(server, admin, "PATCH", f"/users/{uid}", {"password": "another-one"})
    assert status == 200, body
    assert call(server, second, "GET", "/auth/me")[0] == 401
    assert login_full(server, "pwchange@example.com", "newpassword1")[0] == 401
    assert login_full(server, "pwchange@example.com", "another-one")[0] == 200


def test_deactivated_user_loses_sessions_and_cannot_log_in(srv):
    server, _ = srv
    admin = login(server, *ADMIN)
    uid = make_user(server, admin, "leaver@example.com")
    token = login(server, "leaver@example.com", "password123")
    status, body = call(server, admin, "PATCH", f"/users/{uid}", {"active": False})
    assert status == 200 and body["active"] is False
    assert call(server, token, "GET", "/auth/me")[0] == 401
    status, _, body = login_full(server, "leaver@example.com", "password123")
    assert status == 401 and error_of(body)[0] == "invalid_credentials"


def test_failed_logins_back_off_per_email_and_address(srv):
    """Five wrong passwords are answered 401; then the account from that
    address backs off exponentially (1 s, 2 s, …: 429 with Retry-After),
    which is no lock: the owner elsewhere logs in, and the attacker's
    address may try again once the back-off is over."""
    server, _ = srv
    admin = login(server, *ADMIN)
    make_user(server, admin, "target@example.com", password="rightpassword")
    codes = [login_full(server, "target@example.com", f"wrong-{i}")[0] for i in range(5)]
    assert codes == [401] * 5
    status, headers, body = login_full(server, "target@example.com", "wrong-5")
    assert status == 429 and error_of(body)[0] == "rate_limited", body
    assert headers["Retry-After"] == "1"
    status, headers, body = login_full(server, "target@example.com", "rightpassword")
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 1
    # The real user, from another address, is not locked out by the attacker.
    status, _, body = login_full(server, "target@example.com", "rightpassword", source="127.0.0.2")
    assert status == 200, body
    # Another account from the attacker's address still works (the per-address limit is higher).
    assert login_full(server, *ADMIN)[0] == 200
    # The back-off doubles with each further failure once the last one is over.
    time.sleep(1.2)
    status, headers, _ = login_full(server, "target@example.com", "wrong-6")
    assert status == 429 and headers["Retry-After"] == "2"
    time.sleep(2.2)
    status, _, body = login_full(server, "target@example.com", "rightpassword")
    assert status == 200, body


def test_failed_logins_are_limited_per_address(srv):
    """Failures spread over many emails (each under the per-email limit) from one
    address reach the per-address limit of 50; the real user, from another
    address, still logs in.  Addresses of their own (127.0.0.3/.4): the other
    tests of the module share 127.0.0.1 and 127.0.0.2."""
    server, _ = srv
    attacker, user = "127.0.0.3", "127.0.0.4"

    def fail(i):
        return login_full(server, f"spray-{i}@example.com", "wrong-password", source=attacker)[0]

    # Concurrently: 50 bcrypt checks one after the other would be the slow part.
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(fail, range(50)))
    assert codes == [401] * 50
    status, headers, body = login_full(server, *ADMIN, source=attacker)
    assert status == 429 and error_of(body)[0] == "rate_limited", body
    assert 0 < int(headers["Retry-After"]) <= 900
    # An unknown email from that address is refused the same way: the address is blocked.
    assert login_full(server, "spray-new@example.com", "x", source=attacker)[0] == 429
    status, _, body = login_full(server, *ADMIN, source=user)
    assert status == 200, body


def test_csrf_rule_for_cookie_sessions(srv):
    server, _ = srv
    status, headers, body = login_full(server, *ADMIN)
    token, csrf = body["token"], body["csrf_token"]
    cookie = {"Cookie": f"citaplanner_session={token}"}
    # Reading with the cookie alone is fine.
    status, _, me = raw_request(server, "GET", "/auth/me", headers=cookie)
    assert status == 200 and me["csrf_token"] == csrf
    client = {"first_name": "Csrf", "phone": "+52 55 7000 0001"}
    status, _, body = raw_request(server, "POST", "/clients", client, headers=cookie)
    assert status == 403 and error_of(body)[0] == "csrf"
    status, _, body = raw_request(server, "POST", "/clients", client,
                                  headers={**cookie, "X-CSRF-Token": "0" * 64})
    assert status == 403 and error_of(body)[0] == "csrf"
    status, _, body = raw_request(server, "POST", "/clients", client,
                                  headers={**cookie, "X-CSRF-Token": csrf})
    assert status == 201, body
    # Bearer requests need no CSRF token: a browser cannot add that header cross-site.
    status, body = call(server, token, "POST", "/clients",
                        {"first_name": "Bearer", "phone": "+52 55 7000 0002"})
    assert status == 201, body
    # Logging out by cookie is a change too.
    status, _, _ = raw_request(server, "POST", "/auth/logout", headers=cookie)
    assert status == 403


def test_master_admin(srv):
    server, database = srv
    status, _, body = raw_request(server, "POST", "/admin/login", {"password": "admin123"})
    assert status == 401 and error_of(body)[0] == "invalid_credentials"  # disabled: no row
    database.query("INSERT INTO master_admin_config (id, password_hash) SELECT 'singleton', "
                   "password_hash FROM users WHERE email = 'admin@citaplanner.com'")
    status, _, body = raw_request(server, "POST", "/admin/login", {"password": "wrong-password"})
    assert status == 401 and error_of(body)[0] == "invalid_credentials"
    status, headers, body = raw_request(server, "POST", "/admin/login", {"password": "admin123"})
    assert status == 200 and body["role"] == "MASTER", body
    master = body["token"]
    assert database.count("sessions", f"WHERE token_hash = {sql_quote(token_hash(master))} "
                          "AND user_id IS NULL") == 1
    # A master session reaches only /admin/*.
    for method, path in [("GET", "/tenant"), ("GET", "/clients"), ("GET", "/auth/me"),
                         ("POST", "/auth/logout")]:
        status, body = call(server, master, method, path)
        assert status == 403, (path, body)
    # Staff sessions never reach /admin/*.
    staff = login(server, *ADMIN)
    assert call(server, staff, "POST", "/admin/logout")[0] == 403
    assert call(server, master, "POST", "/admin/logout")[0] == 204
    assert call(server, master, "GET", "/tenant")[0] == 401


@pytest.mark.parametrize("public_url", ["https://citas.example.com"])
def test_secure_cookie_when_public_url_is_https(db, public_url):
    with Server(db, env={"PUBLIC_URL": public_url}) as server:
        server.wait_ready()
        status, headers, body = login_full(server, *ADMIN)
        assert status == 200, body
        cookie = cookie_of(headers)
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert server.stop() == 0
