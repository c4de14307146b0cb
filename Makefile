# The two README commands, and a few conveniences.
#   make run    install what is missing, build, serve on SQLite with demo data
#   make test   install what is missing, start a throwaway PostgreSQL, run
#               every test on SQLite and PostgreSQL (sanitizers on)
#   make test-pg17   the backup, verify, restore and boot tests again on a
#               throwaway PostgreSQL 17, and the 15 <-> 17 cases
#   make test-image  build deploy/Dockerfile with buildah and run the image
#               with podman against a throwaway PostgreSQL (no Docker engine)
#   make test-browser  the staff app and the public booking page in headless
#               Chromium, on SQLite and PostgreSQL (kept out of make test for time)
#   make test-archive  continuous archiving: kill -9, restores to a moment
BUILD      ?= build
TEST_BUILD ?= build-test

.PHONY: all build run test test-pg17 test-image test-browser test-archive deps test-deps unit clean format

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized -Dtests=disabled

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	./$(BUILD)/citaplanner serve

$(TEST_BUILD)/build.ninja:
	meson setup $(TEST_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled

test: test-deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	scripts/pg-throwaway.sh scripts/run-tests.sh $(TEST_BUILD)

# The same tests on PostgreSQL 17 (from a cached Debian 13 tree, run in a
# chroot); test_pg_versions.py needs both servers: 15 outside, 17 inside.
PG17_TESTS = test/e2e/test_backup.py test/e2e/test_verify.py test/e2e/test_restore.py \
             test/e2e/test_boot.py test/pg17
test-pg17: test-deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	CITAPLANNER_BIN=$(CURDIR)/$(TEST_BUILD)/citaplanner scripts/pg-throwaway.sh \
	  scripts/pg-throwaway.sh --major 17 \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider -n 2 $(PG17_TESTS)

test-image: test-deps
	scripts/pg-throwaway.sh /usr/bin/python3 -m pytest -q -s -p no:cacheprovider test/image

BROWSER_TESTS = $(sort $(wildcard test/e2e/test_*web.py))
test-browser: test-deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	CITAPLANNER_BIN=$(CURDIR)/$(TEST_BUILD)/citaplanner scripts/pg-throwaway.sh \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider -n 2 $(BROWSER_TESTS)

test-archive: test-deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	CITAPLANNER_BIN=$(CURDIR)/$(TEST_BUILD)/citaplanner scripts/pg-throwaway.sh \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider -n 2 test/archive

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
