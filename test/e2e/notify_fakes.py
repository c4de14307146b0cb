"""Real servers on the loopback for the notification tests (issue 17):

- an SMTP server (Debian's python3-aiosmtpd) that records every message it
  receives, optionally with AUTH;
- one HTTP server speaking the documented requests and answers of the
  WhatsApp Business Cloud API (POST /{version}/{phone-number-id}/messages,
  bearer token) and of Twilio's Messages API (POST
  /2010-04-01/Accounts/{sid}/Messages.json, basic auth, form body), with a
  queue of scripted answers (errors, 429 with Retry-After, slow answers) to
  play before the normal ones.

Nothing here imports the program: the tests drive `citaplanner serve`.
"""
import base64
import json
import re
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from server import free_port

WA_TOKEN = "EAAGtesttoken-" + "x" * 20
WA_PHONE_ID = "109876543210"
TW_SID = "AC" + "0" * 31 + "1"
TW_TOKEN = "twilio-auth-token-" + "y" * 14


class SmtpFake:
    """aiosmtpd on 127.0.0.1: self.messages is a list of (mail_from, rcpt_tos, bytes)."""

    def __init__(self, user=None, password=None):
        self.messages = []
        self.lock = threading.Lock()
        self.port = free_port()
        kwargs = {}
        if user is not None:
            def auth(server, session, envelope, mechanism, data):
                from aiosmtpd.smtp import AuthResult, LoginPassword
                ok = isinstance(data, LoginPassword) and data.login == user.encode() \
                    and data.password == password.encode()
                return AuthResult(success=ok)
            kwargs = {"authenticator": auth, "auth_require_tls": False, "auth_required": True}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  envelope.original_content or envelope.content))
        return "250 OK queued"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def url(self, user=None, password=None):
        auth = f"{urllib.parse.quote(user)}:{urllib.parse.quote(password)}@" if user else ""
        return f"smtp://{auth}127.0.0.1:{self.port}"


class ApiFake:
    """WhatsApp Cloud API and Twilio Messages API on one loopback port.

    self.requests: dicts {api, path, headers, body (parsed), time}.
    self.script: list of (api, status, body dict, headers dict, delay_s) played
    first, in order, for requests of that api ("whatsapp" / "twilio")."""

    def __init__(self):
        self.requests = []
        self.script = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                """The harmless calls of `doctor`: a number's details, an account's."""
                m_wa = re.fullmatch(r"/(v\d+\.\d+)/(\d+)", self.path)
                m_tw = re.fullmatch(r"/2010-04-01/Accounts/(AC\w+)\.json", self.path)
                if m_wa:
                    if self.headers.get("Authorization") != f"Bearer {WA_TOKEN}":
                        return self.answer(401, {"error": {"message": "Invalid OAuth access token",
                                                           "code": 190}})
                    return self.answer(200, {"verified_name": "Bella Vita", "id": m_wa.group(2)})
                if m_tw:
                    expect = "Basic " + base64.b64encode(f"{TW_SID}:{TW_TOKEN}".encode()).decode()
                    if self.headers.get("Authorization") != expect:
                        return self.answer(401, {"code": 20003, "message": "Authenticate",
                                                 "status": 401})
                    return self.answer(200, {"sid": m_tw.group(1), "status": "active"})
                return self.answer(404, {"error": {"message": "Unknown path", "code": 100}})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n).decode()
                m_wa = re.fullmatch(r"/(v\d+\.\d+)/(\d+)/messages", self.path)
                m_tw = re.fullmatch(r"/2010-04-01/Accounts/(AC\w+)/Messages\.json", self.path)
                api = "whatsapp" if m_wa else "twilio" if m_tw else None
                if api is None:
                    return self.answer(404, {"error": {"message": "Unknown path", "code": 100}})
                body = json.loads(raw) if api == "whatsapp" else \
                    dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                with fake.lock:
                    fake.requests.append({"api": api, "path": self.path,
                                          "headers": dict(self.headers), "body": body,
                                          "time": time.time()})
                    step = next((s for s in fake.script if s[0] == api), None)
                    if step is not None:
                        fake.script.remove(step)
                if step is not None:
                    _, status, sbody, sheaders, delay = step
                    if delay:
                        time.sleep(delay)
                    return self.answer(status, sbody, sheaders)
                if api == "whatsapp":
                    if self.headers.get("Authorization") != f"Bearer {WA_TOKEN}" or \
                            m_wa.group(2) != WA_PHONE_ID:
                        return self.answer(401, {"error": {
                            "message": "Error validating access token", "type": "OAuthException",
                            "code": 190, "fbtrace_id": "Axyz"}})
                    if body.get("messaging_product") != "whatsapp" or body.get("type") != "template":
                        return self.answer(400, {"error": {
                            "message": "(#100) Invalid parameter", "type": "OAuthException",
                            "code": 100}})
                    return self.answer(200, {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                        "messages": [{"id": "wamid." + uuid.uuid4().hex}]})
                expect = "Basic " + base64.b64encode(f"{TW_SID}:{TW_TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expect or m_tw.group(1) != TW_SID:
                    return self.answer(401, {"code": 20003, "message": "Authenticate",
                                             "more_info": "https://www.twilio.com/docs/errors/20003",
                                             "status": 401})
                if not body.get("To", "").startswith("+"):
                    return self.answer(400, {"code": 21211, "message":
                                             f"The 'To' number {body.get('To')} is not a valid "
                                             "phone number.", "status": 400})
                return self.answer(201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued",
                                         "to": body["To"], "from": body.get("From"),
                                         "body": body.get("Body"), "account_sid": TW_SID})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def of(self, api):
        with self.lock:
            return [r for r in self.requests if r["api"] == api]


def wait_for(pred, timeout=10, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
