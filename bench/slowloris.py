#!/usr/bin/python3
"""Slow clients against `serve` (issue 22, item 2), on loopback, bounded.

    /usr/bin/python3 bench/slowloris.py

Starts `serve` (CITAPLANNER_BIN, default build/citaplanner) on a fresh SQLite
database with its default limits and measures how long /healthz and /readyz
take from an address of their own:
  - alone (the reference of this run);
  - while 2,000 slow connections are open (20 addresses x 100, each with a
    request begun and a header byte every second);
  - while one address opens 1,100 slow connections (past its cap of 128);
  - while 200 silent connections a second arrive for 10 s.
Prints the median and worst probe times and their ratio to the reference,
and exits 1 when a worst probe exceeds 100 ms.
"""
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("CITAPLANNER_BIN", os.path.join(ROOT, "build", "citaplanner"))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))

from conftest import Database  # noqa: E402
from server import Server  # noqa: E402

GOAL_S = 0.100


def probe(srv, rounds=40):
    times = []
    for i in range(rounds):
        path = "/healthz" if i % 2 == 0 else "/readyz"
        start = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{path}", timeout=30) as r:
            r.read()
            assert r.status == 200
        times.append(time.monotonic() - start)
        time.sleep(0.02)
    return statistics.median(times), max(times)


def metric(srv, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


class Drip:
    """Connections that begin a request and send a header byte every second."""

    def __init__(self, srv, sources, per_source):
        self.conns = []
        for src in sources:
            for _ in range(per_source):
                try:
                    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5,
                                                 source_address=(src, 0))
                    s.sendall(b"GET /api/v1/auth/me HTTP/1.1\r\nX-Slow: ")
                    self.conns.append(s)
                except OSError:
                    pass
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(1.0):
            for s in list(self.conns):
                try:
                    s.sendall(b"x")
                except OSError:
                    self.conns.remove(s)

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.conns:
            s.close()


def flood(srv, per_second, seconds, stop):
    held = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop.is_set():
        t0 = time.monotonic()
        for _ in range(per_second // 10):
            try:
                held.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5,
                                                     source_address=("127.0.5.1", 0)))
            except OSError:
                pass
        time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))
    for s in held:
        s.close()


def main():
    tmp = tempfile.mkdtemp(prefix="cp-slowloris-")
    path = os.path.join(tmp, "data", "citaplanner.db")
    db = Database("sqlite", f"sqlite:{path}", path)
    worst_all = 0.0
    with Server(db, {"BACKUP_DIR": os.path.join(tmp, "backups")}) as srv:
        srv.wait_ready()
        ref_med, ref_max = probe(srv)
        print(f"reference (no load): median {ref_med * 1000:.2f} ms, worst {ref_max * 1000:.2f} ms")

        def report(label, med, worst):
            nonlocal worst_all
            worst_all = max(worst_all, worst)
            print(f"{label}: median {med * 1000:.2f} ms ({med / ref_med:.1f}x), "
                  f"worst {worst * 1000:.2f} ms ({worst / ref_max:.1f}x)")

        d = Drip(srv, [f"127.0.4.{a + 1}" for a in range(20)], 100)
        time.sleep(1.0)
        print(f"  {len(d.conns)} slow connections open; server counts "
              f"{metric(srv, 'citaplanner_http_connections'):.0f}")
        report("2,000 slow connections", *probe(srv))
        d.close()

        before = metric(srv, "citaplanner_http_connections_refused_total")
        d = Drip(srv, ["127.0.6.1"], 1100)
        time.sleep(3.0)
        report("1,100 slow connections from one address", *probe(srv))
        refused = metric(srv, "citaplanner_http_connections_refused_total") - before
        print(f"  past the cap of 128: {refused:.0f} refused; server counts "
              f"{metric(srv, 'citaplanner_http_connections'):.0f} open after 3 s")
        d.close()

        stop = threading.Event()
        t = threading.Thread(target=flood, args=(srv, 200, 10, stop), daemon=True)
        t.start()
        time.sleep(2.0)
        report("200 silent connects a second", *probe(srv, 20))
        stop.set()
        t.join()
        assert srv.stop() == 0
    print(f"goal: every probe under {GOAL_S * 1000:.0f} ms: "
          f"{'met' if worst_all < GOAL_S else 'NOT met'} (worst {worst_all * 1000:.1f} ms)")
    return 0 if worst_all < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
