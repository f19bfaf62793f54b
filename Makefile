# Rampart — two commands do everything on a fresh Debian machine:
#   make run    install missing packages, build, start the sidecar on its embedded model, show a call
#   make test   install missing packages, build once, run every test tier
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT ?= swift
BIN := .build/debug/rampart

.PHONY: run test build deps test-deps unit c-client bench proto model clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	$(SWIFT) build --product rampart

## Start `rampart serve --dev`, show health + a streamed generation, keep serving until Ctrl-C.
run: build
	@scripts/run-dev.sh $(BIN)

## Every test tier on one build: Swift unit/integration tests, the CLI end to end, the C client against a live server.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) build --product rampart
	$(SWIFT) build --product ExampleSwiftPlugin
	$(SWIFT) build --product RampartAuth
	$(SWIFT) build --product RampartThrottle
	$(SWIFT) build --product RampartSanitizer
	RAMPART_BIN=$(BIN) Tests/cli/test.sh
	RAMPART_BIN=$(BIN) Tests/cli/plugins.sh
	RAMPART_BIN=$(BIN) Tests/cli/auth.sh
	RAMPART_BIN=$(BIN) Tests/cli/throttle.sh
	RAMPART_BIN=$(BIN) Tests/cli/sanitizer.sh
	RAMPART_BIN=$(BIN) examples/c-client/test.sh
	RAMPART_BIN=$(BIN) Tests/interop/model-signing.sh

## Benchmarks (release builds; see docs/BENCHMARKS.md).
bench: deps
	scripts/bench.sh

## Regenerate Core/RampartProto from proto/ (needs protoc-gen-swift; never run in CI).
proto:
	scripts/generate-proto.sh

## Rebuild the embedded model artifact (docs/BUILTIN_MODEL.md).
model:
	python3 scripts/build-builtin-model.py

clean:
	rm -rf .build examples/c-client/build
