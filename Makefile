# hallwatch: `make demo` sets up a fresh Debian 12 machine, builds and runs
# the built-in demo; `make test` runs every test (what CI runs).
GO       ?= go
BIN      := bin/hallwatch
PKGS     := ./...
FUZZTIME ?= 10s

.PHONY: setup build demo test vet fuzz eval bench mediamtx gobench clean

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
# The relay's cost baseline is MediaMTX measured in the same run: bin/mediamtx
# (`make mediamtx` builds it) or a mediamtx on PATH, or MEDIAMTX=/path;
# without one the bench says those rows are skipped.
BENCHFLAGS ?=
MEDIAMTX   ?= $(firstword $(wildcard bin/mediamtx) $(shell command -v mediamtx 2>/dev/null))
bench: build
	$(GO) run ./cmd/hallwatch-bench --hallwatch $(BIN) $(if $(MEDIAMTX),--mediamtx $(MEDIAMTX)) $(BENCHFLAGS)

# MediaMTX, the relay bench's baseline, built from source into bin/mediamtx
# (not part of hallwatch; needs git and network). MEDIAMTX_REF picks a tag.
MEDIAMTX_REF ?= main
mediamtx:
	rm -rf bin/mediamtx-src && mkdir -p bin
	git clone --depth 1 --branch $(MEDIAMTX_REF) https://github.com/bluenviron/mediamtx bin/mediamtx-src
	echo '// not bundled' > bin/mediamtx-src/internal/servers/hls/hls.min.js # go generate would download hls.js
	cd bin/mediamtx-src && $(GO) build -o ../mediamtx .
	rm -rf bin/mediamtx-src

# The hot paths' Go benchmarks: relay fan-out, batched UDP sends, hub fan-out, decode, transcode,
# detectors, tracker.
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./relay/... ./ingest ./avcodec ./analytics

clean:
	rm -rf bin
