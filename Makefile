# entratool — build, test, demo, bench. Every target works on a fresh Debian machine with Go.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The commit and its time (UTC, RFC 3339), never the time of the build: one commit always
# builds the same bytes.
COMMIT ?= $(shell git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell TZ=UTC0 git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/entratool/entratool/core/version.Version=$(VERSION) \
	-X github.com/entratool/entratool/core/version.Commit=$(COMMIT) -X github.com/entratool/entratool/core/version.Date=$(DATE)
FUZZTIME ?= 5s
PREFIX ?= /usr/local

# Binaries: name → package. The engine is built without cgo (pure-Go DNS and user
# lookups): libc and the dynamic loader cost 1.6 MB of its peak RSS and start-up time
# (docs/benchmarks.md); the fronts link nothing that needs cgo, and the PKCS#11 plugin
# needs it.
CMDS := entratool:./entratool \
	entratool-engine:./entratool-engine \
	git-credential-entra:./git-credential-entra \
	kubectl-exec-entra:./kubectl-exec-entra \
	docker-credential-entra:./docker-credential-entra \
	az-entra:./az-entra \
	entra-emulator:./emulator/cmd/entra-emulator

.PHONY: all build test test-deps demo bench fuzz lint install cross clean

all: build

build:
	@mkdir -p $(BIN)
	@for c in $(CMDS); do name=$${c%%:*}; pkg=$${c#*:}; \
	  cgo=; [ $$name = entratool-engine ] && cgo=CGO_ENABLED=0; \
	  if [ -d "$$pkg" ]; then echo "go build $$name"; env $$cgo $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$name $$pkg || exit 1; fi; done
	@for d in plugins/*/; do [ -f "$$d/main.go" ] || continue; name=$$(basename $$d); \
	  echo "go build $$name"; $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$name ./$$d || exit 1; done

# Installs what the tests drive for real (gnome-keyring, dbus, openssl, git, …) when missing.
test-deps:
	@bash scripts/install-test-deps.sh

# Every test, with the race detector, inside a private D-Bus session with an unlocked
# gnome-keyring so the keyring tests talk to a real Secret Service; then a short fuzz run.
test: test-deps build
	bash scripts/with-keyring.sh $(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)
	$(MAKE) dist-check DIST_PLATFORMS=linux/amd64

fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tools && $(GO) vet ./...
	GOOS=windows $(GO) vet ./plugins/entratool-keystore-wincert ./core/keystore/... ./core/fsutil ./core/tokencache ./core/profile ./core/secret

demo: test-deps build
	@bash scripts/demo.sh

bench: build
	@bash scripts/bench.sh

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	find $(BIN) -maxdepth 1 -type f -perm -u+x ! -name entra-emulator -exec install -m 0755 {} $(DESTDIR)$(PREFIX)/bin/ \;

cross:
	@for os in linux windows darwin; do for c in $(CMDS); do name=$${c%%:*}; pkg=$${c#*:}; \
	  [ -d "$$pkg" ] || continue; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "GOOS=$$os $$name"; CGO_ENABLED=0 GOOS=$$os GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$os-amd64/$$name$$ext $$pkg || exit 1; \
	done; done
	@echo "GOOS=windows entratool-keystore-wincert"; CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/windows-amd64/entratool-keystore-wincert.exe ./plugins/entratool-keystore-wincert

clean:
	rm -rf $(BIN)

# Release artifacts (SPEC §16) in dist/: archives for linux/darwin/windows × amd64/arm64,
# .deb and .rpm, a CycloneDX SBOM, Homebrew/Scoop/winget manifests and SHA256SUMS, the
# same bytes for the same commit (scripts/dist.sh; tools pinned in tools/go.mod).
# dist-check builds them in a clean clone of HEAD, twice, and checks them
# (scripts/dist-check.sh); make test runs it for linux/amd64 only.
.PHONY: dist dist-check
DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

dist: export VERSION := $(VERSION)
dist: export LDFLAGS := $(LDFLAGS)
dist: export DIST_PLATFORMS := $(DIST_PLATFORMS)
dist: export GO := $(GO)
dist:
	@bash scripts/dist.sh

dist-check: export DIST_PLATFORMS := $(DIST_PLATFORMS)
dist-check: export GO := $(GO)
dist-check: test-deps
	@bash scripts/dist-check.sh
