#!/usr/bin/env bash
# Run every test against the build in $1 (default build-test): the cmocka unit
# tests, then the end-to-end tests on SQLite and PostgreSQL.  Expects
# CITAPLANNER_TEST_PG_URL (scripts/pg-throwaway.sh sets it).
set -uo pipefail
build=${1:-build-test}
[ -n "${CITAPLANNER_TEST_PG_URL:-}" ] || { echo "run-tests: CITAPLANNER_TEST_PG_URL is not set; run through scripts/pg-throwaway.sh" >&2; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CITAPLANNER_BIN=${CITAPLANNER_BIN:-$PWD/$build/citaplanner}

meson test -C "$build" --print-errorlogs --num-processes 2
unit=$?
jobs=${TEST_JOBS:-2}
xdist=()
[ "$jobs" -gt 1 ] && xdist=(-n "$jobs")
# The browser tests (headless Chromium) run in their own target, make
# test-browser, which .ci/run also runs: together they took 9 of make test's
# 16 minutes.
browser=(--ignore-glob='test/e2e/test_*web.py')
/usr/bin/python3 -m pytest -q -p no:cacheprovider "${xdist[@]}" "${browser[@]}" test/e2e "${@:2}"
e2e=$?
[ $unit -eq 0 ] || echo "run-tests: unit tests failed" >&2
[ $e2e -eq 0 ] || echo "run-tests: end-to-end tests failed" >&2
[ $unit -eq 0 ] && [ $e2e -eq 0 ]
