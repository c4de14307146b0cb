#!/usr/bin/env bash
# Backup benchmark: `citaplanner backup` against the guide's pipeline
# (pg_dump | gzip > f && sha256sum f > f.sha256) and the floor
# (pg_dump > /dev/null), on a generated database whose dump is >= 500 MB.
#
#   scripts/pg-throwaway.sh bench/backup_bench.sh
#
# Environment:
#   CITAPLANNER_BIN   the binary (default: build/citaplanner; use an optimized build,
#                     not the sanitizer build of the tests)
#   BENCH_ROUNDS      rounds of the three pipelines, alternating (default 3)
#   BENCH_TENANTS / BENCH_DAYS   size of the data (default 100 tenants, 730 days)
#   BENCH_TMP         where the outputs go (default /tmp)
#
# Prints the median wall time of each pipeline, the output sizes, and the
# ratios: backup/guide (target <= 0.5), backup/floor, guide/floor, and the
# backup's size against gzip -6's (the guide's gzip default; target <= 1.15).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
bin=${CITAPLANNER_BIN:-$root/build/citaplanner}
rounds=${BENCH_ROUNDS:-3}
[ -x "$bin" ] || { echo "backup_bench: no binary at '$bin' (make build, or set CITAPLANNER_BIN)" >&2; exit 1; }
[ -n "${CITAPLANNER_TEST_PG_URL:-}" ] || { echo "backup_bench: run through scripts/pg-throwaway.sh" >&2; exit 1; }

work=$(mktemp -d "${BENCH_TMP:-/tmp}/citaplanner-bench.XXXXXX")
dbname="bench_$$"

# The connection as PG* variables for psql and pg_dump (the password in the
# environment, never in argv), and the URL of the benchmark database.
eval "$(python3 "$here/pg_env.py" "$dbname")"

cleanup() {
  PGDATABASE=postgres psql -X -q -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }

echo "== generating data (database $dbname)" >&2
PGDATABASE=postgres psql -X -q -c "CREATE DATABASE $dbname"
export PGDATABASE=$dbname
DATABASE_URL=$bench_url "$bin" migrate deploy >/dev/null
t0=$(date +%s.%N)
psql -X -q -v tenants="${BENCH_TENANTS:-100}" -v days="${BENCH_DAYS:-730}" -f "$here/gen_data.sql" >&2
echo "   generated in $(elapsed "$t0") s" >&2

dump_bytes=$(pg_dump --no-owner --no-acl | wc -c)
echo "   plain dump: $dump_bytes bytes" >&2
if [ "$dump_bytes" -lt 500000000 ]; then
  echo "backup_bench: the dump is under 500 MB: raise BENCH_TENANTS or BENCH_DAYS" >&2
  exit 1
fi

# Each pipeline prints "SECONDS BYTES".
run_backup() {
  rm -rf "$work/bk"
  local t0 t f
  t0=$(date +%s.%N)
  BACKUP_DIR=$work/bk DATABASE_URL=$bench_url "$bin" backup --tier daily >/dev/null 2>"$work/backup.err" ||
    { cat "$work/backup.err" >&2; exit 1; }
  t=$(elapsed "$t0")
  f=$(ls "$work"/bk/daily/*.sql.gz)
  echo "$t $(stat -c %s "$f")"
}

run_guide() {
  rm -f "$work"/guide.sql.gz*
  local t0 t
  t0=$(date +%s.%N)
  bash -c 'set -o pipefail; pg_dump --no-owner --no-acl | gzip > "$1" && sha256sum "$1" > "$1.sha256"' \
    _ "$work/guide.sql.gz"
  t=$(elapsed "$t0")
  echo "$t $(stat -c %s "$work/guide.sql.gz")"
}

run_floor() {
  local t0
  t0=$(date +%s.%N)
  pg_dump --no-owner --no-acl >/dev/null
  echo "$(elapsed "$t0") 0"
}

names=(backup guide floor)
: >"$work/results"
for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < 3; i++)); do
    n=${names[$(((r + i) % 3))]}
    out=$("run_$n")
    echo "$n $out" >>"$work/results"
    echo "   round $((r + 1)): $n $out" >&2
  done
done

python3 - "$work/results" "$dump_bytes" "$(nproc)" "$("$bin" version)" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, secs, size = line.split()
    runs.setdefault(name, []).append((float(secs), int(size)))
med = {n: statistics.median(s for s, _ in v) for n, v in runs.items()}
size = {n: statistics.median(b for _, b in v) for n, v in runs.items()}
dump = int(sys.argv[2])
print(f"{sys.argv[4]}, {sys.argv[3]} CPUs, plain dump {dump / 1e6:.0f} MB, "
      f"{len(runs['backup'])} rounds (medians)")
print(f"  citaplanner backup            {med['backup']:7.2f} s  {size['backup'] / 1e6:8.1f} MB")
print(f"  pg_dump | gzip && sha256sum   {med['guide']:7.2f} s  {size['guide'] / 1e6:8.1f} MB")
print(f"  pg_dump > /dev/null           {med['floor']:7.2f} s")
print(f"  backup / guide  = {med['backup'] / med['guide']:.2f}x   (target <= 0.50)")
print(f"  backup / floor  = {med['backup'] / med['floor']:.2f}x")
print(f"  guide / floor   = {med['guide'] / med['floor']:.2f}x")
print(f"  size backup / gzip -6 = {size['backup'] / size['guide']:.3f}x   (target <= 1.15)")
EOF
