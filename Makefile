# engram: the two commands of the quick start are `make run` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
JOBS       ?= $(shell nproc)
CMAKE_GEN  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build run test test-release test-asan test-fuzz fuzz bench format format-check clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DENGRAM_SANITIZE=ON

# The libFuzzer harnesses need clang.
$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENGRAM_FUZZ=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Serves the HTTP API and MCP on the default store (engram serve) and prints the URLs.
# Builds only the engram command, so the first run is quick.
run: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target engram_cli
	$(BUILD)/engram serve

# The sanitizer suite runs first, then the fuzzers for a short while; the release suite last, so
# CTest's summary closes the output.
test: deps test-asan test-fuzz test-release

# Each suite runs beside a throwaway PostgreSQL server of its own (scripts/with-postgres).
test-release: build
	scripts/with-postgres ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	scripts/with-postgres ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -E "^style\."

# Each fuzz harness for 15 s from its seeds, under ASan and UBSan.
test-fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -j $(JOBS)

# The same for FUZZ_SECONDS each (default 600), one harness at a time.
fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --test-dir $(FUZZ_BUILD) --output-on-failure -j 1

# The PostgreSQL rows run on a throwaway server of their own, as the tests do.
# The dashboard's rows come from headless Chromium (tests/dashboard/bench.mjs).
bench: build
	scripts/with-postgres $(BUILD)/bench/engram_bench
	if [ -z "$$ENGRAM_BENCH_ONLY" ] || [ "$$ENGRAM_BENCH_ONLY" = dashboard ]; then \
	  ENGRAM_NODE_SCRIPT=bench.mjs bash tests/node_client.sh tests/dashboard $(abspath $(BUILD))/engram; fi

format:
	clang-format -i $$(git ls-files '*.h' '*.cpp')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.h' '*.cpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
