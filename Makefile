# hallwatch: `make demo` sets up a fresh Debian 12 machine, builds and runs
# the built-in demo; `make test` runs every test (what CI runs).
GO       ?= go
BIN      := bin/hallwatch
PKGS     := ./...
FUZZTIME ?= 10s

.PHONY: setup build demo test vet fuzz eval bench gobench clean

setup:
	scripts/setup-debian.sh
	$(GO) mod download

build:
	$(GO) build -o $(BIN) ./cmd/hallwatch

demo: setup build
	$(BIN) demo

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

# Tests first, then every fuzz target for a short fixed time.
test: setup vet
	$(GO) test -count=1 -timeout 30m $(PKGS)
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

eval: build
	$(BIN) eval

# What hallwatch costs: relay per viewer, first key frame, latency,
# analytics per camera, a 24-camera district and a reconnect storm, each
# against a baseline of the same run (BENCHFLAGS: see --help, e.g.
# BENCHFLAGS="--scenarios relay --window 10s"). About 10 minutes.
BENCHFLAGS ?=
bench: build
	$(GO) run ./cmd/hallwatch-bench --hallwatch $(BIN) $(BENCHFLAGS)

# The hot paths' Go benchmarks: relay fan-out, hub fan-out, decode,
# detectors, tracker.
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./relay ./ingest ./avcodec ./analytics

clean:
	rm -rf bin
