"""Confirmations, reschedules, cancellations and reminders to clients
(issue 17), on both databases, against real servers on the loopback
(notify_fakes.py): aiosmtpd for e-mail, and a local HTTP server speaking the
WhatsApp Cloud API and Twilio's Messages API.

One seeded server per backend (module-scoped `nt`); each test books on its
own day and picks its client's channel directly in the database.
"""
import datetime as dt
import email
import email.policy
import json
import re
import time

import pytest

from notify_fakes import (TW_SID, TW_TOKEN, WA_PHONE_ID, WA_TOKEN, ApiFake, SmtpFake, wait_for)
from test_appointments import BRANCH, FACIAL, PRO1, booking_server, day_at, future_monday

FROM = "Bella Vita Spa <citas@bellavita.example>"


def configure(srv):
    """The tenant's settings through the API (ADMIN), credentials included."""
    st, body = srv.call("admin", "PUT", "/api/v1/notifications/settings", {
        "email_enabled": True, "whatsapp_enabled": True, "sms_enabled": True,
        "whatsapp_phone_number_id": WA_PHONE_ID, "whatsapp_token": WA_TOKEN,
        "twilio_account_sid": TW_SID, "twilio_auth_token": TW_TOKEN,
        "twilio_from": "+15005550006", "give_up_min": 30})
    assert st == 200, body
    return body


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def nt(request, tmp_path_factory):
    with SmtpFake() as smtp, ApiFake() as api:
        key = tmp_path_factory.mktemp("key") / "secrets.key"
        env = {"SMTP_URL": smtp.url(), "SMTP_FROM": FROM, "WHATSAPP_API_URL": api.url,
               "TWILIO_API_URL": api.url, "SECRETS_KEY_FILE": str(key)}
        for srv in booking_server(request, tmp_path_factory, env=env):
            srv.smtp, srv.api, srv.key = smtp, api, key
            configure(srv)
            yield srv


def client(nt, cid, channel, email_addr=None, opt_out=False):
    nt.sql(f"UPDATE clients SET notify_channel = '{channel}', notify_opt_out = "
           f"{'TRUE' if opt_out else 'FALSE'}, email = "
           f"{repr(email_addr) if email_addr else 'NULL'} WHERE id = {cid}")


def rows(nt, appt_id):
    """The outbox rows of an appointment: dicts, oldest first."""
    cols = ["id", "channel", "kind", "status", "attempts", "provider_id", "error", "send_at",
            "appt_start_at", "recipient", "idempotency_key", "subject", "body"]
    got = nt.sql(f"SELECT {', '.join('CAST(' + c + ' AS TEXT)' for c in cols)} "
                 f"FROM notification_outbox WHERE appointment_id = {appt_id} ORDER BY id")
    return [dict(zip(cols, r)) for r in got]


def instant(s):
    return dt.datetime.fromisoformat(s.replace("+00", "+00:00") if s.endswith("+00") else s)


def book(nt, day, hh, cid):
    st, a = nt.book(client_id=cid, start=day_at(day, hh))
    assert st == 201, a
    return a


def test_whatsapp_confirmation_within_2s_and_reminders_planned(nt):
    client(nt, 1, "whatsapp")
    day = future_monday(2)
    t0 = time.time()
    a = book(nt, day, 10, 1)
    sent = wait_for(lambda: [r for r in rows(nt, a["id"]) if r["status"] == "sent"], 2.5)
    assert sent and time.time() - t0 < 2.5, rows(nt, a["id"])
    conf = sent[0]
    assert conf["kind"] == "confirmation" and conf["channel"] == "whatsapp"
    assert conf["provider_id"].startswith("wamid.")
    req = [r for r in nt.api.of("whatsapp") if r["body"]["to"] == "525511110001"][-1]
    assert req["path"] == f"/v21.0/{WA_PHONE_ID}/messages"
    assert req["headers"]["Authorization"] == f"Bearer {WA_TOKEN}"
    t = req["body"]["template"]
    assert t["name"] == "cita_confirmacion" and t["language"]["code"] == "es_MX"
    params = [p["text"] for p in t["components"][0]["parameters"]]
    assert params[0] == "Isabella" and "Facial Hidratante" in params
    assert any(re.fullmatch(r"lunes \d+ de \w+ de \d{4}", p) for p in params), params
    assert "10:00" in params
    # the reminders: 24 h and 2 h before, pending
    start = instant(rows(nt, a["id"])[0]["appt_start_at"])
    rem = [r for r in rows(nt, a["id"]) if r["kind"] == "reminder"]
    assert sorted(start - instant(r["send_at"]) for r in rem) == \
        [dt.timedelta(hours=2), dt.timedelta(hours=24)]
    assert all(r["status"] == "pending" for r in rem)


def test_email_is_proper_mime_in_spanish(nt):
    client(nt, 2, "email", "diego@example.com")
    day = future_monday(3)
    a = book(nt, day, 11, 2)
    msg = wait_for(lambda: [m for m in nt.smtp.messages if "diego@example.com" in m[1]], 3)
    assert msg, rows(nt, a["id"])
    mail_from, rcpt, raw = msg[-1]
    assert mail_from == "citas@bellavita.example" and rcpt == ["diego@example.com"]
    assert b"\r\n" in raw and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    # the Subject is RFC 2047 (UTF-8 "está"), readable once decoded
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?UTF-8?B?" in head
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert m["Subject"] == "Tu cita en Bella Vita Spa & Wellness está agendada"
    assert m["Date"] is not None and m["To"] == "diego@example.com"
    # the server has the message before the sender has marked its row
    r = wait_for(lambda: [r for r in rows(nt, a["id"]) if r["status"] == "sent"], 3)
    assert r, rows(nt, a["id"])
    r = r[0]
    assert m["Message-ID"] == f"<{r['idempotency_key']}@bellavita.example>"
    assert r["provider_id"] == m["Message-ID"]
    assert m.get_content_type() == "multipart/alternative"
    parts = list(m.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    text, html = parts[0].get_content(), parts[1].get_content()
    assert text.startswith("Hola Diego, tu cita de Facial Hidratante con ")
    assert "quedó agendada para el lunes" in text and "a las 11:00" in text
    assert "$850.00 MXN" in text
    assert "Hola Diego" in html and "<br>" not in text and "Bella Vita Spa &amp; Wellness" not in text


def test_sms_429_retry_after_then_sent_and_4xx_fails_with_reason(nt):
    client(nt, 3, "sms")
    nt.api.script.append(("twilio", 429, {"code": 20429, "message": "Too Many Requests",
                                          "status": 429}, {"Retry-After": "1"}, 0))
    day = future_monday(4)
    a = book(nt, day, 12, 3)
    ok = wait_for(lambda: [r for r in rows(nt, a["id"]) if r["status"] == "sent"], 6)
    assert ok, rows(nt, a["id"])
    assert ok[0]["attempts"] == "2" and ok[0]["provider_id"].startswith("SM")
    reqs = [r for r in nt.api.of("twilio") if r["body"]["To"] == "+525511110003"]
    assert len(reqs) == 2 and reqs[1]["time"] - reqs[0]["time"] >= 0.9
    assert reqs[1]["body"]["From"] == "+15005550006"
    assert reqs[1]["body"]["Body"].startswith("Hola Sofía, tu cita de Facial Hidratante")
    # a refusal for good: failed at once, with Twilio's reason
    nt.api.script.append(("twilio", 400, {"code": 21211, "message":
                                          "The 'To' number +525511110003 is not a valid phone "
                                          "number.", "status": 400}, {}, 0))
    st, b = nt.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel",
                {"reason": "la clienta avisó"})
    assert st == 200, b
    bad = wait_for(lambda: [r for r in rows(nt, a["id"]) if r["kind"] == "cancellation"
                            and r["status"] == "failed"], 5)
    assert bad and "21211" in bad[0]["error"] and "not a valid phone" in bad[0]["error"]
    assert bad[0]["attempts"] == "1"


def test_whatsapp_5xx_is_retried_and_auth_error_fails(nt):
    client(nt, 4, "whatsapp")
    nt.api.script.append(("whatsapp", 503, {"error": {"message": "Service unavailable",
                                                      "code": 2}}, {"Retry-After": "1"}, 0))
    day = future_monday(5)
    a = book(nt, day, 10, 4)
    ok = wait_for(lambda: [r for r in rows(nt, a["id"]) if r["status"] == "sent"], 6)
    assert ok and ok[0]["attempts"] == "2", rows(nt, a["id"])
    nt.api.script.append(("whatsapp", 401, {"error": {
        "message": "Error validating access token", "type": "OAuthException", "code": 190}},
        {}, 0))
    st, b = nt.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel",
                {"reason": "la clienta avisó"})
    assert st == 200, b
    bad = wait_for(lambda: [r for r in rows(nt, a["id"]) if r["kind"] == "cancellation"
                            and r["status"] == "failed"], 5)
    assert bad and "Error validating access token" in bad[0]["error"], rows(nt, a["id"])
    assert WA_TOKEN not in bad[0]["error"]


def test_reschedule_voids_old_reminders_and_plans_new_ones(nt):
    client(nt, 5, "whatsapp")
    day = future_monday(6)
    a = book(nt, day, 10, 5)
    wait_for(lambda: any(r["status"] == "sent" for r in rows(nt, a["id"])), 3)
    st, b = nt.call("recep", "PATCH", f"/api/v1/appointments/{a['id']}",
                    {"start": day_at(day + dt.timedelta(days=1), 15)})
    assert st == 200, b
    rs = rows(nt, a["id"])
    old = [r for r in rs if r["kind"] == "reminder" and r["status"] == "void"]
    new = [r for r in rs if r["kind"] == "reminder" and r["status"] == "pending"]
    assert len(old) == 2 and len(new) == 2, rs
    new_start = instant(new[0]["appt_start_at"])
    assert new_start.hour == 21  # 15:00 in Mexico City is 21:00 UTC
    assert all(r["error"] == "appointment rescheduled" for r in old)
    assert wait_for(lambda: [r for r in rows(nt, a["id"]) if r["kind"] == "reschedule"
                             and r["status"] == "sent"], 3)
    # a cancellation voids the new ones and says so
    st, b = nt.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel",
                {"reason": "la clienta avisó"})
    assert st == 200
    rs = rows(nt, a["id"])
    assert not [r for r in rs if r["kind"] == "reminder" and r["status"] == "pending"]
    assert wait_for(lambda: [r for r in rows(nt, a["id"]) if r["kind"] == "cancellation"
                             and r["status"] == "sent"], 3)


def test_opted_out_client_gets_nothing_and_a_refused_booking_leaves_no_message(nt):
    client(nt, 6, "whatsapp", opt_out=True)
    day = future_monday(7)
    a = book(nt, day, 10, 6)
    assert rows(nt, a["id"]) == []
    client(nt, 6, "whatsapp")
    before = int(nt.db.scalar("SELECT count(*) FROM notification_outbox"))
    st, b = nt.book(client_id=6, start=day_at(day, 10))  # the same slot: 409, rolled back
    assert st == 409, b
    assert int(nt.db.scalar("SELECT count(*) FROM notification_outbox")) == before


def test_settings_credentials_are_write_only_and_admin_only(nt):
    st, s = nt.call("admin", "GET", "/api/v1/notifications/settings")
    assert st == 200, s
    assert s["whatsapp_token"] == "set" and s["twilio_auth_token"] == "set"
    assert s["whatsapp_app_secret"] == "not set"
    assert s["reminder_offsets_min"] == [1440, 120] and s["give_up_min"] == 30
    assert WA_TOKEN not in json.dumps(s) and TW_TOKEN not in json.dumps(s)
    assert "first_name" in s["variables"] and len(s["templates"]) == 3 * 4 * 2
    st, _ = nt.call("manager", "GET", "/api/v1/notifications/settings")
    assert st == 200
    st, _ = nt.call("manager", "PUT", "/api/v1/notifications/settings", {"sms_enabled": False})
    assert st == 403
    st, _ = nt.call("recep", "GET", "/api/v1/notifications/settings")
    assert st == 403
    st, b = nt.call("admin", "PUT", "/api/v1/notifications/settings",
                    {"reminder_offsets_min": [2880, 60], "quiet_start": "21:00",
                     "quiet_end": "08:00"})
    assert st == 200 and b["reminder_offsets_min"] == [2880, 60] and b["quiet_start"] == "21:00"
    st, b = nt.call("admin", "PUT", "/api/v1/notifications/settings", {"quiet_start": "21:00"})
    assert st == 400 and b["error"]["field"] == "quiet_end"
    st, b = nt.call("admin", "PUT", "/api/v1/notifications/settings",
                    {"reminder_offsets_min": [1]})
    assert st == 400 and b["error"]["field"] == "reminder_offsets_min"
    st, b = nt.call("admin", "PUT", "/api/v1/notifications/settings",
                    {"reminder_offsets_min": [1440, 120], "quiet_start": None, "quiet_end": None})
    assert st == 200 and b["quiet_start"] is None
    # the token is never written to the log either
    assert WA_TOKEN not in nt.server.log and TW_TOKEN not in nt.server.log


def test_template_checked_when_saved_and_used_when_sent(nt):
    base = {"channel": "sms", "kind": "confirmation", "language": "es"}
    for text, code in [("Hola {{nombre}}", "template_unknown_variable"),
                       ("Hola {{first_name}", "template_syntax"),
                       ("Hola {{}}", "template_syntax"),
                       ("Cambia: {{manage_link}}", "template_variable_unavailable")]:
        st, b = nt.call("admin", "PUT", "/api/v1/notifications/templates", dict(base, body=text))
        assert st == 400 and b["error"]["code"] == code and b["error"]["field"] == "body", b
    st, b = nt.call("admin", "POST", "/api/v1/notifications/preview",
                    dict(base, body="Hola {{first_name}}, {{service}} el {{date}} {{time}}"))
    assert st == 200 and b["body"].startswith("Hola Isabella, Facial Hidratante el "), b
    st, b = nt.call("admin", "PUT", "/api/v1/notifications/templates",
                    dict(base, body="¡Listo {{first_name}}! {{service}} a las {{time}}."))
    assert st == 200, b
    assert [t for t in b["templates"] if t["channel"] == "sms" and t["kind"] == "confirmation"
            and t["language"] == "es"][0]["custom"] is True
    client(nt, 3, "sms")
    a = book(nt, future_monday(8), 13, 3)
    sent = wait_for(lambda: [r for r in nt.api.of("twilio")
                             if r["body"]["Body"].startswith("¡Listo Sofía! Facial Hidratante")], 3)
    assert sent and sent[0]["body"]["Body"] == "¡Listo Sofía! Facial Hidratante a las 13:00."
    st, b = nt.call("admin", "PUT", "/api/v1/notifications/templates", dict(base, body=None))
    assert st == 200
    del a


def test_message_log_and_resend(nt):
    client(nt, 1, "whatsapp")
    a = book(nt, future_monday(9), 10, 1)
    wait_for(lambda: any(r["status"] == "sent" for r in rows(nt, a["id"])), 3)
    st, b = nt.call("recep", "GET", f"/api/v1/notifications/messages?appointment_id={a['id']}")
    assert st == 200, b
    kinds = sorted(m["kind"] for m in b["items"])
    assert kinds == ["confirmation", "reminder", "reminder"]
    conf = [m for m in b["items"] if m["kind"] == "confirmation"][0]
    assert conf["status"] == "sent" and conf["provider_id"].startswith("wamid.")
    assert conf["attempts"] == 1 and conf["channel"] == "whatsapp"
    st, again = nt.call("recep", "POST", f"/api/v1/notifications/messages/{conf['id']}/resend")
    assert st == 201 and again["id"] != conf["id"] and again["status"] == "pending", again
    assert wait_for(lambda: [r for r in rows(nt, a["id"]) if r["id"] == str(again["id"])
                             and r["status"] == "sent"], 3)
    rem = [m for m in b["items"] if m["kind"] == "reminder"][0]
    st, e = nt.call("recep", "POST", f"/api/v1/notifications/messages/{rem['id']}/resend")
    assert st == 409 and e["error"]["code"] == "message_in_flight"
    st, e = nt.call("recep", "POST", "/api/v1/notifications/messages/999999/resend")
    assert st == 404
    st, e = nt.call("pro1", "GET", "/api/v1/notifications/messages")
    assert st == 403


def wa_post(nt, body, secret="app-secret-123", tenant=1, sign=True):
    import hashlib
    import hmac
    raw = json.dumps(body).encode()
    h = {"Content-Type": "application/json"}
    if sign:
        h["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), raw,
                                                        hashlib.sha256).hexdigest()
    st, _, payload = nt.server.request("POST", f"/webhooks/whatsapp/{tenant}", raw, headers=h)
    return st, payload


def wa_text(frm, text):
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"phone_number_id": WA_PHONE_ID},
                                       "messages": [{"from": frm, "id": "wamid.in" + frm,
                                                     "timestamp": "1700000000", "type": "text",
                                                     "text": {"body": text}}]}}]}]}


def tw_post(nt, fields, token=TW_TOKEN, tenant=1):
    import base64
    import hashlib
    import hmac
    import urllib.parse
    path = f"/webhooks/twilio/{tenant}"
    data = nt.server.url(path) + "".join(k + v for k, v in sorted(fields.items()))
    sig = base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()
    st, _, payload = nt.server.request("POST", path, urllib.parse.urlencode(fields),
                                       headers={"Content-Type":
                                                "application/x-www-form-urlencoded",
                                                "X-Twilio-Signature": sig})
    return st, payload


def status_of(nt, appt_id):
    return nt.db.scalar(f"SELECT status FROM appointments WHERE id = {appt_id}")


def test_whatsapp_reply_confirms_with_a_valid_signature_only(nt):
    st, b = nt.call("admin", "PUT", "/api/v1/notifications/settings",
                    {"whatsapp_app_secret": "app-secret-123"})
    assert st == 200 and b["whatsapp_app_secret"] == "set"
    client(nt, 4, "whatsapp")
    a = book(nt, future_monday(10), 10, 4)
    assert a["status"] == "PENDING"
    st, _ = wa_post(nt, wa_text("525511110004", "1"), secret="wrong")
    assert st == 403 and status_of(nt, a["id"]) == "PENDING"
    st, _ = wa_post(nt, wa_text("525511110004", "1"), sign=False)
    assert st == 403 and status_of(nt, a["id"]) == "PENDING"
    st, _ = wa_post(nt, wa_text("525511110004", "1"), tenant=999)
    assert st == 403
    st, b = wa_post(nt, wa_text("525511110004", " Confirmar "))
    assert st == 200, b
    assert status_of(nt, a["id"]) == "CONFIRMED"
    assert nt.db.scalar("SELECT action FROM notification_replies WHERE sender = '525511110004' "
                        "ORDER BY id DESC LIMIT 1") == "confirmed"


def test_sms_replies_cancel_opt_out_and_notes(nt):
    client(nt, 5, "sms")
    a = book(nt, future_monday(11), 10, 5)
    st, body = tw_post(nt, {"From": "+525511110005", "Body": "CANCELAR", "MessageSid": "SMin1",
                            "AccountSid": TW_SID, "To": "+15005550006"})
    assert st == 200 and "<Response>" in body, body
    assert status_of(nt, a["id"]) == "CANCELLED"
    rs = rows(nt, a["id"])
    assert [r for r in rs if r["kind"] == "cancellation"]
    assert not [r for r in rs if r["kind"] == "reminder" and r["status"] == "pending"]
    st, _ = tw_post(nt, {"From": "+525511110005", "Body": "CANCELAR"}, token="forged")
    assert st == 403
    b2 = book(nt, future_monday(11), 12, 5)
    st, _ = tw_post(nt, {"From": "+525511110005", "Body": "Llego 10 minutos tarde"})
    assert st == 200 and status_of(nt, b2["id"]) == "PENDING"
    assert nt.db.scalar("SELECT body FROM notification_replies WHERE action = 'note' "
                        "ORDER BY id DESC LIMIT 1") == "Llego 10 minutos tarde"
    st, _ = tw_post(nt, {"From": "+525511110005", "Body": "BAJA"})
    assert st == 200
    assert str(nt.db.scalar("SELECT notify_opt_out FROM clients WHERE id = 5")) in ("1", "t")
    assert not [r for r in rows(nt, b2["id"]) if r["status"] == "pending"]
    c = book(nt, future_monday(11), 14, 5)
    assert rows(nt, c["id"]) == []
    client(nt, 5, "sms")


def test_metrics_count_per_channel(nt):
    client(nt, 1, "whatsapp")
    a = book(nt, future_monday(12), 10, 1)
    assert wait_for(lambda: any(r["status"] == "sent" for r in rows(nt, a["id"])), 3)
    st, _, text = nt.server.request("GET", "/metrics")
    assert st == 200, text
    sent = {m.group(1): int(m.group(2)) for m in re.finditer(
        r'^citaplanner_notifications_sent_total\{channel="(\w+)"\} (\d+)$', text, re.M)}
    assert set(sent) == {"email", "whatsapp", "sms"}
    for ch in sent:
        n = int(nt.db.scalar(f"SELECT count(*) FROM notification_outbox WHERE channel = '{ch}' "
                             "AND status = 'sent'"))
        assert sent[ch] == n
    assert sent["whatsapp"] > 0
    assert re.search(r'^citaplanner_notifications_failed_total\{channel="sms"\} \d+$', text, re.M)
    assert re.search(r'^citaplanner_notifications_pending\{channel="whatsapp"\} [1-9]', text, re.M)
    assert "citaplanner_notifications_stuck 0" in text


def test_doctor_checks_the_channels(nt, tmp_path):
    import os
    import subprocess
    from conftest import BIN
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": nt.db.url, "BACKUP_DIR": str(tmp_path),
           "SMTP_URL": nt.smtp.url(), "SMTP_FROM": FROM, "WHATSAPP_API_URL": nt.api.url,
           "TWILIO_API_URL": nt.api.url, "TZ": "UTC", "SECRETS_KEY_FILE": str(nt.key)}
    r = subprocess.run([BIN, "doctor", "--json"], env=env, capture_output=True, text=True)
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["notify_smtp"]["status"] == "OK", checks["notify_smtp"]
    assert checks["notify_secrets"]["status"] == "OK", checks["notify_secrets"]
    assert checks["notify_whatsapp"]["status"] == "OK", checks["notify_whatsapp"]
    assert checks["notify_sms"]["status"] == "OK", checks["notify_sms"]
    assert checks["notify_outbox"]["status"] == "OK"
    env["SMTP_URL"] = "smtp://127.0.0.1:1"
    nt.sql("UPDATE notification_settings SET twilio_auth_token = 'wrong-token'")
    try:
        r = subprocess.run([BIN, "doctor", "--json"], env=env, capture_output=True, text=True)
    finally:  # through the API: sealed again
        st, b = nt.call("admin", "PUT", "/api/v1/notifications/settings",
                        {"twilio_auth_token": TW_TOKEN})
        assert st == 200, b
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["notify_smtp"]["status"] == "FAIL" and checks["notify_smtp"]["fix"]
    assert checks["notify_sms"]["status"] == "FAIL" and "401" in checks["notify_sms"]["detail"]
    assert "wrong-token" not in r.stdout + r.stderr and TW_TOKEN not in r.stdout
