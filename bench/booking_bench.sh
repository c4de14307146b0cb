#!/usr/bin/env bash
# Booking benchmark (issue 7): on PostgreSQL with 100,000 appointments over
# two years,
#   1. booking throughput of `citaplanner serve` at 32 connections (wrk, a
#      bounded run on loopback; every request a real 201 booking through all
#      of the API's checks) against pgbench running the equivalent INSERT at
#      32 clients; the ratio (target >= 0.5), p50 / p99 latency;
#   2. availability of one professional over 31 days: the server's own time
#      per request, from its access log (median target <= 5 ms), and p99.
#
#   scripts/pg-throwaway.sh bench/booking_bench.sh
#
# Environment:
#   CITAPLANNER_BIN   the binary (default: build/citaplanner; use an optimized build,
#                     not the sanitizer build of the tests)
#   BENCH_SECONDS     length of each timed run (default 10)
# Not part of `make test`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
bin=${CITAPLANNER_BIN:-$root/build/citaplanner}
secs=${BENCH_SECONDS:-10}
[ -x "$bin" ] || { echo "booking_bench: no binary at '$bin' (set CITAPLANNER_BIN)" >&2; exit 1; }
[ -n "${CITAPLANNER_TEST_PG_URL:-}" ] || { echo "booking_bench: run through scripts/pg-throwaway.sh" >&2; exit 1; }
command -v wrk >/dev/null || { echo "booking_bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
pgbench=$(command -v pgbench || echo "${CITAPLANNER_TEST_PG_BINDIR:-}/pgbench")
[ -x "$pgbench" ] || { echo "booking_bench: pgbench is missing" >&2; exit 1; }

work=$(mktemp -d /tmp/citaplanner-bbench.XXXXXX)
dbname="bbench_$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server_pid=""

# The connection as PG* variables for psql and pgbench (the password in the
# environment, never in argv), and the URL of the benchmark database.
eval "$(python3 "$here/pg_env.py" "$dbname")"

cleanup() {
  [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  PGDATABASE=postgres psql -X -q -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== data: migrate, seed, 100,000 appointments (database $dbname)" >&2
PGDATABASE=postgres psql -X -q -c "CREATE DATABASE $dbname"
export PGDATABASE=$dbname
DATABASE_URL=$bench_url "$bin" migrate deploy >/dev/null
DATABASE_URL=$bench_url "$bin" seed >/dev/null
psql -X -q -f "$here/booking_bench.sql" >&2

echo "== server on 127.0.0.1:$port" >&2
DATABASE_URL=$bench_url LISTEN=127.0.0.1:$port BACKUP_SCHEDULE=off LOG_LEVEL=info \
  SEED_ON_BOOT=never "$bin" serve >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "ready on http://" "$work/serve.log" && break; sleep 0.1; done
grep -q "ready on http://" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 1; }
token=$(python3 - "$port" <<'PY'
import json, sys, urllib.request
r = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/api/v1/auth/login",
    data=json.dumps({"email": "recepcionista@citaplanner.com", "password": "prof123"}).encode(),
    headers={"Content-Type": "application/json"}, method="POST")
print(json.load(urllib.request.urlopen(r))["token"])
PY
)
pros=$(psql -X -At -c "SELECT string_agg(u.id::text, ',' ORDER BY u.id) FROM service_professionals sp
                       JOIN users u ON u.id = sp.user_id WHERE sp.service_id = 1")
# A Monday two years ahead (after the generated data), 00:00 UTC.
base=$(python3 -c 'import datetime as d; t=d.date.today()+d.timedelta(days=730); t-=d.timedelta(days=t.weekday()); print(int(d.datetime(t.year,t.month,t.day,tzinfo=d.timezone.utc).timestamp()))')

echo "== booking: wrk, 32 connections, ${secs} s" >&2
BENCH_TOKEN=$token BENCH_PROS=$pros BENCH_BASE=$base BENCH_THREADS=2 \
  wrk -t2 -c32 -d"${secs}s" --timeout 10s -s "$here/booking_bench.lua" "http://127.0.0.1:$port" \
  >"$work/wrk_book.txt"
cat "$work/wrk_book.txt" >&2

echo "== booking: pgbench, the equivalent INSERT, 32 clients, ${secs} s" >&2
psql -X -q -c "CREATE SEQUENCE bench_slot"
cat >"$work/insert.sql" <<'SQL'
INSERT INTO appointments (tenant_id, branch_id, client_id, service_id, professional_id, start_at, end_at, status, price_cents, notes, idempotency_key, created_by, created_at, updated_at) SELECT 1, 1, 1, 1, 3, t, t + interval '1 hour', 'PENDING', 85000, NULL, NULL, 5, now(), now() FROM (SELECT timestamptz '2090-01-01 00:00+00' + nextval('bench_slot') * interval '1 hour' AS t) s RETURNING id;
SQL
# -M extended is the protocol the server speaks (libpq PQexecParams: parse, bind,
# execute each time); -M prepared, pgbench's fastest, is shown beside it.
for mode in extended prepared; do
  "$pgbench" -n -M "$mode" -c 32 -j 2 -T "$secs" -f "$work/insert.sql" >"$work/pgbench_$mode.txt" 2>&1
  grep -E "query mode|tps|latency average" "$work/pgbench_$mode.txt" >&2
done

echo "== availability: one professional, 31 days, 1 connection, ${secs} s" >&2
from=$(date -u -d tomorrow +%F)
to=$(date -u -d "tomorrow + 30 days" +%F)
path="/api/v1/availability?service_id=1&branch_id=1&professional_id=3&from=$from&to=$to"
: >"$work/mark"
mark=$(wc -l <"$work/serve.log")
BENCH_TOKEN=$token BENCH_PATH=$path wrk -t1 -c1 -d"${secs}s" -s "$here/booking_bench_avail.lua" \
  "http://127.0.0.1:$port" >"$work/wrk_avail.txt"
tail -n +"$((mark + 1))" "$work/serve.log" | grep "GET /api/v1/availability 200" >"$work/avail.log" || true
busy=$(psql -X -At -c "SELECT count(*) FROM appointments WHERE professional_id = 3
  AND start_at >= '$from' AND start_at < date '$to' + 1 AND status <> 'CANCELLED'")

python3 - "$work" "$(nproc)" "$("$bin" version)" "$busy" <<'PY'
import re, statistics, sys
work = sys.argv[1]
book = dict(re.findall(r"(\w+)=([\d.]+)", open(f"{work}/wrk_book.txt").read().split("RESULT")[1]))
def pgbench(mode):
    t = open(f"{work}/pgbench_{mode}.txt").read()
    return (float(re.search(r"tps = ([\d.]+)", t).group(1)),
            float(re.search(r"latency average = ([\d.]+) ms", t).group(1)))
tps, lat = pgbench("extended")
tps_prep, lat_prep = pgbench("prepared")
avail = dict(re.findall(r"(\w+)=([\d.]+)", open(f"{work}/wrk_avail.txt").read().split("RESULT")[1]))
times = sorted(float(m) for m in re.findall(r" ([\d.]+)ms ", open(f"{work}/avail.log").read()))
rate = float(book["created"]) / float(book["seconds"])
p99 = times[max(0, int(len(times) * 0.99) - 1)] if times else float("nan")
print(f"{sys.argv[3]}, {sys.argv[2]} CPUs, PostgreSQL, 100,000 appointments over two years")
print(f"  booking, 32 connections: {rate:8.0f} bookings/s  ({book['created']} created, "
      f"{book['other']} other answers)  p50 {float(book['p50_ms']):.2f} ms  p99 {float(book['p99_ms']):.2f} ms")
print(f"  pgbench INSERT, 32 clients, -M extended: {tps:8.0f} tps  (latency avg {lat:.2f} ms)")
print(f"  pgbench INSERT, 32 clients, -M prepared: {tps_prep:8.0f} tps  (latency avg {lat_prep:.2f} ms)")
print(f"  booking / pgbench extended = {rate / tps:.2f}x   (target >= 0.50)")
print(f"  booking / pgbench prepared = {rate / tps_prep:.2f}x")
print(f"  availability, 1 professional, 31 days ({sys.argv[4]} busy appointments): "
      f"{len(times)} requests, server time median {statistics.median(times):.2f} ms "
      f"(target <= 5), p99 {p99:.2f} ms; client p50 {float(avail['p50_ms']):.2f} ms, "
      f"p99 {float(avail['p99_ms']):.2f} ms")
PY
