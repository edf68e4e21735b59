# The two commands of the README: `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR ?= var
JOBS ?= $(shell nproc)

.PHONY: deps build server run test unit integration bench bench-postgres clean format

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Only the server binary: the quickest way to a running paygate.
server: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target paygate

run: server
	$(BUILD_DIR)/paygate demo --data $(DATA_DIR)
	exec $(BUILD_DIR)/paygate serve --data $(DATA_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit -j $(JOBS)

integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

bench: deps build
	@scripts/install-deps.sh --bench
	bench/run.sh $(BUILD_DIR)

bench-postgres: deps build
	bench/postgres.sh $(BUILD_DIR)

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
