"""A small client for the booking API, shared by the e2e tests.

    token = login(server, "admin@citaplanner.com", "admin123")
    status, body = call(server, token, "POST", "/api/v1/clients", {...})

`call` sends the session as a Bearer token (no CSRF token needed); paths
may be given with or without the "/api/v1" prefix.  Bodies that are dicts
or lists go as JSON; str and bytes go as they are (for malformed input).
"""
import http.client
import json

from server import Server  # noqa: F401  (re-exported for the tests' convenience)

PREFIX = "/api/v1"

# The seed's accounts (SPEC §5), by role.
SEED_USERS = {
    "ADMIN": ("admin@citaplanner.com", "admin123"),
    "MANAGER": ("manager@citaplanner.com", "manager123"),
    "PROFESSIONAL": ("pro1@citaplanner.com", "prof123"),
    "RECEPTIONIST": ("recepcionista@citaplanner.com", "prof123"),
}


def api_path(path):
    return path if path.startswith(PREFIX) or path.startswith("/healthz") or \
        path.startswith("/readyz") or path.startswith("/metrics") else PREFIX + path


def raw_request(server, method, path, body=None, headers=None, source=None, timeout=30):
    """One request on a fresh connection.  source: a local address to send
    from (e.g. "127.0.0.2", to look like another client).  Returns
    (status, headers (an http.client.HTTPMessage), parsed JSON or text or None)."""
    h = dict(headers or {})
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode("utf-8", "surrogateescape")
        h.setdefault("Content-Type", "application/json")
    elif isinstance(body, bytes):
        h.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, api_path(path), body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        status, hdrs = r.status, r.headers
    finally:
        conn.close()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    return status, hdrs, payload


def login_full(server, email, password, source=None):
    """POST /auth/login; returns (status, headers, body)."""
    return raw_request(server, "POST", "/auth/login", {"email": email, "password": password},
                       source=source)


def login(server, email, password):
    """Log in and return the session token (asserts success)."""
    status, _, body = login_full(server, email, password)
    assert status == 200, f"login of {email} failed: {status} {body}"
    return body["token"]


def login_role(server, role):
    """A token of the seed's user with that role (ADMIN, MANAGER, PROFESSIONAL, RECEPTIONIST)."""
    return login(server, *SEED_USERS[role])


def call(server, token, method, path, body=None, headers=None):
    """A request with "Authorization: Bearer TOKEN" (token may be None).
    Returns (status, parsed body)."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    status, _, payload = raw_request(server, method, path, body, h)
    return status, payload


def call_full(server, token, method, path, body=None, headers=None):
    """As call, but returns (status, headers, parsed body)."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    return raw_request(server, method, path, body, h)


def list_all(server, token, path, limit=200):
    """Every item of a paginated list, following next_cursor."""
    items, cursor = [], None
    sep = "&" if "?" in path else "?"
    while True:
        p = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, body = call(server, token, "GET", p)
        assert status == 200, f"GET {p}: {status} {body}"
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def error_of(body):
    """(code, field) of a SPEC §8 error body."""
    err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
    return err.get("code"), err.get("field")


def seeded_server(kind, tmp_path_factory, env=None):
    """A generator for a module-scoped fixture: a fresh database of kind
    ("sqlite" or "pg"), `citaplanner serve` on it (seeded on boot), yielding
    (server, database).  At the end the server must stop cleanly (exit 0:
    no sanitizer report, no leak).

        @pytest.fixture(scope="module", params=["sqlite", "pg"])
        def srv(request, tmp_path_factory):
            yield from seeded_server(request.param, tmp_path_factory)
    """
    import uuid
    import conftest

    name = None
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("api") / "data" / "citaplanner.db"
        database = conftest.Database("sqlite", f"sqlite:{path}", str(path))
    else:
        admin = conftest.pg_admin_url()
        name = "t_" + uuid.uuid4().hex[:16]
        conftest.psql(admin, f'CREATE DATABASE "{name}"')
        database = conftest.Database("pg", conftest.pg_url_for(name, admin))
    server = Server(database, env=env)
    try:
        server.wait_ready()
        yield server, database
        rc = server.stop()
        assert "AddressSanitizer" not in server.log and "runtime error" not in server.log, \
            server.log[-5000:]
        assert rc == 0, f"serve exited {rc}:\n{server.log[-5000:]}"
    finally:
        server.__exit__(None, None, None)
        if name is not None:
            conftest.psql(conftest.pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                          check=False)


def sql_quote(s):
    """A SQL string literal (for the tests' direct SQL: conftest's psql helper takes no params)."""
    return "'" + str(s).replace("'", "''") + "'"


def make_tenant(database, name, email, admin_email):
    """A second tenant made directly in the database, with an ADMIN whose
    password is the seed admin's ("admin123", its hash copied).  Returns the
    tenant id."""
    database.query(
        "INSERT INTO tenants (name, email, timezone, currency) VALUES "
        f"({sql_quote(name)}, {sql_quote(email)}, 'Europe/Madrid', 'EUR')")
    tid = int(database.scalar(f"SELECT id FROM tenants WHERE email = {sql_quote(email)}"))
    database.query(
        "INSERT INTO users (tenant_id, email, password_hash, first_name, last_name, role, active) "
        f"SELECT {tid}, {sql_quote(admin_email)}, password_hash, 'Other', 'Admin', 'ADMIN', "
        "active FROM users WHERE email = 'admin@citaplanner.com'")
    return tid
