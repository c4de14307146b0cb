#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL server:
#   scripts/pg-throwaway.sh [--major 17] COMMAND [ARGS...]
#
# initdb in a fresh temporary directory owned by an unprivileged user
# (PostgreSQL refuses to run as root), password authentication (SCRAM) on a
# free loopback port and on a Unix socket in that directory, fsync off.  The
# command runs with CITAPLANNER_TEST_PG_URL (a superuser URL to the
# "postgres" database; its password holds characters that need
# percent-encoding) and CITAPLANNER_TEST_PG_BINDIR set, and the same as
# CITAPLANNER_TEST_PG<MAJOR>_URL, so that a command run through two of these
# (15 outside, 17 inside) reaches both.  The server is stopped and the
# directory removed on exit, whatever the command's outcome.  If the server
# cannot start, this fails: PostgreSQL tests are never skipped.
#
# Without --major: the newest server installed on this machine (Debian 12:
# PostgreSQL 15).  --major 17: PostgreSQL 17 from a Debian 13 tree
# (scripts/debian-cache.sh pg 17 trixie: made once, cached), run with chroot
# and no mounts; its data directory and socket live inside the tree, and its
# pg_dump/psql/pg_restore (run from the host) come first on PATH.
set -euo pipefail

major=""
if [ "${1:-}" = "--major" ]; then
  major=${2:?"pg-throwaway: --major needs a version"}
  shift 2
fi

# $inner: a path as the server sees it; $tmp: the same from here.
root=""
runas=()
if [ -z "$major" ]; then
  bindir=""
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { bindir=$d; break; }
  done
  [ -n "$bindir" ] || { echo "pg-throwaway: no PostgreSQL server found (install 'postgresql')" >&2; exit 1; }
  tmp=$(mktemp -d /tmp/citaplanner-pg.XXXXXX)
  inner=$tmp
  if [ "$(id -u)" -eq 0 ]; then
    owner=nobody
    chown "$owner" "$tmp"
    runas=(runuser -u "$owner" --)
  fi
  toolsdir=$bindir
else
  case $major in
    17) release=trixie ;;
    *) echo "pg-throwaway: PostgreSQL $major is not provided (only 17)" >&2; exit 1 ;;
  esac
  [ "$(id -u)" -eq 0 ] || { echo "pg-throwaway: --major needs root (chroot)" >&2; exit 1; }
  tree=$("$(dirname "$0")/debian-cache.sh" pg "$major" "$release")
  root=$tree/root
  bindir=/usr/lib/postgresql/$major/bin
  tmp=$(mktemp -d "$root/tmp/citaplanner-pg.XXXXXX")
  inner=${tmp#"$root"}
  owner=$(awk -F: '$1 == "postgres" { print $3 ":" $4 }' "$root/etc/passwd")
  [ -n "$owner" ] || { echo "pg-throwaway: no postgres user in $root" >&2; exit 1; }
  chown "$owner" "$tmp"
  runas=(chroot --userspec=postgres:postgres "$root")
  toolsdir=$tree/bin
  export PATH="$toolsdir:$PATH"
fi
chmod 0700 "$tmp"
data="$inner/data"
log="$inner/server.log"

cleanup() {
  local rc=$?
  "${runas[@]}" "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  if [ $rc -ne 0 ] && [ -f "$root$log" ] && [ "${PG_THROWAWAY_SHOW_LOG:-0}" = 1 ]; then
    tail -n 50 "$root$log" >&2 || true
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT INT TERM

user=citaplanner_test
password='T3st p@ss:w/rd%'
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

pwfile="$tmp/pw"
printf '%s\n' "$password" >"$pwfile"
[ ${#runas[@]} -eq 0 ] || chown "$owner" "$pwfile"
chmod 0600 "$pwfile"
"${runas[@]}" "$bindir/initdb" -D "$data" -U "$user" --pwfile="$inner/pw" --auth=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
rm -f "$pwfile"

"${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$inner -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=128MB" \
  start >/dev/null || { echo "pg-throwaway: PostgreSQL did not start:" >&2; cat "$root$log" >&2; exit 1; }

# The password goes through the environment, never a command line (test_backup looks for it in every process's).
enc=$(PG_THROWAWAY_PW="$password" python3 -c 'import os,urllib.parse; print(urllib.parse.quote(os.environ["PG_THROWAWAY_PW"], safe=""))')
export CITAPLANNER_TEST_PG_URL="postgresql://$user:$enc@127.0.0.1:$port/postgres"
export CITAPLANNER_TEST_PG_BINDIR="$toolsdir"
export CITAPLANNER_TEST_PG_SOCKET_DIR="$tmp"
version=$("${runas[@]}" "$bindir/postgres" --version | awk '{print $3}')
export "CITAPLANNER_TEST_PG${version%%.*}_URL=$CITAPLANNER_TEST_PG_URL"
echo "pg-throwaway: PostgreSQL $version on 127.0.0.1:$port" >&2
"$@"
