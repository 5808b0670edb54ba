# bedgate — build, demo, tests, benchmarks, fuzzing.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
DEMO_FOR ?= 30s
FUZZTIME ?= 10s

.PHONY: build demo test bench fuzz lint clean deb

# Host builds go to bin/; a cross build (GOOS or GOARCH set to another
# system) goes to bin/<goos>-<goarch>/, so it never overwrites the host's.
HOSTOS   := $(shell $(GO) env GOHOSTOS)
HOSTARCH := $(shell $(GO) env GOHOSTARCH)
TARGET   := $(shell GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) env GOOS)-$(shell GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) env GOARCH)
BIN      := $(if $(filter $(HOSTOS)-$(HOSTARCH),$(TARGET)),bin,bin/$(TARGET))

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/bedgate ./cmd/bedgate
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/bedsim ./cmd/bedsim
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/bedgate-demo ./cmd/bedgate-demo

# The main job on an embedded default: embedded MQTT broker, simulated
# monitors on pseudo-terminals, the gateway reading them through the real
# serial path, and a subscriber printing what the EPR receives.
demo: build
	./bin/bedgate-demo --for $(DEMO_FOR)

# Every test, with the race detector. Needs mosquitto (apt-get install -y
# mosquitto); tests read ../shared when it is there and say so when not.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

# Benchmarks: each reports a ratio against a baseline run side by side.
# One package at a time (-p 1): go test runs packages in parallel, and a
# benchmark sharing the CPU with another package's measures both wrong (the
# ward benchmark's gateway fell behind beside BenchmarkBacklogMillion).
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./...

# Short fuzzing runs of every fuzz target (the seeds also run in make test).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# A Debian package for a ward box (GOARCH=arm64 make deb for arm64 boxes):
# bin/bedgate_<version>_<arch>.deb, built with nfpm (configs/nfpm.yaml).
NFPM        ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
DEB_VERSION ?= $(shell git describe --tags --match 'v[0-9]*' 2>/dev/null | sed 's/^v//' | grep . || echo 0.0.0~git$$(git rev-parse --short HEAD 2>/dev/null || echo dev))
deb: build
	install -D -m 0755 $(BIN)/bedgate bin/deb/bedgate
	DEB_ARCH=$(lastword $(subst -, ,$(TARGET))) DEB_VERSION=$(DEB_VERSION) \
	  $(NFPM) package --config configs/nfpm.yaml --packager deb --target bin/

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin
