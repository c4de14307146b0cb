#!/usr/bin/env bash
# Verify and restore benchmark, on a generated database whose plain dump is
# >= 500 MB (bench/gen_data.sql), backed up once with `citaplanner backup`:
#
#   verify:  citaplanner backup verify FILE
#            vs  gzip -t FILE && sha256sum -c FILE.sha256        (target <= 0.5x)
#   restore: citaplanner backup restore FILE --yes  into an empty database
#            vs  gunzip -c FILE | psql -q              into an empty database
#                                                               (target <= 1.1x)
#
#   scripts/pg-throwaway.sh bench/verify_restore_bench.sh
#
# Environment:
#   CITAPLANNER_BIN   the binary (default: build/citaplanner; use an optimized build,
#                     not the sanitizer build of the tests)
#   BENCH_ROUNDS      rounds of each pair, alternating which goes first (default 3)
#   BENCH_TENANTS / BENCH_DAYS   size of the data (default 100 tenants, 730 days)
#   BENCH_TMP         where the files go (default /tmp)
#   BENCH_MIN_BYTES   refuse a smaller plain dump (default 500000000; lower it for a smoke run)
#
# The restore by citaplanner is the whole command as an operator runs it:
# verification first, the prerestore backup of the (empty) target, the
# restore in one transaction, migrate deploy, the row counts.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
bin=${CITAPLANNER_BIN:-$root/build/citaplanner}
rounds=${BENCH_ROUNDS:-3}
[ -x "$bin" ] || { echo "verify_restore_bench: no binary at '$bin' (make build, or set CITAPLANNER_BIN)" >&2; exit 1; }
[ -n "${CITAPLANNER_TEST_PG_URL:-}" ] || { echo "verify_restore_bench: run through scripts/pg-throwaway.sh" >&2; exit 1; }

work=$(mktemp -d "${BENCH_TMP:-/tmp}/citaplanner-vrbench.XXXXXX")
dbname="vrbench_$$"

# The connection as PG* variables for psql (the password in the environment,
# never in argv), and a function giving the URL of a database.
eval "$(python3 "$here/pg_env.py")"

admin() { PGOPTIONS='-c client_min_messages=warning' PGDATABASE=postgres psql -X -q -v ON_ERROR_STOP=1 -c "$1" >/dev/null; }

cleanup() {
  for d in "$dbname" "${dbname}_r"; do
    admin "DROP DATABASE IF EXISTS $d WITH (FORCE)" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }

echo "== generating data (database $dbname)" >&2
admin "CREATE DATABASE $dbname"
DATABASE_URL=$url_base/$dbname "$bin" migrate deploy >/dev/null 2>&1
t0=$(date +%s.%N)
PGDATABASE=$dbname psql -X -q -v tenants="${BENCH_TENANTS:-100}" -v days="${BENCH_DAYS:-730}" \
  -f "$here/gen_data.sql" >&2
echo "   generated in $(elapsed "$t0") s" >&2

echo "== one backup" >&2
BACKUP_DIR=$work/bk DATABASE_URL=$url_base/$dbname "$bin" backup --tier daily >/dev/null 2>"$work/backup.err" ||
  { cat "$work/backup.err" >&2; exit 1; }
file=$(ls "$work"/bk/daily/*.sql.gz)
raw_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"]["uncompressed"])' "$file.json")
gz_bytes=$(stat -c %s "$file")
echo "   $file: $gz_bytes bytes, plain dump $raw_bytes bytes" >&2
admin "DROP DATABASE $dbname WITH (FORCE)"
if [ "$raw_bytes" -lt "${BENCH_MIN_BYTES:-500000000}" ]; then
  echo "verify_restore_bench: the dump is under 500 MB: raise BENCH_TENANTS or BENCH_DAYS" >&2
  exit 1
fi

# Each run prints its wall time in seconds.
run_verify() {
  local t0
  t0=$(date +%s.%N)
  BACKUP_DIR=$work/bk "$bin" backup verify "$file" >"$work/verify.out" 2>&1 ||
    { cat "$work/verify.out" >&2; exit 1; }
  elapsed "$t0"
}

run_gzip_sha() {
  local t0
  t0=$(date +%s.%N)
  (cd "$(dirname "$file")" && gzip -t "$file" && sha256sum -c --quiet "$file.sha256") ||
    { echo "gzip -t / sha256sum -c failed" >&2; exit 1; }
  elapsed "$t0"
}

fresh_target() {
  admin "DROP DATABASE IF EXISTS ${dbname}_r WITH (FORCE)"
  admin "CREATE DATABASE ${dbname}_r"
}

run_restore() {
  local t0 t
  fresh_target
  t0=$(date +%s.%N)
  BACKUP_DIR=$work/bk DATABASE_URL=$url_base/${dbname}_r "$bin" backup restore "$file" --yes \
    >"$work/restore.out" 2>&1 || { cat "$work/restore.out" >&2; exit 1; }
  t=$(elapsed "$t0")
  rm -f "$work"/bk/prerestore/*
  echo "$t"
}

run_gunzip_psql() {
  local t0
  fresh_target
  t0=$(date +%s.%N)
  bash -c 'set -o pipefail; gunzip -c "$1" | PGDATABASE=$2 psql -X -q >/dev/null' _ "$file" "${dbname}_r" ||
    { echo "gunzip | psql failed" >&2; exit 1; }
  elapsed "$t0"
}

: >"$work/results"
for ((r = 0; r < rounds; r++)); do
  for pair in "verify gzip_sha" "restore gunzip_psql"; do
    set -- $pair
    if ((r % 2)); then set -- "$2" "$1"; fi
    for n in "$@"; do
      t=$("run_$n")
      echo "$n $t" >>"$work/results"
      echo "   round $((r + 1)): $n $t s" >&2
    done
  done
done

python3 - "$work/results" "$raw_bytes" "$gz_bytes" "$(nproc)" "$("$bin" version)" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, secs = line.split()
    runs.setdefault(name, []).append(float(secs))
med = {n: statistics.median(v) for n, v in runs.items()}
raw, gz = int(sys.argv[2]), int(sys.argv[3])
print(f"{sys.argv[5]}, {sys.argv[4]} CPUs, plain dump {raw / 1e6:.0f} MB, backup {gz / 1e6:.0f} MB, "
      f"{len(runs['verify'])} rounds (medians)")
print(f"  citaplanner backup verify FILE          {med['verify']:7.2f} s")
print(f"  gzip -t FILE && sha256sum -c            {med['gzip_sha']:7.2f} s")
print(f"  citaplanner backup restore FILE --yes   {med['restore']:7.2f} s")
print(f"  gunzip -c FILE | psql -q                {med['gunzip_psql']:7.2f} s")
print(f"  verify / (gzip -t + sha256sum)  = {med['verify'] / med['gzip_sha']:.2f}x   (target <= 0.50)")
print(f"  restore / (gunzip | psql)       = {med['restore'] / med['gunzip_psql']:.2f}x   (target <= 1.10)")
EOF
