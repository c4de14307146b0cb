#!/usr/bin/env bash
# The guide's backup script, kept so that every command line it shows works
# as written; the work is `citaplanner backup`, which gets every argument:
#   ./scripts/pg_backup.sh                      take a backup now
#   ./scripts/pg_backup.sh --verify-only [FILE...]
#   ./scripts/pg_backup.sh --restore FILE
#   ./scripts/pg_backup.sh list | prune [--dry-run]
# The binary: $CITAPLANNER_BIN, else ../build/citaplanner beside this script,
# else /usr/local/bin/citaplanner, else citaplanner on PATH.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for bin in "${CITAPLANNER_BIN:-}" "$here/../build/citaplanner" /usr/local/bin/citaplanner; do
  if [ -n "$bin" ] && [ -x "$bin" ]; then
    exec "$bin" backup "$@"
  fi
done
if command -v citaplanner >/dev/null 2>&1; then
  exec citaplanner backup "$@"
fi
echo "pg_backup.sh: citaplanner not found (build it with 'make build', or set CITAPLANNER_BIN)" >&2
exit 1
