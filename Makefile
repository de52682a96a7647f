# The two commands a newcomer needs are `make run` and `make test`.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: run test test-postgres vet bench fuzz build plugins

# Built, then run (not `go run`): `go run` exits 1 on Ctrl-C whatever the
# server returns, so make reported an error after a clean shutdown.
run: ## run the server on its embedded default (SQLite, development keys)
	$(GO) build -o bin/tari-payment-server ./cmd/tari-payment-server
	exec ./bin/tari-payment-server

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

# Shipped and example plugins, each built next to its manifest as
# <dir>/plugin.wasm: a drop-in folder for TPG_PLUGINS_DIR. (The server also
# builds the shipped ones itself when Go is installed; see plugins/README.md.)
PLUGIN_DIRS := $(wildcard plugins/defaults/*/ examples/*/)
plugins: ## build the shipped and example WASM plugins
	@for d in $(PLUGIN_DIRS); do \
		echo "building $${d}plugin.wasm"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags='-s -w' -o $${d}plugin.wasm ./$$d || exit 1; \
	done
