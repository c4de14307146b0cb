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
    srv.sql("DELETE FROM notification_settings")
    srv.sql("INSERT INTO notification_settings (tenant_id, email_enabled, whatsapp_enabled, "
            "sms_enabled, whatsapp_phone_number_id, whatsapp_token, twilio_account_sid, "
            f"twilio_auth_token, twilio_from, give_up_min) VALUES (1, TRUE, TRUE, TRUE, "
            f"'{WA_PHONE_ID}', '{WA_TOKEN}', '{TW_SID}', '{TW_TOKEN}', '+15005550006', 30)")


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def nt(request, tmp_path_factory):
    with SmtpFake() as smtp, ApiFake() as api:
        env = {"SMTP_URL": smtp.url(), "SMTP_FROM": FROM, "WHATSAPP_API_URL": api.url,
               "TWILIO_API_URL": api.url}
        for srv in booking_server(request, tmp_path_factory, env=env):
            srv.smtp, srv.api = smtp, api
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
    r = rows(nt, a["id"])[0]
    assert m["Message-ID"] == f"<{r['idempotency_key']}@bellavita.example>"
    assert r["provider_id"] == m["Message-ID"] and r["status"] == "sent"
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
    st, b = nt.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel")
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
    st, b = nt.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel")
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
    st, b = nt.call("recep", "POST", f"/api/v1/appointments/{a['id']}/cancel")
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
