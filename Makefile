# nuanxin — the two commands: `make run` and `make test`. Both install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
DEBUG_BUILD   ?= build-debug
CLANG_BUILD   ?= build-clang
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Tests run twice as many at once as there are cores: the API suites spend most of their time waiting
# (on lock-outs, retries, device timeouts and their own servers), not computing.
TEST_JOBS  ?= $(shell echo $$(( $(JOBS) * 2 )))
DATA       ?= data
LISTEN     ?= 127.0.0.1:8080

.PHONY: all build deps run test test-fast asan asan-pg release build-matrix web clean bench format check crash-long fuzz-long soak deb pkg-test

# $(call stage,NAME): a line saying when a stage of `make test` starts, with the seconds since the
# first one and how busy the cores were in the stage before (scripts/test-stage.sh), so a run's log
# shows where its time goes (the budget is 30 minutes on 2 cores).
define stage
	@scripts/test-stage.sh $(BUILD) "$(1)"
endef

# $(call cmake_build,DIR,CMAKE OPTIONS): configure DIR (quietly) and build it.
define cmake_build
	@cmake -S . -B $(1) $(2) >/dev/null
	@cmake --build $(1) -j $(JOBS)
endef

all: build

deps:
	@scripts/deps.sh build

build: deps
	$(call cmake_build,$(BUILD),-DCMAKE_BUILD_TYPE=RelWithDebInfo)

web:
	@scripts/web.sh

# A demo community on http://127.0.0.1:8080: build, create data/ with demo data once, serve it with
# its 79 wristbands simulated (scripts/run.sh; WRISTBANDS=0 for none).
run:
	@scripts/deps.sh run
	@$(MAKE) --no-print-directory build web
	@if [ ! -f $(DATA)/nuanxin.db ]; then \
	  $(BUILD)/nuanxin init --data $(DATA) && $(BUILD)/nuanxin demo --data $(DATA); \
	else $(BUILD)/nuanxin migrate --data $(DATA); fi
	@scripts/run.sh $(BUILD)/nuanxin $(DATA) $(LISTEN)  # the server and the demo's 79 simulated wristbands

# Every test: the normal build's ctest, then unit and API tests again under ASan+UBSan (every unit
# test, every API suite on SQLite and a slice of them on PostgreSQL: ctest label asan, CMakeLists.txt;
# `make asan-pg` runs the rest). The Release
# build is compiled too, so a warning only -O2 sees fails CI (one after the other: `make -j2 asan
# release` was slower on 2 cores, 331 s against 252 s with a warm ccache, and its sub-makes warn
# about the jobserver). Both runs
# also cover PostgreSQL: a throw-away cluster (scripts/pg-test-cluster.sh, a temporary directory and
# a free loopback port) is started first, NX_TEST_PG names it, and it is stopped at the end.
PG_STATE ?= $(BUILD)/pg-test-cluster.state
test:
	@scripts/test-stage.sh --first $(BUILD) "check and install"
	@scripts/check-src.sh  # banned calls and the layers (make check); also run by ctest
	@scripts/deps.sh test
	$(call stage,builds (normal, ASan, Release))
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory release
	$(call stage,ctest (normal build))
	@scripts/pg-test-cluster.sh stop $(PG_STATE) >/dev/null 2>&1 || true
	@url=$$(scripts/pg-test-cluster.sh start $(PG_STATE)) || exit 1; \
	  trap 'scripts/pg-test-cluster.sh stop $(PG_STATE)' EXIT; \
	  export NX_TEST_PG="$$url"; echo "PostgreSQL for the tests: $$url"; \
	  (cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)) && \
	  scripts/test-stage.sh $(BUILD) "ctest (ASan build: unit and API tests)" && \
	  (cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(TEST_JOBS) -L '^asan$$')
	$(call stage,fuzz and package)
	@# Side by side: each fuzz target (codecs, HTTP path/query, JSON bodies, CSV, xlsx, uploads, config) for
	@# 20 s (libFuzzer, clang, one per core at a time), and the Debian package built, linted, installed,
	@# served, upgraded, removed and purged on this machine (scripts/pkg-test.sh; as root, as in CI).
	@scripts/pkg-test.sh >$(BUILD)/pkg-test.out 2>&1 & pkg=$$!; \
	  scripts/fuzz.sh 20; fz=$$?; wait $$pkg; pk=$$?; cat $(BUILD)/pkg-test.out; [ $$fz -eq 0 ] && [ $$pk -eq 0 ]
	$(call stage,browser tests)
	@scripts/e2e.sh  # browser tests (web app in headless chromium); prints node's test summary last

# Every API suite on PostgreSQL under ASan+UBSan (`make test` runs the slice labelled asan), on a
# throw-away cluster; CTEST_ARGS="-R canteen" narrows it.
asan-pg: asan
	@scripts/deps.sh test
	@scripts/pg-test-cluster.sh stop $(ASAN_BUILD)/pg-test-cluster.state >/dev/null 2>&1 || true
	@url=$$(scripts/pg-test-cluster.sh start $(ASAN_BUILD)/pg-test-cluster.state) || exit 1; \
	  trap 'scripts/pg-test-cluster.sh stop $(ASAN_BUILD)/pg-test-cluster.state' EXIT; \
	  (cd $(ASAN_BUILD) && NX_TEST_PG="$$url" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(TEST_JOBS) -L '^pg$$' $(CTEST_ARGS))

# The Debian package in build-deb/ (scripts/deb.sh: the web app, then dpkg-buildpackage).
deb:
	@scripts/deps.sh package
	@scripts/deb.sh

# The package's own test alone (root; installs and removes it on this machine).
pkg-test:
	@scripts/deps.sh package
	@scripts/pkg-test.sh

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	$(call cmake_build,$(ASAN_BUILD),-DCMAKE_BUILD_TYPE=Debug -DNX_SANITIZE=ON)

release: deps
	$(call cmake_build,$(RELEASE_BUILD),-DCMAKE_BUILD_TYPE=Release)

# Every build type with gcc and a clang build, each in its own directory, all with -Werror: what a
# change must keep clean (docs/operations.md, "Building"). Needs clang (scripts/deps.sh test).
build-matrix: build release
	$(call cmake_build,$(DEBUG_BUILD),-DCMAKE_BUILD_TYPE=Debug)
	$(call cmake_build,$(CLANG_BUILD),-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo)

bench: build
	@scripts/deps.sh test
	@bench/run.sh

# The long runs of the reliability campaigns (docs/reliability.md); `make test` runs a bounded slice
# of each. crash-long: CRASH_CYCLES kill -9 cycles under mixed load on SQLite, then on a throw-away
# PostgreSQL (tests/api/test_kill9.py). fuzz-long: every fuzz target for FUZZ_SECS seconds.
# soak: bench/soak.sh for SOAK_SECS seconds (staff browsing, residents applying, wristbands).
CRASH_CYCLES ?= 50
FUZZ_SECS    ?= 600
SOAK_SECS    ?= 3600
crash-long: build
	@scripts/deps.sh test
	@NUANXIN_BIN=$(abspath $(BUILD))/nuanxin NX_CRASH_CYCLES=$(CRASH_CYCLES) python3 tests/api/test_kill9.py
	@scripts/pg-test-cluster.sh stop $(BUILD)/pg-crash.state >/dev/null 2>&1 || true
	@url=$$(scripts/pg-test-cluster.sh start $(BUILD)/pg-crash.state) || exit 1; \
	  trap 'scripts/pg-test-cluster.sh stop $(BUILD)/pg-crash.state' EXIT; \
	  NX_TEST_PG="$$url" NX_API_BACKEND=postgres NUANXIN_BIN=$(abspath $(BUILD))/nuanxin \
	  NX_CRASH_CYCLES=$(CRASH_CYCLES) python3 tests/api/test_kill9.py

fuzz-long:
	@scripts/deps.sh test
	@scripts/fuzz.sh $(FUZZ_SECS)

soak: build
	@scripts/deps.sh test
	@bench/soak.sh $(SOAK_SECS)

format:
	@clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')

# Banned C calls and the layers of DESIGN.md §3 (scripts/check-src.sh); `make test` runs it first.
check:
	@scripts/check-src.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(DEBUG_BUILD) $(CLANG_BUILD)
