# Thin wrapper over CMake. `make demo` and `make test` work on a fresh Debian 12 machine:
# they install the Debian packages the build needs (when run as root), configure, build
# (Release) and then run the default scenario / the whole ctest suite.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
SCENARIO ?= examples/scenarios/quickstart.yaml

# Every Debian package the build, the tests and the demo need.
PACKAGES := cmake make g++ ccache pkg-config libcaf-dev libtorch-dev libopenblas0-pthread \
            catch2 libboost-program-options-dev libyaml-cpp-dev nlohmann-json3-dev \
            libssl-dev openssl dataset-fashion-mnist zlib1g-dev libsqlite3-dev

.PHONY: all deps configure build demo test bench format clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "error: missing Debian packages:$$missing (run 'make deps' as root or install them)" >&2; exit 1; \
	  fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt: CMakeLists.txt | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	./$(BUILD_DIR)/fedactor run $(SCENARIO)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	./$(BUILD_DIR)/fedactor bench

format:
	find actors messages runtime examples tests bench -name '*.[ch]pp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
