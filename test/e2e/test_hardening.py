"""Hardening (issue 22): query parameters that are not text, who may read
/metrics, Strict-Transport-Security behind https, and secrets in an invalid
DATABASE_URL.  Each test here failed on the code before its fix."""
import pytest

from api_client import call, error_of, login, raw_request, seeded_server
from conftest import run
from server import Server

TOKEN = "scrape-9f2c61d0a7e54b3c8d1e"


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def srv(request, tmp_path_factory):
    yield from seeded_server(request.param, tmp_path_factory)


@pytest.mark.parametrize("query", ["q=%ff", "q=%C3%28", "q=a%00b", "q=%ED%A0%80", "q=%F4%90%80%80"])
def test_a_query_value_that_is_not_text_is_400_naming_it(srv, query):
    server, _ = srv
    admin = login(server, "admin@citaplanner.com", "admin123")
    status, body = call(server, admin, "GET", f"/clients?{query}")
    assert status == 400, (query, status, body)
    assert error_of(body) == ("invalid", "q"), body
    assert "UTF-8" in body["error"]["message"]


def test_text_queries_still_work(srv):
    server, _ = srv
    admin = login(server, "admin@citaplanner.com", "admin123")
    for q in ("%E2%82%AC", "Mar%C3%ADa", "ana+lopez", "%F0%9F%92%85"):
        status, body = call(server, admin, "GET", f"/clients?q={q}")
        assert status == 200, (q, body)


def test_metrics_default_is_loopback_only(db):
    with Server(db) as s:
        s.wait_ready()
        status, _, _ = raw_request(s, "GET", "/metrics")
        assert status == 200
        # 127.0.0.2 is loopback too (127.0.0.0/8)
        status, _, _ = raw_request(s, "GET", "/metrics", source="127.0.0.2")
        assert status == 200


def test_metrics_outside_the_allow_list_needs_the_token(db):
    env = {"METRICS_ALLOW": "127.0.0.1/32, 10.0.0.0/8", "METRICS_TOKEN": TOKEN}
    with Server(db, env) as s:
        s.wait_ready()
        assert raw_request(s, "GET", "/metrics")[0] == 200
        status, _, body = raw_request(s, "GET", "/metrics", source="127.0.0.2")
        assert status == 403 and error_of(body)[0] == "forbidden", body
        status, _, _ = raw_request(s, "GET", "/metrics", source="127.0.0.2",
                                   headers={"Authorization": "Bearer wrong-token-0123456789"})
        assert status == 403
        status, _, body = raw_request(s, "GET", "/metrics", source="127.0.0.2",
                                      headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and "citaplanner_build_info" in body
        assert s.stop() == 0
    assert TOKEN not in s.log


def test_metrics_allow_none_means_token_only(db):
    with Server(db, {"METRICS_ALLOW": "none", "METRICS_TOKEN": TOKEN}) as s:
        s.wait_ready()
        assert raw_request(s, "GET", "/metrics")[0] == 403
        assert raw_request(s, "GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200


@pytest.mark.parametrize("value", ["10.0.0.0/33", "localhost", "::1/129", "1.2.3.4,,bogus"])
def test_metrics_allow_is_checked_at_start(db, value):
    p = run(["doctor"], database=db, env={"METRICS_ALLOW": value})
    assert p.returncode != 0
    assert "METRICS_ALLOW" in p.stderr + p.stdout


def test_metrics_token_too_short_is_refused_without_showing_it(db):
    p = run(["doctor"], database=db, env={"METRICS_TOKEN": "short-Secret"})
    out = p.stderr + p.stdout
    assert p.returncode != 0 and "METRICS_TOKEN" in out and "short-Secret" not in out


def test_hsts_only_when_public_url_is_https(db):
    with Server(db, {"PUBLIC_URL": "https://citas.example.com"}) as s:
        s.wait_ready()
        _, headers, _ = raw_request(s, "GET", "/healthz")
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    with Server(db) as s:
        s.wait_ready()
        _, headers, _ = raw_request(s, "GET", "/healthz")
        assert headers["Strict-Transport-Security"] is None


def test_invalid_database_url_hides_secrets_after_a_stray_at(tmp_path):
    url = "postgresql://u:PwSecret1@db/x?application_name=ops@host1&sslpassword=SslSecret2"
    p = run(["doctor"], env={"DATABASE_URL": url})
    out = p.stdout + p.stderr
    assert p.returncode != 0 and "DATABASE_URL" in out
    assert "PwSecret1" not in out and "SslSecret2" not in out, out


DEMO_EMAILS = ["admin@citaplanner.com", "manager@citaplanner.com", "pro1@citaplanner.com",
               "pro2@citaplanner.com", "recepcionista@citaplanner.com"]
PROD = {"CITAPLANNER_ENV": "production", "SESSION_SECRET": "s" * 48}


def test_production_refuses_published_demo_passwords_until_changed(db, tmp_path):
    env = dict(PROD, BACKUP_DIR=str(tmp_path / "b"))
    with Server(db, env) as s:
        rc = s.wait_exit(120)
    assert rc == 2, s.log
    assert "ready on" not in s.log
    for email in DEMO_EMAILS:
        assert f"citaplanner admin user-password {email}" in s.log, s.log

    # ALLOW_DEMO_PASSWORDS=1 serves anyway
    with Server(db, dict(env, ALLOW_DEMO_PASSWORDS="1")) as s:
        s.wait_ready(120)
        assert s.stop() == 0

    # the way out the message names: a new password for each, from stdin
    for i, email in enumerate(DEMO_EMAILS[:-1]):
        p = run(["admin", "user-password", email], database=db, input=f"Nueva-clave-{i}x\n")
        assert p.returncode == 0, p.stderr
        assert f"Nueva-clave-{i}x" not in p.stdout + p.stderr
    with Server(db, env) as s:
        rc = s.wait_exit(120)
    assert rc == 2 and "recepcionista@citaplanner.com" in s.log
    assert "admin@citaplanner.com" not in s.log.replace("admin@citaplanner.com with", "")
    assert run(["admin", "user-password", DEMO_EMAILS[-1]], database=db,
               input="Nueva-clave-4x\n").returncode == 0
    with Server(db, env) as s:
        s.wait_ready(120)
        status, _, body = raw_request(s, "POST", "/auth/login",
                                      {"email": "admin@citaplanner.com", "password": "Nueva-clave-0x"})
        assert status == 200, body
        status, _, _ = raw_request(s, "POST", "/auth/login",
                                   {"email": "admin@citaplanner.com", "password": "admin123"})
        assert status == 401
        assert s.stop() == 0


def test_user_password_is_checked_and_names_an_unknown_account(db):
    assert run(["migrate", "deploy"], database=db).returncode == 0
    assert run(["seed"], database=db).returncode == 0
    p = run(["admin", "user-password", "nadie@example.com"], database=db, input="Larga-clave-1\n")
    assert p.returncode == 1 and "no staff account has the e-mail 'nadie@example.com'" in p.stderr
    p = run(["admin", "user-password", "pro1@citaplanner.com"], database=db, input="corta\n")
    assert p.returncode == 2 and "8 to 72 characters" in p.stderr
    p = run(["admin", "user-password"], database=db, input="x\n")
    assert p.returncode == 2


def test_a_password_on_the_command_line_is_warned_about(db, tmp_path):
    p = run(["migrate", "status", "--database-url", "postgresql://u:CmdSecret9@127.0.0.1:1/x"],
            env={"DB_CONNECT_TIMEOUT": "1"})
    assert "visible to every user of this machine" in p.stderr
    assert "CmdSecret9" not in p.stdout + p.stderr
    p = run(["migrate", "status", "--database-url", db.url])
    assert "visible to every user" not in p.stderr or ":" in db.url.split("@")[0].split("//")[-1]
    p = run(["migrate", "status"], database=db)
    assert "visible to every user" not in p.stderr


def test_sigterm_while_waiting_for_the_database_stops_at_once(tmp_path):
    import time
    from conftest import Database
    from server import free_port
    dead = Database("pg", f"postgresql://u:pw@127.0.0.1:{free_port()}/x")
    with Server(dead, {"DB_CONNECT_TIMEOUT": "120", "BACKUP_DIR": str(tmp_path / "b")}) as s:
        deadline = time.time() + 30
        while "database not reachable (attempt 2)" not in s.log and time.time() < deadline:
            time.sleep(0.1)
        assert "database not reachable (attempt 2)" in s.log, s.log
        t0 = time.time()
        s.proc.terminate()
        rc = s.wait_exit(30)
        took = time.time() - t0
    assert rc == 3, s.log
    assert took < 3, f"took {took:.1f} s"
    assert "stopped by SIGTERM while waiting for the database" in s.log


def ids_of(server, token, path):
    from api_client import list_all
    return sorted(item["id"] for item in list_all(server, token, path))


def test_a_professional_reads_only_the_clients_of_its_appointments(srv):
    server, database = srv
    pro = login(server, "pro1@citaplanner.com", "prof123")
    admin = login(server, "admin@citaplanner.com", "admin123")
    pro_id = int(database.scalar("SELECT id FROM users WHERE email = 'pro1@citaplanner.com'"))
    own = sorted(int(r[0]) for r in database.query(
        f"SELECT DISTINCT client_id FROM appointments WHERE professional_id = {pro_id}"))
    every = ids_of(server, admin, "/clients")
    assert own and len(own) < len(every), (own, every)  # the seed gives pro1 some, not all
    assert ids_of(server, pro, "/clients") == own
    for cid in every:
        status, body = call(server, pro, "GET", f"/clients/{cid}")
        if cid in own:
            assert status == 200 and body["id"] == cid
        else:
            assert status == 404 and error_of(body)[0] == "not_found", (cid, body)
    # the search cannot reach past the scope either
    status, body = call(server, pro, "GET", "/clients?q=a")
    assert status == 200 and {c["id"] for c in body["items"]} <= set(own)


def test_a_professional_sees_its_own_availability_only(srv):
    server, database = srv
    pro = login(server, "pro1@citaplanner.com", "prof123")
    ids = {r[0]: int(r[1]) for r in database.query(
        "SELECT email, id FROM users WHERE email IN ('pro1@citaplanner.com', 'pro2@citaplanner.com')")}
    svc, branch = (int(v) for v in database.query(
        f"SELECT sp.service_id, u.branch_id FROM service_professionals sp JOIN users u "
        f"ON u.id = sp.user_id WHERE sp.user_id = {ids['pro1@citaplanner.com']} LIMIT 1")[0])
    import datetime as dt
    day = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    q = f"/availability?service_id={svc}&branch_id={branch}&from={day}&to={day}"
    status, body = call(server, pro, "GET", q + f"&professional_id={ids['pro2@citaplanner.com']}")
    assert status == 403 and error_of(body) == ("forbidden", "professional_id"), body
    status, body = call(server, pro, "GET", q)
    assert status == 200, body
    assert {p["professional_id"] for p in body["professionals"]} <= {ids["pro1@citaplanner.com"]}


def test_changing_ones_own_password_needs_the_current_one(srv):
    server, _ = srv
    admin = login(server, "admin@citaplanner.com", "admin123")
    status, me = call(server, admin, "POST", "/users", {
        "email": "nueva.recepcion@citaplanner.com", "password": "Primera-clave1",
        "first_name": "Nueva", "role": "RECEPTIONIST"})
    assert status == 201, me
    tok = login(server, "nueva.recepcion@citaplanner.com", "Primera-clave1")
    path = f"/users/{me['id']}"
    status, body = call(server, tok, "PATCH", path, {"password": "Segunda-clave2"})
    assert status == 400 and error_of(body) == ("invalid", "current_password"), body
    status, body = call(server, tok, "PATCH", path, {"password": "Segunda-clave2",
                                                      "current_password": "no-es-esta"})
    assert status == 400 and error_of(body) == ("invalid", "current_password"), body
    login(server, "nueva.recepcion@citaplanner.com", "Primera-clave1")  # unchanged
    status, body = call(server, tok, "PATCH", path, {"password": "Segunda-clave2",
                                                      "current_password": "Primera-clave1"})
    assert status == 200 and "current_password" not in body and "password" not in body, body
    login(server, "nueva.recepcion@citaplanner.com", "Segunda-clave2")
    # an ADMIN resetting someone else's password needs no current one
    status, body = call(server, admin, "PATCH", path, {"password": "Tercera-clave3"})
    assert status == 200, body
    login(server, "nueva.recepcion@citaplanner.com", "Tercera-clave3")


def test_another_tenants_email_is_answered_as_an_invalid_one(srv):
    from api_client import make_tenant
    server, database = srv
    make_tenant(database, "Spa Ajeno", "ajeno@example.com", "admin@ajeno.example.com")
    admin = login(server, "admin@citaplanner.com", "admin123")
    user = {"password": "Alguna-clave1", "first_name": "X", "role": "RECEPTIONIST"}
    s_bad, b_bad = call(server, admin, "POST", "/users", dict(user, email="no-es-correo"))
    s_other, b_other = call(server, admin, "POST", "/users", dict(user, email="admin@ajeno.example.com"))
    assert s_bad == s_other == 400
    strip = lambda b: {k: v for k, v in b["error"].items() if k != "request_id"}
    assert strip(b_other) == strip(b_bad), (b_other, b_bad)
    # the tenant's own staff: the plain duplicate answer, nothing hidden from itself
    status, body = call(server, admin, "POST", "/users", dict(user, email="manager@citaplanner.com"))
    assert status == 409 and error_of(body) == ("duplicate", "email"), body
    # the same for the tenant's own address
    s_bad, b_bad = call(server, admin, "PATCH", "/tenant", {"email": "no-es-correo"})
    s_other, b_other = call(server, admin, "PATCH", "/tenant", {"email": "ajeno@example.com"})
    assert s_bad == s_other == 400 and strip(b_other) == strip(b_bad), (b_other, b_bad)
    status, body = call(server, admin, "GET", "/tenant")
    assert status == 200 and body["email"] != "ajeno@example.com"


def test_a_session_ends_after_session_max_age_days_however_active(db):
    with Server(db, {"SESSION_MAX_AGE_DAYS": "2"}) as s:
        s.wait_ready()
        tok = login(s, "admin@citaplanner.com", "admin123")
        assert call(s, tok, "GET", "/auth/me")[0] == 200
        import datetime as dt
        old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=49)).strftime("%Y-%m-%d %H:%M:%S+00")
        db.query(f"UPDATE sessions SET created_at = '{old}'")
        # still within the sliding 12 h: only the absolute limit can end it
        assert db.count("sessions", "WHERE expires_at > " + (
            "strftime('%Y-%m-%d %H:%M:%S+00', 'now')" if db.kind == "sqlite" else "now()")) >= 1
        assert call(s, tok, "GET", "/auth/me")[0] == 401
        tok = login(s, "admin@citaplanner.com", "admin123")
        assert call(s, tok, "GET", "/auth/me")[0] == 200


def test_login_counters_survive_a_restart(db):
    from api_client import login_full
    with Server(db) as s:
        s.wait_ready()
        assert [login_full(s, "manager@citaplanner.com", f"mal-{i}")[0] for i in range(5)] == [401] * 5
        assert s.stop() == 0
    assert db.count("login_throttle") == 3  # the address, the account, the pair
    with Server(db) as s:
        s.wait_ready()
        status, headers, _ = login_full(s, "manager@citaplanner.com", "mal-5")
        assert status == 429 and headers["Retry-After"] == "1"


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_not_the_proxy(db):
    """The README's same-host TLS proxy: every request comes from 127.0.0.1.
    An attacker spraying 50 accounts is refused; everyone else logs in."""
    from concurrent.futures import ThreadPoolExecutor
    from api_client import login_full, raw_request

    def attempt(s, email, pw, xff=None, fwd=None, source=None):
        h = {}
        if xff:
            h["X-Forwarded-For"] = xff
        if fwd:
            h["Forwarded"] = fwd
        status, _, _ = raw_request(s, "POST", "/auth/login", {"email": email, "password": pw},
                                   headers=h, source=source)
        return status

    with Server(db, {"TRUSTED_PROXIES": "127.0.0.1"}) as s:
        s.wait_ready()
        # the attacker's own X-Forwarded-For (spoofed left part) is not believed: the
        # proxy appended the real address on the right
        with ThreadPoolExecutor(max_workers=4) as pool:
            codes = list(pool.map(lambda i: attempt(s, f"spray-{i}@example.com", "x",
                                                    xff=f"10.9.9.{i}, 203.0.113.7"), range(50)))
        assert codes == [401] * 50
        assert attempt(s, "admin@citaplanner.com", "admin123", xff="203.0.113.7") == 429
        assert attempt(s, "admin@citaplanner.com", "admin123", xff="1.1.1.1, 203.0.113.7") == 429
        # everyone else behind the same proxy
        assert attempt(s, "admin@citaplanner.com", "admin123", xff="198.51.100.9") == 200
        assert attempt(s, "admin@citaplanner.com", "admin123",
                       fwd='for=198.51.100.10;proto=https, for="[2001:db8::7]:4711"') == 200
        assert attempt(s, "admin@citaplanner.com", "admin123", fwd="for=203.0.113.7;proto=https") == 429
        # a peer that is not a trusted proxy cannot pick its address
        assert attempt(s, "admin@citaplanner.com", "admin123", xff="203.0.113.7", source="127.0.0.2") == 200
        status, _, body = raw_request(s, "GET", "/metrics")
        assert "citaplanner_login_failures_total 50" in body
        assert "citaplanner_login_throttled_total 3" in body
        assert s.stop() == 0
    assert "failed login from 203.0.113.7" in s.log
    assert "login refused from 203.0.113.7" in s.log


def test_without_trusted_proxies_forwarded_headers_are_ignored(db):
    from api_client import raw_request
    with Server(db) as s:
        s.wait_ready()
        for i in range(5):
            raw_request(s, "POST", "/auth/login", {"email": "pro2@citaplanner.com", "password": "no"},
                        headers={"X-Forwarded-For": f"10.0.0.{i}"})
        status, _, _ = raw_request(s, "POST", "/auth/login",
                                   {"email": "pro2@citaplanner.com", "password": "no"},
                                   headers={"X-Forwarded-For": "10.0.0.99"})
        assert status == 429  # all five counted on 127.0.0.1


def test_trusted_proxies_is_checked(db):
    p = run(["doctor"], database=db, env={"TRUSTED_PROXIES": "proxy.local"})
    assert p.returncode != 0 and "TRUSTED_PROXIES" in p.stdout + p.stderr


def test_online_booking_limits_count_the_forwarded_client_behind_a_trusted_proxy(db):
    """Behind the README's proxy every public request comes from one address:
    the per-address limits of online booking must count the client the proxy
    names, or one busy hour would shut every client out."""
    from api_client import raw_request
    with Server(db, {"TRUSTED_PROXIES": "127.0.0.1"}) as s:
        s.wait_ready()
        admin = login(s, "admin@citaplanner.com", "admin123")
        status, cfg = call(s, admin, "GET", "/online-booking")
        assert status == 200, cfg
        status, body = call(s, admin, "PUT", "/online-booking", {
            "tenant_slug": "spa-demo", "branches": [{"id": cfg["branches"][0]["id"], "slug": "centro"}],
            "enabled": True, "limit_lookups_per_address_min": 3})
        assert status == 200, body
        path = "/api/v1/public/b/spa-demo/centro/services"

        def get(xff):
            return raw_request(s, "GET", path, headers={"X-Forwarded-For": xff})[0]
        assert [get("203.0.113.7") for _ in range(3)] == [200] * 3
        assert get("203.0.113.7") == 429
        assert get("198.51.100.9") == 200  # another client behind the same proxy
