# horus — developer entry points.
#
#   make test         THE test command (also what CI runs via .ci/run):
#                     bootstrap, pip-install the package into .venv (incremental,
#                     build/{wheel_tag}), build (-Werror) + ctest the C++ tests (build/cpp;
#                     ctest also installs into build/cpp/install-test and builds
#                     examples/cpp against it),
#                     pytest, then the peer-comparison harness in quick mode
#                     (bench-compare-quick: keeps the harness working; ~50 s plus
#                     installing the peers into .venv-bench the first time).
#                     Every stage always runs; any failing fails.
#   make test-cpp     only the C++ tests;  make test-py: only pytest (after install)
#   make demo         bootstrap + install + the 3-process pipeline (examples/pipeline.py),
#                     the zero-copy tour of the memory types (examples/demo.py), the
#                     bridge demo and the scheduler's real-time loops (examples/control_loop.py)
#   make sanitize     C++ tests under ASan+UBSan (build/asan)
#   make tsan         C++ tests under TSan (build/tsan)
#   make fuzz         libFuzzer targets (build/fuzz, clang-14), FUZZ_TIME=60 s each
#   make fuzz-quick   same, 10 s each
#   make bench        build C++ benches (build/bench) + bench/run_all.py
#   make bench-quick  same, with --quick
#   make bench-compare        horus vs peers (bench/compare, own .venv-bench); bench-compare-quick: CI smoke
#                     (both build the C++ worker first: make bench-compare-build -> build/compare)
#   make bench-sched  scheduler start-time jitter, horus (Python, C++) vs horus-robotics
#                     (bench/sched); bench-sched-quick: CI smoke (in make test)
#   make bench-guard  callgrind instruction counts of hot paths vs bench/callgrind_baseline.json
#   make bootstrap    system packages + .venv + pinned python deps (idempotent)
#   make clean        remove build trees and caches (keeps .venv)
#   make distclean    clean + remove .venv
#
# Every target depends on `bootstrap`, so all of them work on a fresh clone.

VENV   ?= .venv
PY     := $(VENV)/bin/python
CMAKE  := $(VENV)/bin/cmake
CTEST  := $(VENV)/bin/ctest
NINJA  := $(abspath $(VENV))/bin/ninja
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)

# Prefer clang-14 for sanitizer builds (libclang-rt-14-dev provides the runtimes);
# fall back to the default gcc toolchain. (Deferred "=" so the check runs after
# bootstrap has installed clang-14 on a fresh machine.)
SAN_CC   = $(if $(shell command -v clang-14 2>/dev/null),clang-14,gcc)
SAN_CXX  = $(if $(shell command -v clang++-14 2>/dev/null),clang++-14,g++)
# TSan's shadow mapping breaks with high ASLR entropy on newer kernels; run the
# TSan build (gtest discovery executes the tests at build time) and ctest with
# address-space randomisation disabled when `setarch -R` works here.
NO_ASLR  = $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo setarch $$(uname -m) -R)

CMAKE_COMMON := -G Ninja -DCMAKE_MAKE_PROGRAM=$(NINJA)

.PHONY: all bootstrap install test test-cpp test-py demo sanitize tsan fuzz fuzz-quick \
        bench bench-quick bench-build bench-compare bench-compare-build bench-compare-quick bench-bridge bench-bridge-quick \
        bench-guard fuzz-build clean distclean

all: test

bootstrap:
	@VENV=$(VENV) ./scripts/bootstrap.sh

# Incremental: scikit-build-core reuses build/{wheel_tag} (see pyproject.toml).
# flock: several shells (or helpers) may build at once; one build dir, one builder.
# -Werror here too, so warnings in the bindings (cpp/python) fail make test.
install: bootstrap
	@mkdir -p build
	flock build/.install.lock $(PY) -m pip install --no-build-isolation --no-deps -q \
	    -Ccmake.define.HORUS_WERROR=ON .

# ---------------------------------------------------------------- tests
define RUN_CPP_TESTS
	$(CMAKE) -S . -B build/cpp $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DHORUS_BUILD_TESTS=ON -DHORUS_BUILD_PYTHON=OFF -DHORUS_BUILD_BENCH=OFF -DHORUS_BUILD_EXAMPLES=ON \
	    -DHORUS_WERROR=ON && \
	mkdir -p build && flock build/.cpp.lock $(CMAKE) --build build/cpp -j $(JOBS) && \
	$(CTEST) --test-dir build/cpp --output-on-failure -j $(JOBS)
endef

define RUN_PY_TESTS
	$(PY) -m pytest -q tests
endef

# Every stage always runs; the target fails if any one failed.
test: install
	@status=0; \
	echo "== C++ tests (build/cpp) =="; \
	( set -x; $(RUN_CPP_TESTS) ) || { status=1; echo "== C++ tests FAILED ==" >&2; }; \
	echo "== Python tests =="; \
	( set -x; $(RUN_PY_TESTS) ) || { status=1; echo "== Python tests FAILED ==" >&2; }; \
	echo "== Benchmark harness smoke run (bench-compare-quick) =="; \
	( set -x; $(MAKE) --no-print-directory bench-compare-quick ) || { status=1; echo "== bench-compare-quick FAILED ==" >&2; }; \
	echo "== Bridge benchmark smoke run (bench-bridge-quick) =="; \
	( set -x; $(MAKE) --no-print-directory bench-bridge-quick ) || { status=1; echo "== bench-bridge-quick FAILED ==" >&2; }; \
	echo "== Scheduler jitter benchmark smoke run (bench-sched-quick) =="; \
	( set -x; $(MAKE) --no-print-directory bench-sched-quick ) || { status=1; echo "== bench-sched-quick FAILED ==" >&2; }; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED" >&2; else echo "make test: all passed"; fi; \
	exit $$status

test-cpp: bootstrap
	$(RUN_CPP_TESTS)

test-py: install
	$(RUN_PY_TESTS)

# ---------------------------------------------------------------- demo
demo: install
	$(PY) examples/pipeline.py --seconds 5
	$(PY) examples/demo.py
	$(PY) examples/bridge_demo.py --seconds 5
	$(PY) examples/control_loop.py --seconds 4

# ---------------------------------------------------------------- sanitizers
sanitize: bootstrap
	CC=$(SAN_CC) CXX=$(SAN_CXX) $(CMAKE) -S . -B build/asan $(CMAKE_COMMON) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHORUS_SANITIZE=address \
	    -DHORUS_BUILD_TESTS=ON -DHORUS_BUILD_PYTHON=OFF -DHORUS_BUILD_BENCH=OFF
	ASAN_OPTIONS=detect_leaks=1 $(CMAKE) --build build/asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(CTEST) --test-dir build/asan --output-on-failure -j $(JOBS)

tsan: bootstrap
	CC=$(SAN_CC) CXX=$(SAN_CXX) $(CMAKE) -S . -B build/tsan $(CMAKE_COMMON) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHORUS_SANITIZE=thread \
	    -DHORUS_BUILD_TESTS=ON -DHORUS_BUILD_PYTHON=OFF -DHORUS_BUILD_BENCH=OFF
	TSAN_OPTIONS=halt_on_error=1 $(NO_ASLR) $(CMAKE) --build build/tsan -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1 $(NO_ASLR) \
	    $(CTEST) --test-dir build/tsan --output-on-failure -j $(JOBS)

# ---------------------------------------------------------------- fuzzing
# cpp/fuzz: every reader of shared memory written by another process. Each
# target runs FUZZ_TIME seconds from its seed corpus (build/fuzz/corpus/<t>,
# kept between runs); a crash, sanitizer report or hang (> 10 s) fails the target.
FUZZ_TIME    ?= 60
FUZZ_TARGETS := fuzz_descriptor fuzz_topic fuzz_pool
fuzz-build: bootstrap
	CC=clang-14 CXX=clang++-14 $(CMAKE) -S . -B build/fuzz $(CMAKE_COMMON) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHORUS_BUILD_FUZZ=ON \
	    -DHORUS_BUILD_TESTS=OFF -DHORUS_BUILD_PYTHON=OFF -DHORUS_BUILD_BENCH=OFF
	mkdir -p build && flock build/.fuzz.lock $(CMAKE) --build build/fuzz -j $(JOBS)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/corpus/$$t build/fuzz/artifacts; \
	    echo "== $$t ($(FUZZ_TIME) s) =="; \
	    rc=0; ASAN_OPTIONS=detect_leaks=0 build/fuzz/cpp/fuzz/$$t -max_total_time=$(FUZZ_TIME) -timeout=10 \
	        -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/$$t- \
	        build/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1 || rc=$$?; \
	    grep -E "stat::number_of_executed_units|ERROR|SUMMARY|deadly signal|Test unit written" build/fuzz/$$t.log || true; \
	    if [ $$rc -ne 0 ]; then tail -60 build/fuzz/$$t.log; echo "$$t FAILED rc=$$rc (log build/fuzz/$$t.log)"; exit 1; fi; \
	done

fuzz-quick:
	$(MAKE) fuzz FUZZ_TIME=10

# ---------------------------------------------------------------- benchmarks
bench-build: install
	$(CMAKE) -S . -B build/bench $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release \
	    -DHORUS_BUILD_BENCH=ON -DHORUS_BUILD_TESTS=OFF -DHORUS_BUILD_PYTHON=OFF
	$(CMAKE) --build build/bench -j $(JOBS)

bench: bench-build
	$(PY) bench/run_all.py

bench-quick: bench-build
	$(PY) bench/run_all.py --quick

# The C++ rows of the comparison (horus-cpp, horus-cpp-spin): bench/compare/cpp/horus_worker, and
# of the scheduler jitter benchmark: bench/compare/cpp/sched_jitter;
# RelWithDebInfo like callgrind_guard.py's build of the same tree (no reconfigure between
# them); one builder at a time, one job (the reference machine has 2 shared cores).
COMPARE_JOBS ?= 1
bench-compare-build: bootstrap
	@mkdir -p build
	flock build/.compare.lock sh -c '$(CMAKE) -S bench/compare/cpp -B build/compare $(CMAKE_COMMON) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHORUS_WERROR=ON >/dev/null && \
	    $(CMAKE) --build build/compare --target horus_worker sched_jitter -j $(COMPARE_JOBS)'

bench-compare: install bench-compare-build
	$(PY) bench/compare/run.py
	$(PY) bench/compare/hop_breakdown.py

bench-compare-quick: install bench-compare-build
	$(PY) bench/compare/run.py --quick

# the Zenoh bridge against plain Zenoh over a veth link (docs/bridge.md); full run ~9 min
bench-bridge: install
	$(PY) bench/bridge/bridge_bench.py --out bench/results/$$(date +%Y-%m-%d)-bridge

bench-bridge-quick: install
	$(PY) bench/bridge/bridge_bench.py --quick

# scheduler jitter: horus-py/horus-cpp/horus-robotics, 1 kHz and 100 Hz, alone and beside a
# 30 Hz NumPy node (docs/scheduler.md); the C++ rows are build/compare/sched_jitter
bench-sched: install bench-compare-build
	bash bench/compare/setup_venv.sh
	$(PY) bench/sched/jitter_bench.py --out bench/results/$$(date +%Y-%m-%d)-sched-jitter

bench-sched-quick: install bench-compare-build
	bash bench/compare/setup_venv.sh
	$(PY) bench/sched/jitter_bench.py --quick

bench-guard: install
	$(PY) bench/callgrind_guard.py

# ---------------------------------------------------------------- cleanup
clean:
	rm -rf build .pytest_cache .hypothesis
	find . -path ./$(notdir $(VENV)) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
