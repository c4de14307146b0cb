"""GET /metrics (issue 8): Prometheus text format 0.0.4, checked by a small
strict parser; request counters and the latency histogram move with
requests; the backup metrics change after a backup."""
import math
import re
import time

import pytest

from conftest import run
from server import Server

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)')


def parse(text):
    """{(name, frozenset(labels)): value}, after checking the exposition format:
    HELP and TYPE before each family's samples, families contiguous, names
    following the conventions, histograms consistent."""
    assert text.endswith("\n")
    samples, types, seen_families, current = {}, {}, set(), None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in seen_families, f"family {name} twice"
            seen_families.add(name)
            current = name
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name == current and kind in ("counter", "gauge", "histogram")
            types[name] = kind
            continue
        assert not line.startswith("#") and line.strip(), repr(line)
        m = SAMPLE.match(line)
        assert m, repr(line)
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if types.get(
            re.sub(r"_(bucket|sum|count)$", "", name)) == "histogram" else name
        assert family == current, f"{name} outside its family {current}"
        labels = {}
        pos = 0
        while pos < len(labels_text):
            lm = LABEL.match(labels_text, pos)
            assert lm, labels_text
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        v = float(value)  # "+Inf" parses too
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"duplicate sample {line}"
        samples[key] = v
    for name, kind in types.items():
        assert name.startswith("citaplanner_")
        if kind == "counter":
            assert name.endswith("_total")
    # Histograms: cumulative buckets ending in +Inf equal to _count.
    for name, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for (n, labels), v in samples.items():
            if n == name + "_bucket":
                d = dict(labels)
                le = d.pop("le")
                series.setdefault(frozenset(d.items()), []).append((float(le), v))
        for labels, buckets in series.items():
            buckets.sort()
            assert buckets[-1][0] == math.inf
            values = [v for _, v in buckets]
            assert values == sorted(values)
            assert samples[(name + "_count", labels)] == values[-1]
            assert samples[(name + "_sum", labels)] >= 0
    return samples


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def scrape(srv):
    status, headers, body = srv.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(body)


def test_metrics_parse_and_move_with_requests_and_backups(db, tmp_path):
    bdir = tmp_path / "backups"
    env = {"BACKUP_DIR": str(bdir)}
    with Server(db, env) as srv:
        srv.wait_ready()
        m = scrape(srv)
        assert get(m, "citaplanner_database_up") == 1
        assert get(m, "citaplanner_database_size_bytes") > 0
        assert get(m, "citaplanner_backup_stale") == 1
        assert get(m, "citaplanner_backup_newest_age_seconds") == -1
        assert get(m, "citaplanner_backup_max_age_seconds") == 26 * 3600
        assert get(m, "citaplanner_http_workers") >= 1
        assert get(m, "citaplanner_backup_last_success_timestamp_seconds", tier="daily") is None
        assert get(m, "citaplanner_backup_files", tier="daily") == 0

        for _ in range(3):
            srv.request("GET", "/healthz")
        srv.request("GET", "/no/such/path")
        m = scrape(srv)
        assert get(m, "citaplanner_http_requests_total", route="/healthz", method="GET",
                   status="200") == 3
        assert get(m, "citaplanner_http_requests_total", route="unmatched", method="any",
                   status="404") == 1
        assert get(m, "citaplanner_http_request_duration_seconds_count", route="/healthz",
                   method="GET") == 3
        # The first scrape is counted by the second.
        assert get(m, "citaplanner_http_requests_total", route="/metrics", method="GET",
                   status="200") == 1

        before = time.time()
        p = run(["backup", "--json"], database=db, env=env)
        assert p.returncode == 0, p.stderr
        m = scrape(srv)
        ts = get(m, "citaplanner_backup_last_success_timestamp_seconds", tier="daily")
        assert ts is not None and before - 2 <= ts <= time.time() + 2
        size = get(m, "citaplanner_backup_last_size_bytes", tier="daily")
        assert size == sum(f.stat().st_size for f in (bdir / "daily").iterdir()
                           if f.name.endswith(".gz"))
        assert get(m, "citaplanner_backup_last_duration_seconds", tier="daily") >= 0
        assert get(m, "citaplanner_backup_last_run_success", tier="daily") == 1
        assert get(m, "citaplanner_backup_files", tier="daily") == 1
        assert get(m, "citaplanner_backup_stale") == 0
        assert 0 <= get(m, "citaplanner_backup_newest_age_seconds") < 60
        assert get(m, "citaplanner_backup_volume_free_bytes") > 0

        # A failed run shows as the tier's last result, the good backup stays.
        p = run(["backup"], database=db, env=dict(env, PG_DUMP="/bin/false")) \
            if db.kind == "pg" else None
        if p is not None:
            assert p.returncode != 0
            m = scrape(srv)
            assert get(m, "citaplanner_backup_last_run_success", tier="daily") == 0
            assert get(m, "citaplanner_backup_last_success_timestamp_seconds", tier="daily") == ts
        assert srv.stop() == 0
