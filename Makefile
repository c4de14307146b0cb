# The two README commands, and a few conveniences.
#   make run    install what is missing, build, serve on SQLite with demo data
#   make test   install what is missing, start a throwaway PostgreSQL, run
#               every test on SQLite and PostgreSQL (sanitizers on)
BUILD      ?= build
TEST_BUILD ?= build-test

.PHONY: all build run test deps test-deps unit clean format

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

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
