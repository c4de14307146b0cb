"""A bounded JSON fuzz pass against the catalogue API, run under the
sanitizers of the test build: random and malformed bodies, deep nesting,
huge numbers, invalid UTF-8, wrong types, odd headers and query strings.

Every body sent carries at least one value of a kind no field accepts
there, so no write may succeed: every answer must be 4xx, no answer 5xx,
the process must survive and exit cleanly (no ASan/UBSan report, no leak),
and the data must be unchanged.  The generator is seeded: a failure names
the seed and the request.  Both databases."""
import http.client
import json
import random

import pytest

from api_client import login, seeded_server

SEED = 6
REQUESTS = 1000  # per backend

STRING_FIELDS = ["name", "first_name", "last_name", "email", "phone", "address", "city",
                 "country", "timezone", "currency", "description", "color", "notes", "password",
                 "role", "start_time", "end_time"]
INT_FIELDS = ["duration_min", "price_cents", "commission_pct", "day_of_week", "branch_id",
              "user_id"]
BOOL_FIELDS = ["active"]
ARRAY_FIELDS = ["professionals", "hours"]
ALL_FIELDS = STRING_FIELDS + INT_FIELDS + BOOL_FIELDS + ARRAY_FIELDS

WRITES = [("POST", "/api/v1/branches"), ("PATCH", "/api/v1/branches/1"),
          ("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/2"),
          ("POST", "/api/v1/services"), ("PATCH", "/api/v1/services/1"),
          ("PUT", "/api/v1/services/1/professionals"),
          ("POST", "/api/v1/clients"), ("PATCH", "/api/v1/clients/1"),
          ("POST", "/api/v1/working-hours"), ("PUT", "/api/v1/working-hours"),
          ("PATCH", "/api/v1/working-hours/1"), ("PATCH", "/api/v1/tenant"),
          ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/admin/login")]
READS = ["/api/v1/clients", "/api/v1/branches", "/api/v1/services", "/api/v1/users",
         "/api/v1/working-hours", "/api/v1/services/1/professionals", "/api/v1/clients/1"]
TABLES = ["tenants", "branches", "users", "services", "service_professionals", "clients",
          "working_hours"]

ODD_STRINGS = ["", " ", "'; DROP TABLE users;--", "%00", "\ud7ff", "\uffff",
               "\U0010ffff", "a" * 70000, "Ω" * 3000, "09:00", "+52 55 1111 0001",
               "America/Mexico_City", "../../etc/passwd", "ADMIN", "x@y.z", "\\u0000",
               "\r\n\t", "{}", "[]", "null"]
ODD_NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 63 - 1, -2 ** 63, 1.5, -0.0, 1e308, 3.0]


def random_string(rng):
    if rng.random() < 0.5:
        return rng.choice(ODD_STRINGS)
    return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0x80, 0x7ff),
                                   rng.randint(0x800, 0xd7ff), rng.randint(0x10000, 0x10ffff)]))
                   for _ in range(rng.randint(0, 40)))


def random_value(rng, depth=0):
    r = rng.random()
    if r < 0.25:
        return random_string(rng)
    if r < 0.45:
        return rng.choice(ODD_NUMBERS)
    if r < 0.55:
        return rng.choice([True, False, None])
    if depth > 3:
        return None
    if r < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {rng.choice(ALL_FIELDS + ["x", "", "id", "tenant_id"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 5))}


def wrong_kind(rng, field):
    """A value no field of that name accepts (null is fine for some)."""
    if field in STRING_FIELDS:
        pool = [0, 1.5, True, [], {}, [random_string(rng)]]
    elif field in INT_FIELDS:
        pool = ["1", 1.5, 1e300, True, [], {}]
    elif field in BOOL_FIELDS:
        pool = [0, 1, "true", None, [], {}]
    else:
        pool = ["[]", 0, True, None, {"user_id": 1}]
    return rng.choice(pool)


def json_body(rng):
    """An object with at least one value of the wrong kind."""
    body = {f: random_value(rng) for f in rng.sample(ALL_FIELDS, rng.randint(0, 6))}
    bad = rng.choice(ALL_FIELDS)
    body[bad] = wrong_kind(rng, bad)
    if rng.random() < 0.3:
        body["hours"] = [{"day_of_week": random_value(rng), "start_time": random_value(rng),
                          "end_time": wrong_kind(rng, "end_time")}]
    return json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def malformed_body(rng):
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000)))
    if kind == 1:
        n = rng.choice([100, 3000, 200000])
        return b"[" * n + b"]" * n
    if kind == 2:
        n = rng.choice([100, 3000, 50000])
        return b'{"name":' * n + b"1" + b"}" * n
    if kind == 3:
        return rng.choice([b'{"price_cents": 1e999}', b'{"price_cents": -1e999}',
                           b'{"duration_min": 123456789012345678901234567890}',
                           b'{"price_cents": 9223372036854775808}', b'{"x": 1e-400}',
                           b'{"duration_min": -9223372036854775809}', b'{"a": NaN}',
                           b'{"a": Infinity}', b'{"a": 0x10}', b'{"a": 01}'])
    if kind == 4:
        return rng.choice([b'{"first_name": "\xff\xfe"}', b'{"name": "\xc0\xaf"}',
                           b'{"name": "\xed\xa0\x80"}', b'{"\xf8\x88\x80\x80\x80": 1}',
                           b'{"name": "\\ud800"}', b'{"name": "\\udc00\\ud800"}',
                           b'{"name": "a\\u0000b"}', b'{"na\\u0000me": 1}', b'\xef\xbb\xbf{}'])
    if kind == 5:
        good = json.dumps({"name": "x", "phone": "+52 55 0000 0000"}).encode()
        return good[:rng.randrange(len(good))]
    if kind == 6:
        return rng.choice([b"", b" ", b"null", b"true", b"[]", b'"string"', b"12", b"{}{}",
                           b'{"a":1,}', b'{"a" 1}', b"{'a': 1}", b'{"a":1, "a":2}'])
    if kind == 7:
        return b'{"notes": "' + b"n" * (1 << 20) + b'"}'  # over the 1 MiB limit
    if kind == 8:
        return json.dumps([json.loads(json_body(rng))]).encode()
    return json_body(rng)


def random_query(rng):
    params = []
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(["limit", "cursor", "q", "active", "branch_id", "user_id", "role",
                           "day_of_week", "branch_default", "x"])
        value = rng.choice(["", "0", "-1", "201", "50", "abc", "%00", "%ff%fe", "MQ", "Mw",
                            "====", "%27%20OR%201%3D1", "true", "1e9", "99999999999999999999",
                            "%E2%82%AC", "+", "%25", "_", "a" * 500])
        params.append(f"{name}={value}")
    return ("?" + "&".join(params)) if params else ""


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def srv(request, tmp_path_factory):
    yield from seeded_server(request.param, tmp_path_factory)


def counts(database):
    return {t: database.count(t) for t in TABLES}


def test_fuzz(srv):
    server, database = srv
    token = login(server, "admin@citaplanner.com", "admin123")
    before = counts(database)
    rng = random.Random(SEED)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    stats = {}
    try:
        for i in range(REQUESTS):
            headers = {"Authorization": f"Bearer {token}"}
            if rng.random() < 0.07:
                headers = rng.choice([{"Authorization": "Bearer " + "z" * 64},
                                      {"Authorization": "Bearer"}, {"Cookie": ";;=;"},
                                      {"Cookie": "citaplanner_session=" + token},
                                      {"Authorization": "Basic " + "A" * 5000}])
            if rng.random() < 0.2:
                method, path = "GET", rng.choice(READS) + random_query(rng)
                body = None
            else:
                method, path = rng.choice(WRITES)
                body = malformed_body(rng) if rng.random() < 0.5 else json_body(rng)
                headers["Content-Type"] = rng.choice(
                    ["application/json"] * 8 + ["application/json; charset=utf-8",
                                                "application/json; charset=latin1", "text/plain",
                                                "application/JSON", ""])
            what = f"seed {SEED} request {i}: {method} {path[:200]} {str(body)[:300]}"
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (ConnectionError, http.client.HTTPException, OSError):
                # The server may close a connection after refusing a huge body.
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                assert server.proc.poll() is None, f"server died at {what}\n{server.log[-5000:]}"
                continue
            stats[status] = stats.get(status, 0) + 1
            assert status < 500, what
            if method != "GET":
                assert 400 <= status < 500, what
    finally:
        conn.close()
    assert server.proc.poll() is None
    status, _, _ = server.request("GET", "/healthz")
    assert status == 200
    assert counts(database) == before, stats
    assert sum(stats.values()) >= REQUESTS * 0.9, stats
