# The two commands a newcomer needs are `make run` and `make test`.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: run test test-postgres vet bench fuzz build plugins plugins-check examples

run: ## run the server on its embedded default (SQLite, development keys)
	$(GO) run ./cmd/tari-payment-server

test: vet ## unit, integration and end-to-end tests on SQLite (PostgreSQL too when TPG_TEST_POSTGRES_URL is set)
	$(GO) test -race -count=1 -timeout 40m ./...

test-postgres: ## the same suite, refusing to run without TPG_TEST_POSTGRES_URL (CI sets it)
	@test -n "$$TPG_TEST_POSTGRES_URL" || { echo "TPG_TEST_POSTGRES_URL is not set" >&2; exit 1; }
	$(GO) test -race -count=1 -timeout 40m ./...

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/ ./cmd/...

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
# drop-in folder for TPG_PLUGINS_DIR.
EXAMPLE_DIRS := $(wildcard examples/*/)
examples: ## build the example WASM plugins
	@for d in $(EXAMPLE_DIRS); do \
		echo "building $${d}plugin.wasm"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o $${d}plugin.wasm ./$$d || exit 1; \
	done
