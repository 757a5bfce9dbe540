# Thin wrapper over CMake. `make demo` and `make test` work on a fresh Debian 12 machine:
# they install the Debian packages the build needs (when run as root), configure, build
# (Release) what they use — the fedactor executable / everything — and then run the default
# scenario / the whole ctest suite.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
SCENARIO ?= examples/scenarios/quickstart.yaml
# ccache hashes paths under the checkout relative to the build directory, so a clone anywhere
# reuses the objects of another (no compile command names the checkout: test_paths.hpp).
export CCACHE_BASEDIR ?= $(CURDIR)

# Every Debian package the build, the tests and the demo need.
PACKAGES := cmake make g++ ccache pkg-config libcaf-dev libtorch-dev libopenblas0-pthread \
            catch2 libboost-program-options-dev libyaml-cpp-dev nlohmann-json3-dev \
            libssl-dev openssl dataset-fashion-mnist zlib1g-dev libsqlite3-dev libjs-chart.js

# What only `make test` needs besides: headless Chromium loads `fedactor report` pages
# (tests/runtime/cli/report_browser_test.cpp). Big, so `make demo` does not install it.
TEST_PACKAGES := chromium

# `make fuzz`: libFuzzer targets (fuzz/) built with clang, ASan and UBSan in their own build
# directory, then each run for FUZZ_SECONDS (docs/security.md, "Fuzzing").
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_PACKAGES := cmake make clang-14 libclang-rt-14-dev llvm-14 libcaf-dev libssl-dev \
                 libyaml-cpp-dev zlib1g-dev

.PHONY: all deps test-deps fuzz-deps configure build build-cli demo test fuzz bench format docs-keys clean

all: build

# Installs the Debian packages in $(1) that are missing (as root), or names them and fails.
define install-packages
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "error: missing Debian packages:$$missing (run 'make $@' as root or install them)" >&2; exit 1; \
	  fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install-packages,$(PACKAGES))

test-deps:
	$(call install-packages,$(TEST_PACKAGES))

fuzz-deps:
	$(call install-packages,$(FUZZ_PACKAGES))

$(BUILD_DIR)/CMakeCache.txt: CMakeLists.txt | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

# Everything: the library, the CLI, the examples, the benchmarks and the test suite.
build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Only what a command runs: the demo and `make bench` need the fedactor executable (and its
# libraries), not the test suite (docs/benchmarks.md, "Build time").
build-cli: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS) --target fedactor

demo: build-cli
	./$(BUILD_DIR)/fedactor run $(SCENARIO)

test: build test-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

fuzz: fuzz-deps
	cmake -S . -B $(FUZZ_DIR) -DFEDACTOR_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

bench: build-cli
	./$(BUILD_DIR)/fedactor bench

# Regenerates the key reference of docs/scenarios.md (between <!-- keys:begin --> and
# <!-- keys:end -->) from the key table: `fedactor scenario keys --format markdown`.
docs-keys: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS) --target fedactor
	./$(BUILD_DIR)/fedactor scenario keys --format markdown > $(BUILD_DIR)/scenario_keys.md
	awk -v gen=$(BUILD_DIR)/scenario_keys.md \
	  '/<!-- keys:end -->/ { while ((getline l < gen) > 0) print l; skip = 0 } \
	   !skip { print } /<!-- keys:begin -->/ { skip = 1 }' docs/scenarios.md > docs/scenarios.md.tmp
	mv docs/scenarios.md.tmp docs/scenarios.md

format:
	find actors messages runtime examples tests bench fuzz -name '*.[ch]pp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
