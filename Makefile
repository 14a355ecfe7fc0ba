# sockwasm — build, run and test.
#
#   make run          build the server and the example plugins, serve the chat demo
#   make test         everything: vet, unit tests with -race, fuzzing, interop, browser,
#                     and a new plugin in each language built and served from scratch
#   make conformance  the official Engine.IO / Socket.IO protocol suites
#   make bench        side by side on this machine: sockwasm (Go, AssemblyScript
#                     and C chat plugins) against Node.js socket.io and a bare
#                     coder/websocket server; tables of medians and ratios
#   make bench-go     Go benchmarks with -benchmem
#   make bench-cluster  cross-node broadcast through Redis: two sockwasm nodes
#                     against two Node.js socket.io nodes, same clients, same run

GO        ?= go
BIN       := bin/sockwasm
WASM_ENV  := GOOS=wasip1 GOARCH=wasm
WASM      := $(GO) build -buildmode=c-shared -trimpath
PLUGINS   := plugins/chat.wasm plugins/conformance.wasm plugins/engine-echo.wasm plugins/chat-as.wasm
# The example plugins. A server loads every .wasm of its plugins_dir, so
# auth-jwt (needs a secret), presence and ratelimit (need the kv grant),
# auth-http and webhook (need a url and the http grant) get folders of their
# own; those of ratelimit, auth-http and webhook hold a copy of the chat
# plugin too.
EXAMPLE_PLUGINS := plugins/ratelimit/ratelimit.wasm plugins/ratelimit/chat.wasm plugins/auth-jwt/auth-jwt.wasm plugins/presence/presence.wasm \
	plugins/auth-http/auth-http.wasm plugins/auth-http/chat.wasm plugins/webhook/webhook.wasm plugins/webhook/chat.wasm
# The AssemblyScript chat: its npm packages (the pinned compiler, the SDK).
AS_CHAT   := examples/chat-as
AS_DEPS   := $(AS_CHAT)/node_modules/.package-lock.json
CLIENT_JS := examples/chat/web/vendor/socket.io.min.js
# Each fuzz target runs this long; CI runs every target for at least 30 s.
FUZZTIME  ?= $(if $(filter true,$(CI)),30s,5s)

.PHONY: all build plugins web run test vet unit fuzz interop scaffold deps conformance bench bench-go bench-cluster clean

all: build plugins

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/sockwasm

plugins: $(AS_DEPS)
	$(WASM_ENV) $(WASM) -o plugins/chat.wasm ./examples/chat/plugin
	$(WASM_ENV) $(WASM) -o plugins/conformance.wasm ./examples/conformance/sio
	$(WASM_ENV) $(WASM) -o plugins/engine-echo.wasm ./examples/conformance/engine
	$(WASM_ENV) $(WASM) -o plugins/ratelimit/ratelimit.wasm ./examples/ratelimit/plugin
	cp plugins/chat.wasm plugins/ratelimit/chat.wasm
	$(WASM_ENV) $(WASM) -o plugins/auth-jwt/auth-jwt.wasm ./examples/auth-jwt/plugin
	$(WASM_ENV) $(WASM) -o plugins/presence/presence.wasm ./examples/presence/plugin
	$(WASM_ENV) $(WASM) -o plugins/auth-http/auth-http.wasm ./examples/auth-http/plugin
	cp plugins/chat.wasm plugins/auth-http/chat.wasm
	$(WASM_ENV) $(WASM) -o plugins/webhook/webhook.wasm ./examples/webhook/plugin
	cp plugins/chat.wasm plugins/webhook/chat.wasm
	cd $(AS_CHAT) && npm run --silent build

$(AS_DEPS): $(AS_CHAT)/package-lock.json sdk/assemblyscript/package.json
	cd $(AS_CHAT) && npm ci --no-audit --no-fund

# The chat page's socket.io client script comes from the pinned npm package.
web: $(CLIENT_JS)

$(CLIENT_JS): examples/chat/web/package-lock.json
	cd examples/chat/web && npm ci --no-audit --no-fund
	mkdir -p $(dir $@)
	cp examples/chat/web/node_modules/socket.io-client/dist/socket.io.min.js $@

run: build plugins web
	$(BIN) serve --config server.toml

test: deps vet unit fuzz interop scaffold

vet:
	@test -z "$$(gofmt -l cmd host protocol sdk examples)" || { gofmt -l cmd host protocol sdk examples; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(WASM_ENV) $(GO) vet ./sdk/... ./examples/...

# Then, without -race: the hot-reload test (its 1 s bound applies to real
# builds) and the table-grow test (it runs under an address-space cap,
# which the race detector's reservations exceed).
unit:
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestHotReloadUnderLoad$$' ./host/server
	$(GO) test -count=1 -run '^TestTableGrowHugeUnderAddressSpaceCap$$' ./host/plugin

fuzz:
	FUZZTIME=$(FUZZTIME) bash test/fuzz.sh

# Installs what the tests need: npm packages, and from Debian chromium (browser
# test), clang + lld (C guests), redis-server (cluster tests) and rustc with
# the wasm32-wasi standard library (Rust guests).
APT_NEEDS = $(if $(shell command -v chromium),,chromium) $(if $(shell command -v clang),,clang) $(if $(shell command -v wasm-ld),,lld) $(if $(shell command -v redis-server),,redis-server) $(if $(shell dpkg -s libstd-rust-dev-wasm32 2>/dev/null),,rustc libstd-rust-dev-wasm32)
deps:
	cd test/interop && npm ci --no-audit --no-fund
	cd test/cluster && npm ci --no-audit --no-fund
	@if [ -n "$(strip $(APT_NEEDS))" ]; then echo "apt-get install $(strip $(APT_NEEDS))"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_NEEDS) >/dev/null; fi

# The interop suite runs against the Go chat, then the AssemblyScript chat;
# the example plugins (examples/*/server.toml) once.
interop: build plugins web
	cd test/interop && SOCKWASM_BIN=$(CURDIR)/$(BIN) npm test
	cd test/interop && SOCKWASM_BIN=$(CURDIR)/$(BIN) SOCKWASM_CONFIG=examples/chat-as/server.toml npm test
	cd test/interop && SOCKWASM_BIN=$(CURDIR)/$(BIN) npm run test:examples

# sockwasm new → build → test → serve → a socket.io-client's answer, for Go,
# AssemblyScript, C and Rust, in an empty folder with only the binary on PATH.
scaffold: build
	SOCKWASM_BIN=$(CURDIR)/$(BIN) bash test/scaffold.sh

conformance: build plugins
	bash test/conformance.sh

# The side-by-side benchmark (cmd/sockwasm-bench/README.md): each scenario
# (connect, echo, broadcast, polling-echo, binary) against sockwasm with the
# Go, AssemblyScript and C chat plugins, Node.js socket.io 4.8.4 (test/bench,
# installed with npm ci) and a transport-only server, each started fresh per
# measurement, rounds alternating, pinned and unpinned; prints the tables.
# Needs node and npm (clang for the C plugin). Under 20 minutes on 2 cores.
# BENCH_ARGS="-quick" for a smoke pass; "-scenarios echo -rounds 3 -json FILE"
# etc. (bin/sockwasm-bench run -help). Not part of `make test`.
BENCH_BIN  := bin/sockwasm-bench
BENCH_DEPS := test/bench/node_modules/.package-lock.json

bench: build plugins $(BENCH_DEPS)
	$(GO) build -trimpath -o $(BENCH_BIN) ./cmd/sockwasm-bench
	$(BENCH_BIN) run $(BENCH_ARGS)

$(BENCH_DEPS): test/bench/package-lock.json
	cd test/bench && npm ci --no-audit --no-fund

# The Go micro-benchmarks (docs/PERFORMANCE.md).
bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Two sockwasm nodes (chat plugin) against two Node.js socket.io 4.8.4 nodes
# with @socket.io/redis-adapter 8.3.0, on one redis-server, driven by the same
# socket.io-client harness in the same run (docs/PERFORMANCE.md). Needs node,
# npm and redis-server; a few minutes. BENCH_CLUSTER_ARGS="--rounds 5" etc.
# (node test/cluster/bench.mjs --help). Not part of `make test`.
bench-cluster: build plugins
	cd test/cluster && { test -d node_modules/socket.io-client || npm ci --no-audit --no-fund; }
	cd test/cluster && SOCKWASM_BIN=$(CURDIR)/$(BIN) CHAT_WASM=$(CURDIR)/plugins/chat.wasm node bench.mjs $(BENCH_CLUSTER_ARGS)

clean:
	rm -rf bin $(PLUGINS) $(EXAMPLE_PLUGINS) $(CLIENT_JS)
