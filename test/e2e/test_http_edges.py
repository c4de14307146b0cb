"""Protocol edges (issue 22, item 4), on raw sockets: ambiguous framing
(two Content-Length headers, obsolete line folding, a Transfer-Encoding
other than chunked) is refused 400 before any handler runs, chunk
extensions are accepted, and every error the HTTP layer gives itself is our
JSON error format with nosniff, never libevent's HTML page.

Duplicate Content-Length headers are refused even when equal: RFC 9110
§8.6 lets a recipient either refuse them or keep one, and one answer for
every duplicate is the one nothing downstream can read differently.

Writes go to both databases (a refused POST must create nothing)."""
import json
import socket
import time

import pytest

from api_client import login, seeded_server
from server import Server

CLIENT = b'{"first_name": "Edge", "phone": "+52 55 7100 0001"}'
_serial = iter(range(2, 10000))


def new_client():
    """A client body no other request of this file sends (phones are unique)."""
    return b'{"first_name": "Edge", "phone": "+52 55 7100 %04d"}' % next(_serial)


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def srv(request, tmp_path_factory):
    yield from seeded_server(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def token(srv):
    return login(srv[0], "admin@citaplanner.com", "admin123")


def exchange(server, data, wait=5.0, pieces=None):
    """Send data (or pieces, one after the other) on a fresh connection and
    read until the server closes it or `wait` seconds pass."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        for piece in pieces or [data]:
            s.sendall(piece)
            if pieces:
                time.sleep(0.05)
        s.settimeout(0.2)
        out = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def answers(raw):
    """The answers in raw, in order: [(status, headers dict, body bytes)]."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        # an HTTP/1.0 answer may run to the close
        n = int(headers.get("content-length", str(len(rest))))
        out.append((status, headers, rest[:n]))
        raw = rest[n:]
    return out


def refused(raw, status, code=None):
    """raw is exactly one answer: status, in our JSON error format."""
    got = answers(raw)
    assert len(got) == 1, raw
    st, headers, body = got[0]
    assert st == status, raw
    assert headers["content-type"].startswith("application/json"), raw
    assert headers["x-content-type-options"] == "nosniff", raw
    assert headers["connection"] == "close", raw
    assert b"<HTML" not in body.upper()
    err = json.loads(body)["error"]
    assert set(err) >= {"code", "message"} and err["message"], err
    if code is not None:
        assert err["code"] == code, err
    return err


def post_client(token, extra_headers=b"", body=CLIENT, framing=None):
    if framing is None:
        framing = b"Content-Length: %d\r\n" % len(body)
    return (b"POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n" + framing + extra_headers +
            b"Connection: close\r\n\r\n" + body)


def clients(database):
    return database.count("clients")


def test_two_different_content_lengths_are_400_and_nothing_is_created(srv, token):
    server, database = srv
    before = clients(database)
    n = len(CLIENT)
    for framing in (b"Content-Length: %d\r\nContent-Length: 5\r\n" % n,
                    b"Content-Length: 5\r\nContent-Length: %d\r\n" % n,
                    b"Content-Length: %d, 5\r\n" % n):
        err = refused(exchange(server, post_client(token, framing=framing)), 400, "bad_request")
        assert "Content-Length" in err["message"]
    assert clients(database) == before


def test_equal_duplicate_content_lengths_are_refused_too(srv, token):
    server, database = srv
    before = clients(database)
    n = len(CLIENT)
    for framing in (b"Content-Length: %d\r\nContent-Length: %d\r\n" % (n, n),
                    b"Content-Length: %d, %d\r\n" % (n, n)):
        refused(exchange(server, post_client(token, framing=framing)), 400, "bad_request")
    assert clients(database) == before


@pytest.mark.parametrize("framing", [
    b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",      # both
    b"Transfer-Encoding: gzip\r\nContent-Length: 4\r\n",         # evhttp read CL, ignoring TE
    b"Transfer-Encoding: chunked, gzip\r\n",                    # chunked not last
    b"Transfer-Encoding : chunked\r\n",                          # space before the colon
    b"Transfer-Encoding:\tchunked\r\n",                          # evhttp kept the tab in the value
], ids=["te-and-cl", "gzip-and-cl", "chunked-not-last", "space-before-colon", "tab"])
def test_ambiguous_transfer_encodings_are_refused(srv, token, framing):
    server, database = srv
    before = clients(database)
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(CLIENT), CLIENT)
    refused(exchange(server, post_client(token, framing=framing, body=body)), 400, "bad_request")
    assert clients(database) == before


def test_obsolete_line_folding_is_400_and_nothing_is_created(srv, token):
    server, database = srv
    before = clients(database)
    err = refused(exchange(server, post_client(token, extra_headers=b"X-Note: one\r\n two\r\n")),
                  400, "bad_request")
    assert "folding" in err["message"]
    # a continuation line of Authorization itself
    req = post_client(token).replace(b"Authorization: Bearer ", b"Authorization: Bearer\r\n ")
    refused(exchange(server, req), 400, "bad_request")
    assert clients(database) == before


def test_a_chunked_post_with_extensions_creates_the_client(srv, token):
    server, database = srv
    before = clients(database)

    def chunked(client):
        a, b = client[:20], client[20:]
        return (b"%x;name=value\r\n%s\r\n%x ; quoted=\"a;b\" ; flag\r\n%s\r\n0;last=1\r\n\r\n"
                % (len(a), a, len(b), b))

    got = answers(exchange(server, post_client(token, framing=b"Transfer-Encoding: chunked\r\n",
                                               body=chunked(new_client()))))
    assert [g[0] for g in got] == [201], got
    assert json.loads(got[0][2])["first_name"] == "Edge"
    assert clients(database) == before + 1
    # the same, with every byte in its own packet: extensions split across reads
    body = chunked(new_client())
    req = post_client(token, framing=b"Transfer-Encoding: chunked\r\n", body=body)
    got = answers(exchange(server, None, pieces=[req[:-len(body)]] +
                           [bytes([x]) for x in body]))
    assert [g[0] for g in got] == [201], got
    assert clients(database) == before + 2


def test_a_body_over_the_limit_is_413_json(srv, token):
    server, database = srv
    before = clients(database)
    big = b'{"notes": "' + b"n" * (1 << 20) + b'"}'
    err = refused(exchange(server, post_client(token, body=big)), 413, "payload_too_large")
    assert "larger than" in err["message"]
    # announced only: refused before the body is sent
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(post_client(token, body=b"")[:-len(b"Connection: close\r\n\r\n")]
              .replace(b"Content-Length: 0", b"Content-Length: 99999999999999999999") +
              b"\r\n")
    s.settimeout(5)
    raw = s.recv(65536)
    s.close()
    refused(raw, 413, "payload_too_large")
    # chunked, over the limit in its sizes
    body = b"100000\r\n" + b"x" * 0x100000 + b"\r\n1\r\nx\r\n0\r\n\r\n"
    refused(exchange(server, post_client(token, framing=b"Transfer-Encoding: chunked\r\n",
                                         body=body)), 413, "payload_too_large")
    assert clients(database) == before


@pytest.mark.parametrize("line,status", [
    (b"GET /healthz", 400),
    (b"GET  /healthz HTTP/1.1", 400),
    (b"GET /healthz HTTP/1.1 x", 400),
    (b"GET /hea lthz HTTP/1.1", 400),
    (b"GET /healthz HTTP/1.x", 400),
    (b"GET /healthz\x00 HTTP/1.1", 400),
    (b"G(T /healthz HTTP/1.1", 400),
    (b"GET /healthz HTTP/2.0", 505),
    (b"BREW /healthz HTTP/1.1", 501),
    (b"TRACE /healthz HTTP/1.1", 501),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # TLS to a plain port
], ids=["no-version", "two-spaces", "trailing", "space-in-target", "bad-version", "nul",
        "method-not-token", "http2", "unknown-method", "trace", "tls"])
def test_a_malformed_request_line_is_json(srv, line, status):
    server, _ = srv
    refused(exchange(server, line + b"\r\nHost: x\r\n\r\n"), status)


@pytest.mark.parametrize("head,status", [
    (b"X-A\x01: b\r\n", 400),                 # not a token
    (b"X-A: b\x00c\r\n", 400),                # NUL in a value
    (b"X-A: b\rc\r\n", 400),                  # bare CR
    (b"no colon here\r\n", 400),
    (b": empty name\r\n", 400),
    (b"Host: y\r\n", 400),                    # a second Host
    (b"Expect: 200-ok\r\n", 417),
    (b"X-Big: " + b"a" * 70000 + b"\r\n", 431),
], ids=["name-ctl", "value-nul", "bare-cr", "no-colon", "empty-name", "two-hosts", "expect",
        "too-large"])
def test_malformed_headers_are_json(srv, head, status):
    server, _ = srv
    refused(exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n"), status)


def test_a_long_request_line_is_414_json(srv):
    server, _ = srv
    refused(exchange(server, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 414)


def test_pipelined_requests_are_answered_in_order(srv, token):
    server, database = srv
    before = clients(database)
    for split in (False, True):
        client = new_client()
        one = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
               b"POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Authorization: Bearer " + token.encode() + b"\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n%x;e=1\r\n%s\r\n0\r\n\r\n"
               % (len(client), client) +
               b"\r\nGET /api/v1/nowhere HTTP/1.1\r\nHost: x\r\n\r\n"  # an empty line first: ignored
               b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        pieces = [one[:7], one[7:60], one[60:]] if split else [one]
        got = answers(exchange(server, None, pieces=pieces))
        assert [g[0] for g in got] == [200, 201, 404, 200], got
    assert clients(database) == before + 2


def test_a_bad_request_after_good_ones_is_answered_after_them(srv, token):
    server, database = srv
    before = clients(database)
    client = new_client()
    good = (b"POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: %d\r\n\r\n%s"
            % (len(client), client))
    bad = post_client(token, framing=b"Content-Length: 5\r\nContent-Length: 6\r\n")
    got = answers(exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + good + bad +
                           b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert [g[0] for g in got] == [200, 201, 400], got
    assert got[2][1]["x-content-type-options"] == "nosniff"
    assert clients(database) == before + 1


def test_keep_alive_still_works_and_malformed_ones_are_counted(srv):
    server, _ = srv
    raw = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                           b"GET /healthz HTTP/1.0\r\n\r\n")
    assert [g[0] for g in answers(raw)] == [200, 200]
    raw = exchange(server, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body = answers(raw)[0][2].decode()
    n = [line for line in body.splitlines()
         if line.startswith("citaplanner_http_requests_malformed_total ")]
    assert n and float(n[0].split()[1]) >= 1, n


def test_refusals_behind_https_say_strict_transport_security(db):
    with Server(db, {"PUBLIC_URL": "https://citas.example.com"}) as s:
        s.wait_ready()
        raw = exchange(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n")
        refused(raw, 400, "bad_request")
        assert answers(raw)[0][1]["strict-transport-security"].startswith("max-age=")
        assert s.stop() == 0, s.log[-3000:]
