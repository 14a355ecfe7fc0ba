#!/usr/bin/env bash
# A plugin author's first minutes, for each language, outside the
# repository: in an empty temporary folder, with only the built sockwasm
# binary (and the language's toolchain) on PATH and an empty cache,
#   sockwasm new NAME --lang L, build it, run its tests,
#   sockwasm test plugin.test (scripted clients against the real server),
#   sockwasm serve, and get an answer from the real socket.io-client;
#   then sockwasm dev, an edit of the greeting, and the new answer — all
#   of it in under two minutes per language.
# The Go SDK must resolve with the module proxy off: the binary carries it.
#
#   bash test/scaffold.sh [go as c rust]    (default: all four)
#   SOCKWASM_BIN=path/to/sockwasm           (default bin/sockwasm)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${SOCKWASM_BIN:-$repo/bin/sockwasm}")"
client_mod="$repo/test/interop/node_modules/socket.io-client"
[ -x "$bin" ] || { echo "scaffold: no sockwasm binary at $bin (make build)"; exit 1; }
[ -d "$client_mod" ] || { echo "scaffold: no socket.io-client in test/interop (npm ci there)"; exit 1; }
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(go as c rust)

work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# PATH: the binary alone in a folder of its own, then the toolchains'
# folders (go, node and npm, clang, rustc), none of which holds sockwasm.
mkdir -p "$work/bin" "$work/home" "$work/cache"
ln -s "$bin" "$work/bin/sockwasm"
path="$work/bin"
add() { local d; d="$(dirname "$(command -v "$1")")"; case ":$path:" in *":$d:"*) ;; *) path="$path:$d" ;; esac; }
add go; add node; add npm
# Rust: a rustc with the wasm32-wasi standard library (Debian's; rustup's may lack it).
rustc=""
for r in "${SOCKWASM_RUSTC:-}" "$(command -v rustc || true)" /usr/bin/rustc; do
  [ -n "$r" ] && [ -x "$r" ] || continue
  if [ -d "$("$r" --print sysroot)/lib/rustlib/wasm32-wasi" ]; then rustc="$r"; break; fi
done
# The build caches stay the user's (read before HOME moves); the module
# cache and sockwasm's cache (SDKs, compiled plugins) start empty.
export GOCACHE="${GOCACHE:-$(go env GOCACHE)}" npm_config_cache="${npm_config_cache:-$(npm config get cache)}"
export HOME="$work/home" XDG_CACHE_HOME="$work/cache" GOMODCACHE="$work/gomod" GOPROXY=off GOFLAGS=-mod=mod GOWORK=off
cd "$work"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# ask connects socket.io-client (polling, then the upgrade) to the server
# on PORT and asks it to greet Ada until it answers WANT (20 s at most).
ask() {
  local port="$1" nsp="$2" want="$3"
  NODE_PATH="$(dirname "$client_mod")" PORT="$port" NSP="$nsp" WANT="$want" node -e '
    const { io } = require("socket.io-client");
    const deadline = Date.now() + 20000;
    let last = "";
    (function attempt() {
      const retry = (why) => { last = why; if (Date.now() > deadline) { console.error(last); process.exit(1); } setTimeout(attempt, 100); };
      const s = io("http://127.0.0.1:" + process.env.PORT + process.env.NSP, { reconnection: false, timeout: 3000 });
      s.on("connect_error", (e) => { s.close(); retry("connect: " + e.message); });
      s.on("connect", async () => {
        let got;
        try { got = await s.timeout(5000).emitWithAck("greet", { name: "Ada" }); } catch (e) { got = e.message; }
        const transport = s.io.engine.transport.name;
        s.close();
        if (got !== process.env.WANT) return retry("greet answered " + JSON.stringify(got) + ", want " + JSON.stringify(process.env.WANT));
        console.log("  socket.io-client: greet -> " + JSON.stringify(got) + " over " + transport);
        process.exit(0);
      });
    })();'
}

# answer serves the plugin of the current folder and asks it to greet Ada.
answer() {
  local name="$1" port
  port="$(free_port)"
  PATH="$path" sockwasm serve --config server.toml --listen "127.0.0.1:$port" >serve.log 2>&1 &
  server=$!
  ask "$port" "/$name" "hello, Ada" || { cat serve.log; exit 1; }
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

# live runs sockwasm dev, changes the greeting in the source, and waits for
# the rebuilt plugin to answer with it.
live() {
  local name="$1" lang="$2" port
  port="$(free_port)"
  PATH="$path" SOCKWASM_RUSTC="$rustc" sockwasm dev --listen "127.0.0.1:$port" >dev.log 2>&1 &
  server=$!
  ask "$port" "/$name" "hello, Ada" || { cat dev.log; exit 1; }
  case "$lang" in
    go) sed -i 's/"hello, "+name/"hi, "+name/' main.go ;;
    as) sed -i 's/"hello, " + name/"hi, " + name/' assembly/index.ts ;;
    c) sed -i 's/put(&n, "\[\\"hello, ", 9);/put(\&n, "[\\"hi, ", 6);/' plugin.c ;;
    rust) sed -i 's/"hello, {}"/"hi, {}"/' plugin.rs ;;
  esac
  grep -q 'hi, ' main.go assembly/index.ts plugin.c plugin.rs 2>/dev/null || { echo "the greeting was not edited"; exit 1; }
  ask "$port" "/$name" "hi, Ada" || { cat dev.log; exit 1; }
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

# one runs every step for language $1, in its own folder, printing to
# stdout; a failing step fails it.
one() {
  local lang="$1" name="hello-$1" start=$SECONDS took
  (
    set -e
    server=""
    trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT
    PATH="$path" sockwasm new "$name" --lang "$lang" >/dev/null
    cd "$name"
    case "$lang" in
      go)
        PATH="$path" go test ./...
        PATH="$path" GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o "build/$name.wasm" . ;;
      as)
        PATH="$path" npm install --no-audit --no-fund --silent
        PATH="$path" npm test --silent >npm-test.log 2>&1 || { cat npm-test.log; exit 1; } ;;
      c)
        PATH="$path:/usr/bin" clang --target=wasm32 -nostdlib -Wl,--no-entry -O2 -o "build/$name.wasm" plugin.c ;;
      rust)
        [ -n "$rustc" ] || { echo "no rustc with wasm32-wasi (apt-get install rustc libstd-rust-dev-wasm32)"; exit 1; }
        "$rustc" --edition 2021 --target wasm32-wasi --crate-type cdylib -O -C strip=symbols -o "build/$name.wasm" plugin.rs ;;
      *) echo "unknown language $lang"; exit 1 ;;
    esac
    PATH="$path" sockwasm test plugin.test | tail -1
    answer "$name"
    live "$name" "$lang"
  ) || return 1
  took=$((SECONDS - start))
  echo "   $lang: new → built → tested → served → answered → edited live under sockwasm dev → answered anew in $took s"
  # From nothing to an edited plugin answering: under two minutes.
  [ "$took" -lt 120 ] || { echo "scaffold: $lang took $took s, over 2 minutes"; return 1; }
}

# The languages run JOBS (default 2) at a time, each printed whole when done.
JOBS="${JOBS:-2}"
failed=0
for lang in "${langs[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  ( one "$lang" >"$work/$lang.log" 2>&1; echo $? >"$work/$lang.rc" ) &
done
wait
for lang in "${langs[@]}"; do
  echo "== $lang"
  cat "$work/$lang.log"
  [ "$(cat "$work/$lang.rc" 2>/dev/null)" = 0 ] || { failed=$((failed + 1)); echo "== $lang: FAILED"; }
done
[ "$failed" -eq 0 ]
