#!/usr/bin/env bash
# Serves examples/conformance/server.toml on a free loopback port and runs the
# official Engine.IO and Socket.IO protocol suites against it
# (../shared/conformance/run.sh). Fails unless every test passed.
# Environment: REPEAT and RETRIES are handed to run.sh; SHARED overrides the
# folder that holds conformance/ (default: ../shared beside the repository).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
RUN="$SHARED/conformance/run.sh"
if [ ! -f "$RUN" ]; then
  echo "conformance: $RUN not found; the protocol suites live in ../shared beside the repository. Skipping."
  exit 0
fi
# Stage the harness inside the repository (ignored by git and by the go tool)
# so its npm packages are installed once and runs never share a folder.
export CONFORMANCE_WORKDIR="${CONFORMANCE_WORKDIR:-$ROOT/test/.conformance}"
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
LOG="$(mktemp)"
"$ROOT/bin/sockwasm" serve --config "$ROOT/examples/conformance/server.toml" --listen "127.0.0.1:$PORT" 2>"$LOG" &
PID=$!
cleanup() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -f "$LOG"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  if ! kill -0 "$PID" 2>/dev/null; then echo "conformance: server exited:"; cat "$LOG"; exit 1; fi
  sleep 0.1
done
bash "$RUN" all "$PORT"
rc=$?
if [ $rc -ne 0 ]; then
  echo "# server log (last 40 lines):"; tail -40 "$LOG"
fi
exit $rc
