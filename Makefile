# The two commands a newcomer needs are `make run` and `make test`.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: run test test-postgres vet bench fuzz build plugins plugins-check examples examples-c examples-c-check

# Built, then run (not `go run`): `go run` exits 1 on Ctrl-C whatever the
# server returns, so make printed "Error 1" after a clean shutdown. Now the
# server handles the SIGINT and exits 0 (TestMakeRunStopsCleanlyOnCtrlC).
run: ## run the server on its embedded default (SQLite, development keys)
	$(GO) build -ldflags='$(VERSION_LDFLAGS)' -o bin/tari-payment-server ./cmd/tari-payment-server
	exec ./bin/tari-payment-server

test: vet ## unit, integration and end-to-end tests on SQLite (PostgreSQL too when TPG_TEST_POSTGRES_URL is set)
	$(GO) test -race -count=1 -timeout 40m ./...

test-postgres: ## the same suite, refusing to run without TPG_TEST_POSTGRES_URL (CI sets it)
	@test -n "$$TPG_TEST_POSTGRES_URL" || { echo "TPG_TEST_POSTGRES_URL is not set" >&2; exit 1; }
	$(GO) test -race -count=1 -timeout 40m ./...

vet:
	$(GO) vet ./...

build:
	$(GO) build -ldflags='$(VERSION_LDFLAGS)' -o bin/ ./cmd/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 10s
fuzz: ## run every fuzz target for FUZZTIME each
	./.ci/fuzz $(FUZZTIME)

# The shipped plugins (plugins/defaults/<id>) are built to
# plugins/embedded/<id>.wasm, committed and embedded in the server (go:embed),
# so a plain `go build` or `go install` gives a complete server. Rebuild them
# after changing their source, the sdk or go.mod; plugins-check (CI) fails when
# the committed modules differ from what the source builds.
plugins: ## rebuild the shipped WASM plugins embedded in the server
	GO=$(GO) ./plugins/embedded/build.sh plugins/embedded

plugins-check: ## fail when the committed shipped plugins differ from a fresh build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && GO=$(GO) ./plugins/embedded/build.sh "$$tmp" && \
	for f in "$$tmp"/*.wasm; do \
		cmp -s "$$f" plugins/embedded/$$(basename "$$f") || { echo "plugins/embedded/$$(basename "$$f") differs from its source: run make plugins and commit" >&2; exit 1; }; \
	done; \
	for f in plugins/embedded/*.wasm; do \
		test -f "$$tmp/$$(basename "$$f")" || { echo "$$f has no source under plugins/defaults: remove it" >&2; exit 1; }; \
	done; echo "shipped plugins match their source"

# Example plugins, each built next to its manifest as <dir>/plugin.wasm: a
# drop-in folder for TPG_PLUGINS_DIR. Go examples here, C ones (*-c) below.
EXAMPLE_DIRS := $(dir $(wildcard examples/*/main.go))
examples: ## build the example WASM plugins
	@for d in $(EXAMPLE_DIRS); do \
		echo "building $${d}plugin.wasm"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o $${d}plugin.wasm ./$$d || exit 1; \
	done

# Plugins written in C (sdk/c): the examples (examples/*-c) and the C test
# plugins (plugins/testdata/*-c), each main.c built with sdk/c/build.sh to
# plugin.wasm next to it. The modules are committed, so the C plugins' tests
# run without clang; with clang the tests rebuild them, and CI (.ci/run,
# which installs Debian's clang and wasi-libc) fails when a committed module
# differs from its source. Rebuild after changing main.c or sdk/c.
C_PLUGIN_DIRS := $(dir $(wildcard examples/*-c/main.c plugins/testdata/*-c/main.c))
examples-c: ## build the C plugins (examples/*-c, plugins/testdata/*-c) with clang; commit the plugin.wasm files
	@for d in $(C_PLUGIN_DIRS); do \
		echo "building $${d}plugin.wasm"; \
		./sdk/c/build.sh $${d}plugin.wasm $${d}main.c || exit 1; \
	done

examples-c-check: ## fail when a committed C plugin module differs from a fresh build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && for d in $(C_PLUGIN_DIRS); do \
		./sdk/c/build.sh "$$tmp/plugin.wasm" $${d}main.c || exit 1; \
		cmp -s "$$tmp/plugin.wasm" $${d}plugin.wasm || { echo "$${d}plugin.wasm differs from its source: run make examples-c and commit" >&2; exit 1; }; \
	done; echo "C plugins match their source"

# Release: static binaries (no cgo, -trimpath) for each platform in dist/,
# named <command>-<os>-<arch>, with SHA256SUMS. VERSION defaults to
# `git describe` and COMMIT to the checked-out commit; `make build` and
# `make run` stamp them too, so `--version` names the commit even where Go's
# own VCS stamp is off (GOFLAGS=-buildvcs=false, a tree without .git).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64
VERSION_LDFLAGS := -X github.com/tari-payment/tps/internal/version.version=$(VERSION) -X github.com/tari-payment/tps/internal/version.commit=$(COMMIT)
RELEASE_LDFLAGS := -s -w $(VERSION_LDFLAGS)
.PHONY: release
release: ## static tari-payment-server and taritools for linux/amd64 and linux/arm64 in dist/, with SHA256SUMS
	rm -rf dist && mkdir -p dist
	@for p in $(RELEASE_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; \
		for c in tari-payment-server taritools; do \
			echo "dist/$$c-$$os-$$arch"; \
			CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags='$(RELEASE_LDFLAGS)' -o dist/$$c-$$os-$$arch ./cmd/$$c || exit 1; \
		done; \
	done
	cd dist && sha256sum -- * > SHA256SUMS
