"""Notifications (issue 17) under crashes, several instances, and the clock
override (CITAPLANNER_FAKE_NOW, read as local time: the servers run with
TZ=UTC), on both databases.  Each test has its own database and starts and
kills its own servers.

- kill -9 right after the booking's commit: the message is sent after a
  restart (none lost);
- kill -9 while the provider holds the request (sent, not yet marked): sent
  again after a restart with the same idempotency key: one duplicate at most
  (neither the WhatsApp Cloud API nor Twilio's Messages API deduplicates);
- two instances: one sender; each message sent once; the other takes over
  when the first dies;
- reminders at their times, and after a reschedule only at the new time;
- quiet hours across a daylight-saving change (America/New_York).
"""
import datetime as dt
import signal
import time
import uuid

import pytest

from conftest import Database, pg_admin_url, pg_url_for, psql
from notify_fakes import ApiFake, SmtpFake, wait_for
from server import Server
from test_appointments import BookingServer, day_at, future_monday
from test_notify import FROM, book, client, configure, rows


class World:
    def __init__(self, db, smtp, api, key):
        self.db, self.smtp, self.api, self.key = db, smtp, api, key
        self.servers = []

    def start(self, fake_now=None, env=None):
        e = {"SMTP_URL": self.smtp.url(), "SMTP_FROM": FROM, "WHATSAPP_API_URL": self.api.url,
             "TWILIO_API_URL": self.api.url, "TZ": "UTC", "SECRETS_KEY_FILE": self.key}
        if fake_now is not None:
            e["CITAPLANNER_FAKE_NOW"] = fake_now.strftime("%Y-%m-%dT%H:%M:%S")
        e.update(env or {})
        srv = Server(self.db, env=e)
        self.servers.append(srv)
        srv.wait_ready()
        return BookingServer(self.db, srv)

    def wa_to(self, phone):
        return [r for r in self.api.of("whatsapp") if r["body"]["to"] == phone]


@pytest.fixture(params=["sqlite", "pg"])
def world(request, tmp_path):
    name = None
    if request.param == "sqlite":
        path = tmp_path / "data" / "citaplanner.db"
        db = Database("sqlite", f"sqlite:{path}", str(path))
    else:
        name = "t_" + uuid.uuid4().hex[:16]
        psql(pg_admin_url(), f'CREATE DATABASE "{name}"')
        db = Database("pg", pg_url_for(name, pg_admin_url()))
    with SmtpFake() as smtp, ApiFake() as api:
        w = World(db, smtp, api, str(tmp_path / "secrets.key"))
        try:
            yield w
        finally:
            for s in w.servers:
                s.__exit__(None, None, None)
            if name is not None:
                psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


def kill9(srv):
    srv.server.proc.send_signal(signal.SIGKILL)
    srv.server.proc.wait(10)


def utc(s):
    return dt.datetime.fromisoformat(s.replace("+00", "+00:00") if s.endswith("+00") else s) \
        .replace(tzinfo=None)


def test_kill_after_commit_loses_nothing(world):
    a_srv = world.start()
    configure(a_srv)
    client(a_srv, 1, "whatsapp")
    a = book(a_srv, future_monday(2), 10, 1)
    kill9(a_srv)  # at once: the sender may or may not have sent it
    b_srv = world.start()
    conf = wait_for(lambda: [r for r in rows(b_srv, a["id"]) if r["kind"] == "confirmation"
                             and r["status"] == "sent"], 5)
    assert conf, rows(b_srv, a["id"])
    assert 1 <= len(world.wa_to("525511110001")) <= 2
    assert b_srv.server.stop() == 0


def test_kill_between_send_and_mark_sends_once_more_with_the_same_key(world):
    a_srv = world.start()
    configure(a_srv)
    client(a_srv, 2, "email", "diego@example.com")
    client(a_srv, 1, "whatsapp")
    world.api.script.append(("whatsapp", 200, {"messaging_product": "whatsapp",
                                               "messages": [{"id": "wamid.slow"}]}, {}, 3))
    a = book(a_srv, future_monday(2), 11, 1)
    assert wait_for(lambda: world.wa_to("525511110001"), 3)  # the provider holds it
    kill9(a_srv)
    r = rows(a_srv, a["id"])[0]
    assert r["status"] == "sending" and r["attempts"] == "1", r
    b_srv = world.start()
    assert wait_for(lambda: rows(b_srv, a["id"])[0]["status"] == "sent", 8), rows(b_srv, a["id"])
    r = rows(b_srv, a["id"])[0]
    assert r["attempts"] == "2" and r["provider_id"].startswith("wamid.")
    reqs = world.wa_to("525511110001")
    assert len(reqs) == 2 and reqs[0]["body"] == reqs[1]["body"]  # one duplicate, at most
    assert "notification sender active" in b_srv.server.log
    assert b_srv.server.stop() == 0


def test_two_instances_one_sender_and_takeover(world):
    s1 = world.start()
    configure(s1)
    client(s1, 1, "whatsapp")
    s2 = world.start()
    day = future_monday(3)
    ids = []
    for i, hh in enumerate([9, 10, 11, 12, 13, 14, 15, 16]):
        srv = s1 if i % 2 == 0 else s2
        ids.append(book(srv, day, hh, 1)["id"])
    assert wait_for(lambda: all(rows(s1, i)[0]["status"] == "sent" for i in ids), 6)
    assert len(world.wa_to("525511110001")) == len(ids)  # each once
    active = [s for s in (s1, s2) if "notification sender active" in s.server.log]
    assert len(active) == 1
    other = s2 if active[0] is s1 else s1
    kill9(active[0])
    a = book(other, day + dt.timedelta(days=1), 10, 1)
    assert wait_for(lambda: rows(other, a["id"])[0]["status"] == "sent", 6), rows(other, a["id"])
    assert "notification sender active" in other.server.log
    assert other.server.stop() == 0


def test_reminders_fire_at_their_times_and_only_for_the_new_start(world):
    s = world.start()
    configure(s)
    client(s, 1, "whatsapp")
    day = future_monday(2)
    a = book(s, day, 10, 1)
    st, b = s.call("recep", "PATCH", f"/api/v1/appointments/{a['id']}",
                   {"start": day_at(day + dt.timedelta(days=1), 15)})
    assert st == 200, b
    wait_for(lambda: all(r["status"] != "pending" for r in rows(s, a["id"])
                         if r["kind"] != "reminder"), 3)
    assert s.server.stop() == 0
    old = utc(rows(s, a["id"])[0]["appt_start_at"])
    new = [utc(r["appt_start_at"]) for r in rows(s, a["id"]) if r["kind"] == "reschedule"][0]
    n0 = len(world.wa_to("525511110001"))
    # at the old start's 24 h reminder time: nothing (it was made void)
    s = world.start(fake_now=old - dt.timedelta(hours=24) + dt.timedelta(seconds=30))
    time.sleep(1.5)
    assert s.server.stop() == 0
    assert len(world.wa_to("525511110001")) == n0
    # just before the new one's: nothing; just after: the 24 h reminder only
    s = world.start(fake_now=new - dt.timedelta(hours=24) - dt.timedelta(seconds=30))
    time.sleep(1.5)
    assert len(world.wa_to("525511110001")) == n0
    assert s.server.stop() == 0
    s = world.start(fake_now=new - dt.timedelta(hours=24) + dt.timedelta(seconds=30))
    sent = wait_for(lambda: [r for r in rows(s, a["id"]) if r["kind"] == "reminder"
                             and r["status"] == "sent"], 4)
    assert len(sent) == 1 and utc(sent[0]["send_at"]) == new - dt.timedelta(hours=24)
    req = world.wa_to("525511110001")[-1]
    assert req["body"]["template"]["name"] == "cita_recordatorio"
    params = [p["text"] for p in req["body"]["template"]["components"][0]["parameters"]]
    assert "15:00" in params
    assert s.server.stop() == 0
    # after the appointment: the 2 h reminder is never sent
    s = world.start(fake_now=new + dt.timedelta(hours=1))
    assert wait_for(lambda: [r for r in rows(s, a["id"]) if r["kind"] == "reminder"
                             and r["status"] == "void"], 4)
    assert len([r for r in rows(s, a["id"]) if r["status"] == "sent"
                and r["kind"] == "reminder"]) == 1
    assert s.server.stop() == 0


def test_quiet_hours_wait_across_a_dst_change(world):
    s = world.start()
    configure(s)
    client(s, 1, "whatsapp")
    s.sql("UPDATE branches SET timezone = 'America/New_York'")
    # Monday 2027-03-15 10:00 EDT (14:00 UTC); clocks went forward on Sunday 14 at 02:00.
    # A reminder 34 h before is due Saturday 13 at 23:00 EST (04:00 UTC on the 14th),
    # inside the quiet hours 21:00-08:00: it waits for Sunday 08:00 EDT = 12:00 UTC
    # (13:00 UTC had the offset not changed).
    st, b = s.call("admin", "PUT", "/api/v1/notifications/settings",
                   {"reminder_offsets_min": [34 * 60], "quiet_start": "21:00",
                    "quiet_end": "08:00"})
    assert st == 200, b
    st, a = s.book(client_id=1, start="2027-03-15T10:00:00-04:00", override_hours=True,
                   who="admin")
    assert st == 201, a
    assert s.server.stop() == 0
    rem = [r for r in rows(s, a["id"]) if r["kind"] == "reminder"][0]
    assert utc(rem["send_at"]) == dt.datetime(2027, 3, 14, 4, 0)
    s = world.start(fake_now=dt.datetime(2027, 3, 14, 4, 0, 30))
    assert wait_for(lambda: s.db.scalar(
        f"SELECT CAST(next_attempt_at AS TEXT) FROM notification_outbox WHERE id = {rem['id']}")
        .startswith("2027-03-14 12:00:00"), 4)
    n0 = len(world.wa_to("525511110001"))
    assert s.server.stop() == 0
    s = world.start(fake_now=dt.datetime(2027, 3, 14, 11, 59, 0))
    time.sleep(1.5)
    assert len(world.wa_to("525511110001")) == n0
    assert s.server.stop() == 0
    s = world.start(fake_now=dt.datetime(2027, 3, 14, 12, 0, 30))
    assert wait_for(lambda: [r for r in rows(s, a["id"]) if r["kind"] == "reminder"
                             and r["status"] == "sent"], 4)
    assert s.server.stop() == 0
