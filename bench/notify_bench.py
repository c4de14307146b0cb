#!/usr/bin/python3
"""The notification sender's throughput and memory (issue 17), on SQLite:

1. messages/s: N due WhatsApp messages written straight into the outbox,
   then `citaplanner serve` started; the time until every one is marked
   sent, against the local fake WhatsApp Cloud API (test/e2e/notify_fakes.py);
2. the same N requests to the same fake by a bare libcurl loop (one curl
   process, one connection, `--next` between requests): the ratio of the two
   is what the sender's database work and bookkeeping cost;
3. the server's resident memory (VmRSS) with 100,000 pending messages in the
   outbox, against the same server with an empty outbox.

    /usr/bin/python3 bench/notify_bench.py [N]

Environment: CITAPLANNER_BIN (default build/citaplanner: build it with
`make build`, not the sanitizer build).
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("CITAPLANNER_BIN", os.path.join(ROOT, "build", "citaplanner"))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))

from conftest import Database  # noqa: E402
from notify_fakes import WA_PHONE_ID, WA_TOKEN, ApiFake  # noqa: E402
from server import Server  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
PENDING = 100_000


def rows(con, n, due):
    when = "2000-01-01 00:00:00+00" if due else "2999-01-01 00:00:00+00"
    params = json.dumps(["Ana", "Facial", "lunes 1 de enero de 2030", "10:00"])
    con.executemany(
        "INSERT INTO notification_outbox (tenant_id, channel, kind, language, recipient, "
        "send_at, next_attempt_at, idempotency_key, subject, body, params) VALUES "
        "(1, 'whatsapp', 'confirmation', 'es', '+525500000000', ?, ?, ?, 'cita_confirmacion', "
        "'Hola Ana', ?)",
        ((when, when, f"bench-{due}-{i}", params) for i in range(n)))
    con.commit()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    tmp = tempfile.mkdtemp(prefix="cp-notify-bench-")
    path = os.path.join(tmp, "data", "citaplanner.db")
    db = Database("sqlite", f"sqlite:{path}", path)
    with ApiFake() as api:
        env = {"WHATSAPP_API_URL": api.url, "LOG_LEVEL": "info", "BACKUP_DIR": os.path.join(tmp, "b")}
        srv = Server(db, env=env)
        srv.wait_ready()
        srv.stop()
        con = sqlite3.connect(path)
        con.execute("INSERT INTO notification_settings (tenant_id, whatsapp_enabled, "
                    "whatsapp_phone_number_id, whatsapp_token) VALUES (1, 1, ?, ?)",
                    (WA_PHONE_ID, WA_TOKEN))
        con.commit()
        rows(con, N, True)

        # 1. the sender
        t0 = time.time()
        srv = Server(db, env=env)
        srv.wait_ready()
        while con.execute("SELECT count(*) FROM notification_outbox WHERE status = 'sent'") \
                .fetchone()[0] < N:
            time.sleep(0.05)
            if time.time() - t0 > 600:
                raise SystemExit("the sender did not finish in 10 minutes")
        sender_s = time.time() - t0
        srv.stop()
        assert len(api.of("whatsapp")) == N

        # 2. a bare libcurl loop: the same requests, one process, one connection
        body = json.dumps(api.of("whatsapp")[0]["body"])
        cfg = os.path.join(tmp, "curl.cfg")
        with open(cfg, "w") as f:
            for i in range(N):
                if i:
                    f.write("next\n")
                f.write(f'url = "{api.url}/v21.0/{WA_PHONE_ID}/messages"\n'
                        f'header = "Authorization: Bearer {WA_TOKEN}"\n'
                        'header = "Content-Type: application/json"\n'
                        f"data = {json.dumps(body)}\n"
                        'output = "/dev/null"\nsilent\n')
        t0 = time.time()
        subprocess.run(["curl", "-K", cfg], check=True)
        curl_s = time.time() - t0

        # 3. memory: an empty outbox, then 100,000 pending (future) messages
        con.execute("DELETE FROM notification_outbox")
        con.commit()
        srv = Server(db, env=env)
        srv.wait_ready()
        time.sleep(2)
        base = rss_kb(srv.proc.pid)
        srv.stop()
        rows(con, PENDING, False)
        srv = Server(db, env=env)
        srv.wait_ready()
        time.sleep(2)
        loaded = rss_kb(srv.proc.pid)
        srv.stop()
        con.close()

    print(f"sender:      {N} messages in {sender_s:.2f} s = {N / sender_s:.0f} messages/s "
          "(start-up included)")
    print(f"bare curl:   {N} requests in {curl_s:.2f} s = {N / curl_s:.0f} requests/s")
    print(f"ratio:       {curl_s / sender_s:.2f} (sender's rate / bare libcurl loop's)")
    print(f"memory:      VmRSS {base / 1024:.1f} MB with an empty outbox, "
          f"{loaded / 1024:.1f} MB with {PENDING} pending (ratio {loaded / base:.2f})")


if __name__ == "__main__":
    main()
