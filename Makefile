# The two commands of the README's quick start, plus build and bench.
BUILD ?= build
JOBS ?= $(shell nproc)
SAMPLE ?= samples/digits-cnn/digits-cnn.strata.json
STRATA = $(BUILD)/app/strata

.PHONY: all deps build test run bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j $(JOBS)

run: build
	@bash scripts/run.sh $(STRATA) $(SAMPLE)

bench: build
	@bash scripts/install-deps.sh --bench
	@bash scripts/bench.sh $(STRATA)

clean:
	rm -rf $(BUILD)
