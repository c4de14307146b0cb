#!/usr/bin/env bash
# Reports benchmark (issue 19): on PostgreSQL with the generator's data
# (bench/gen_data.sql: by default 100 tenants x 2 years, about 2 M
# appointments and 1.6 M payments, plus a few thousand product sales), the
# time of each report of GET /api/v1/reports/{name} for one tenant over the
# whole two years, through the real server (median and worst of 5 runs,
# after one warm-up).  Target: <= 200 ms per report.
#
#   scripts/pg-throwaway.sh bench/reports_bench.sh
#
# Environment:
#   CITAPLANNER_BIN   the binary (default: build/citaplanner, an optimized build)
#   BENCH_TENANTS     tenants generated (default 100)
#   BENCH_DAYS        days of history (default 730)
# Not part of `make test`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
bin=${CITAPLANNER_BIN:-$root/build/citaplanner}
tenants=${BENCH_TENANTS:-100}
days=${BENCH_DAYS:-730}
[ -x "$bin" ] || { echo "reports_bench: no binary at '$bin' (set CITAPLANNER_BIN)" >&2; exit 1; }
[ -n "${CITAPLANNER_TEST_PG_URL:-}" ] || { echo "reports_bench: run through scripts/pg-throwaway.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/citaplanner-rbench.XXXXXX)
dbname="rbench_$$"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server_pid=""

# The connection as PG* variables (the password in the environment, never in argv).
eval "$(python3 "$here/pg_env.py" "$dbname")"

cleanup() {
  [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  PGDATABASE=postgres psql -X -q -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== data: $tenants tenants x $days days (database $dbname)" >&2
t0=$(date +%s)
PGDATABASE=postgres psql -X -q -c "CREATE DATABASE $dbname"
export PGDATABASE=$dbname
DATABASE_URL=$bench_url "$bin" migrate deploy >/dev/null
psql -X -q -v tenants="$tenants" -v days="$days" -f "$here/gen_data.sql" >&2
# What the generator predates: the payments' branch, some discounts, tips and
# refunds, and product sales (a ticket a day per branch) for the reports.
psql -X -q >&2 <<'SQL'
SET session_replication_role = replica;
UPDATE payments p SET branch_id = a.branch_id, professional_id = a.professional_id,
       tip_cents = CASE WHEN p.id % 4 = 0 THEN 5000 ELSE 0 END
FROM appointments a WHERE a.id = p.appointment_id;
INSERT INTO appointment_discounts (tenant_id, appointment_id, kind, value, amount_cents, reason)
SELECT tenant_id, id, 'PERCENT', 10, price_cents / 10, 'bench' FROM appointments
WHERE id % 10 = 0 AND status = 'COMPLETED' AND price_cents >= 10;
INSERT INTO payments (tenant_id, appointment_id, amount_cents, method, kind, refund_of, branch_id,
                      recorded_by, paid_at, reason)
SELECT tenant_id, appointment_id, -(amount_cents / 2), method, 'REFUND', id, branch_id,
       recorded_by, paid_at + interval '1 day', 'bench'
FROM payments WHERE id % 50 = 0 AND kind = 'PAYMENT' AND appointment_id % 10 <> 0;
INSERT INTO products (tenant_id, sku, name, price_cents, cost_cents)
SELECT t.id, 'SKU-' || g, 'Producto ' || g, 10000 + 500 * g, 5000 + 200 * g
FROM tenants t CROSS JOIN generate_series(1, 20) g;
INSERT INTO sales (tenant_id, branch_id, total_cents, sold_at)
SELECT b.tenant_id, b.id, 0, date_trunc('day', now()) - make_interval(days => d) + interval '17 hours'
FROM branches b CROSS JOIN generate_series(1, 730) d;
INSERT INTO sale_lines (tenant_id, sale_id, kind, product_id, quantity, unit_price_cents, amount_cents)
SELECT s.tenant_id, s.id, 'PRODUCT', p.id, 1 + s.id % 3, p.price_cents, (1 + s.id % 3) * p.price_cents
FROM sales s JOIN LATERAL (SELECT id, price_cents FROM products
                           WHERE tenant_id = s.tenant_id ORDER BY (id * 7 + s.id) % 20 LIMIT 2) p ON true;
SET session_replication_role = DEFAULT;
SQL
# As autovacuum would in time: the visibility map lets the reports scan indexes only.
psql -X -q -c 'VACUUM ANALYZE' >&2
psql -X -At -c "SELECT 'appointments', count(*) FROM appointments UNION ALL
                SELECT 'payments', count(*) FROM payments UNION ALL
                SELECT 'sale_lines', count(*) FROM sale_lines" >&2
echo "== data ready in $(( $(date +%s) - t0 )) s" >&2
email=$(psql -X -At -c "SELECT 'admin0.t' || min(id) || '@citaplanner.example' FROM tenants")
# A known password for the first tenant's admin, set the supported way.
echo "bench-password-1" | DATABASE_URL=$bench_url "$bin" admin user-password "$email" >/dev/null

DATABASE_URL=$bench_url LISTEN=127.0.0.1:$port BACKUP_SCHEDULE=off LOG_LEVEL=warn \
  SEED_ON_BOOT=never "$bin" serve >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  /usr/bin/python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/readyz')" 2>/dev/null && break
  sleep 0.2
done

/usr/bin/python3 - "$port" "$email" <<'PY'
import datetime as dt, json, statistics, sys, time, urllib.request
port, email = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}/api/v1"
r = urllib.request.Request(base + "/auth/login", method="POST",
    data=json.dumps({"email": email, "password": "bench-password-1"}).encode(),
    headers={"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(r))["token"]
today = dt.date.today()
frm, to = today - dt.timedelta(days=730), today
queries = [("sales", "group=day"), ("sales", "group=week"), ("sales", "group=month"),
           ("by_service", ""), ("top_services", ""), ("by_professional", ""), ("by_method", ""),
           ("top_products", ""), ("attendance", ""), ("retention", ""),
           ("sales", "format=csv")]
worst_all = 0.0
print(f"{'report':<28} {'rows':>5} {'median ms':>10} {'worst ms':>9}")
for name, extra in queries:
    url = f"{base}/reports/{name}?from={frm}&to={to}" + (f"&{extra}" if extra else "")
    times = []
    for i in range(6):
        req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
        t = time.perf_counter()
        body = urllib.request.urlopen(req).read()
        if i:
            times.append((time.perf_counter() - t) * 1000)
    n = len(json.loads(body)["rows"]) if not extra.startswith("format") else body.count(b"\r\n") - 1
    worst_all = max(worst_all, max(times))
    label = name + (f" ({extra})" if extra else "")
    print(f"{label:<28} {n:>5} {statistics.median(times):>10.1f} {max(times):>9.1f}")
print(f"worst of all: {worst_all:.1f} ms (target <= 200 ms)")
PY
