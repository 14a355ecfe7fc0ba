// Shared by node.mjs and emitter.mjs: the JSON-line protocol on
// stdin/stdout and the "base64:" convention for binary values.
//
// Every command is one JSON object per line on stdin:
//   {"id": 1, "cmd": "fetchSockets", "nsp": "/", ...}
// and gets exactly one answer on stdout:
//   {"id": 1, "result": ...}   or   {"id": 1, "error": "message"}
// Any other stdout line is unsolicited (ready, events); it has no "id".

import { createInterface } from "node:readline";

const B64 = "base64:";

/** Prints one JSON line on stdout, binary values as "base64:…" strings. */
export function print(obj) {
  process.stdout.write(JSON.stringify(toWire(obj)) + "\n");
}

/**
 * Turns JSON from a command into socket.io values: every string that starts
 * with "base64:" becomes a Buffer, at any depth.
 */
export function fromWire(v) {
  if (typeof v === "string") {
    return v.startsWith(B64) ? Buffer.from(v.slice(B64.length), "base64") : v;
  }
  if (Array.isArray(v)) return v.map(fromWire);
  if (v !== null && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromWire(x);
    return out;
  }
  return v;
}

/**
 * The reverse of fromWire for output: Buffers, typed arrays and
 * ArrayBuffers become "base64:…" strings, Sets become arrays, functions and
 * undefined are dropped (as JSON.stringify would).
 */
export function toWire(v) {
  if (Buffer.isBuffer(v)) return B64 + v.toString("base64");
  if (ArrayBuffer.isView(v)) return B64 + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  if (v instanceof ArrayBuffer) return B64 + Buffer.from(v).toString("base64");
  if (v instanceof Set) return [...v].map(toWire);
  if (v instanceof Error) return { error: v.message };
  if (Array.isArray(v)) return v.map((x) => (x === undefined || typeof x === "function" ? null : toWire(x)));
  if (v !== null && typeof v === "object") {
    if (typeof v.toJSON === "function") return toWire(v.toJSON());
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === "function") continue;
      out[k] = toWire(x);
    }
    return out;
  }
  return v;
}

/** A non-empty array of strings, or undefined. */
export function list(v) {
  if (v === undefined || v === null) return undefined;
  const a = Array.isArray(v) ? v : [v];
  return a.length > 0 ? a.map(String) : undefined;
}

/**
 * Reads commands from stdin and answers each through handlers[cmd]
 * (async functions of the command object). Commands run concurrently; their
 * answers may come out of order. onEnd runs when stdin closes and the
 * commands already read have been answered.
 */
export function serve(handlers, onEnd) {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const running = new Set();
  rl.on("line", (line) => {
    const p = handle(line);
    running.add(p);
    p.finally(() => running.delete(p));
  });
  // Answer the commands already read, then stop.
  rl.on("close", () => Promise.allSettled([...running]).then(onEnd));

  async function handle(line) {
    if (line.trim() === "") return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch (err) {
      print({ error: `bad command line: ${err.message}`, line });
      return;
    }
    const id = msg.id;
    const handler = Object.hasOwn(handlers, msg.cmd) ? handlers[msg.cmd] : undefined;
    if (!handler) {
      print({ id, error: `unknown command ${JSON.stringify(msg.cmd)}` });
      return;
    }
    try {
      const result = await handler(msg);
      print({ id, result: result === undefined ? "ok" : result });
    } catch (err) {
      const answer = { id, error: err?.message ?? String(err) };
      if (err?.partial !== undefined) answer.result = err.partial;
      print(answer);
    }
  }
}

/** An Error carrying partial results (printed as "result" beside "error"). */
export function partialError(err, partial) {
  const e = err instanceof Error ? err : new Error(String(err));
  e.partial = partial;
  return e;
}

/** Runs fn once on SIGTERM/SIGINT or stdin end; then the process exits 0. */
export function onShutdown(fn) {
  let done = false;
  const stop = async () => {
    if (done) return;
    done = true;
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`shutdown: ${err?.stack ?? err}\n`);
    }
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  return stop;
}

/** node-redis reconnect strategy: retry every ≤ 500 ms, forever. */
export function reconnectStrategy(retries) {
  return Math.min(50 + retries * 50, 500);
}
