# nuanxin — the two commands: `make run` and `make test`. Both install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DATA       ?= data
LISTEN     ?= 127.0.0.1:8080

.PHONY: all build deps run test test-fast asan web clean bench format check

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

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

# Every test: the normal build's ctest, then unit and API tests again under ASan+UBSan. Both runs
# also cover PostgreSQL: a throw-away cluster (scripts/pg-test-cluster.sh, a temporary directory and
# a free loopback port) is started first, NX_TEST_PG names it, and it is stopped at the end.
PG_STATE ?= $(BUILD)/pg-test-cluster.state
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory asan
	@scripts/pg-test-cluster.sh stop $(PG_STATE) >/dev/null 2>&1 || true
	@url=$$(scripts/pg-test-cluster.sh start $(PG_STATE)) || exit 1; \
	  trap 'scripts/pg-test-cluster.sh stop $(PG_STATE)' EXIT; \
	  export NX_TEST_PG="$$url"; echo "PostgreSQL for the tests: $$url"; \
	  (cd $(BUILD) && ctest --output-on-failure -j $(JOBS)) && \
	  (cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) -L 'unit|api')
	@scripts/fuzz.sh 30  # each wristband-codec fuzzer for a bounded time (libFuzzer, clang)
	@scripts/e2e.sh  # browser tests (web app in headless chromium); prints node's test summary last

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DNX_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

bench: build
	@scripts/deps.sh test
	@bench/run.sh

format:
	@clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')

check:
	@scripts/check-src.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
