// Shared helpers for the interop and browser tests: locating or spawning the
// sockwasm server, creating clients that are always cleaned up, and awaiting
// events with a deadline so that a hang fails instead of blocking.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io, Manager } from "socket.io-client";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const IS_CI = process.env.CI === "true";
/** The server config under test: SOCKWASM_CONFIG, relative to the repository root. */
export const CHAT_CONFIG = process.env.SOCKWASM_CONFIG || "examples/chat/server.toml";

const LOG_TAIL_BYTES = 64 * 1024;
const START_TIMEOUT_MS = 30000;

/** Resolves to a loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.once("connect", () => { sock.destroy(); resolve(true); });
    sock.once("error", () => { sock.destroy(); resolve(false); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * SOCKWASM_BIN may be absolute, relative to the current directory, or
 * relative to the repository root; it defaults to <repo>/bin/sockwasm.
 */
function resolveBin(fromEnv) {
  if (!fromEnv) return path.join(REPO_ROOT, "bin", "sockwasm");
  if (path.isAbsolute(fromEnv)) return fromEnv;
  const fromCwd = path.resolve(process.cwd(), fromEnv);
  return fs.existsSync(fromCwd) ? fromCwd : path.resolve(REPO_ROOT, fromEnv);
}

/**
 * Returns a handle on the chat server under test.
 *
 * - SOCKWASM_URL set: use that already-running server (nothing is spawned).
 * - otherwise spawn `$SOCKWASM_BIN serve --config $SOCKWASM_CONFIG
 *   --listen 127.0.0.1:<free port>` from the repository root
 *   (SOCKWASM_CONFIG defaults to examples/chat/server.toml; the
 *   AssemblyScript chat is examples/chat-as/server.toml)
 *   (SOCKWASM_BIN defaults to <repo>/bin/sockwasm) and wait until the port
 *   accepts connections.
 *
 * `config` overrides SOCKWASM_CONFIG for one server (the example tests
 * serve examples/NAME/server.toml this way).
 *
 * When the binary is missing the handle has `skip` set (a reason string),
 * except under CI=true, where a missing binary throws.
 */
export async function startServer({ name = "interop", config = CHAT_CONFIG } = {}) {
  if (process.env.SOCKWASM_URL) {
    const url = process.env.SOCKWASM_URL.replace(/\/+$/, "");
    return { url, skip: false, spawned: false, stop: async () => {}, assertAlive: () => {}, logTail: () => "" };
  }

  const bin = resolveBin(process.env.SOCKWASM_BIN);
  if (!fs.existsSync(bin)) {
    const reason = `sockwasm binary not found at ${bin} (build it, or set SOCKWASM_BIN / SOCKWASM_URL)`;
    if (IS_CI) throw new Error(reason);
    return { url: null, skip: reason, spawned: false, stop: async () => {}, assertAlive: () => {}, logTail: () => "" };
  }

  const port = await freePort();
  const args = ["serve", "--config", config, "--listen", `127.0.0.1:${port}`];
  const child = spawn(bin, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const echoLog = process.env.SOCKWASM_TEST_LOG === "1";
  const append = (chunk) => {
    if (echoLog) process.stderr.write(chunk);
    log += chunk.toString();
    if (log.length > LOG_TAIL_BYTES) log = log.slice(-LOG_TAIL_BYTES);
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  let exited = null;
  let stopping = false;
  const exitPromise = new Promise((resolve) => {
    child.once("exit", (code, signal) => { exited = { code, signal }; resolve(); });
  });
  child.once("error", (err) => { append(`spawn error: ${err.message}\n`); });
  const killOnExit = () => { try { child.kill("SIGKILL"); } catch { /* already gone */ } };
  process.once("exit", killOnExit);

  const logFile = path.join(os.tmpdir(), `sockwasm-${name}.log`);
  const cmdline = `${bin} ${args.join(" ")}`;
  const logTail = () => log.slice(-8192);

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new Error(`server exited early (${JSON.stringify(exited)}): ${cmdline}\n--- server log ---\n${logTail()}`);
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not accept connections on port ${port} within ${START_TIMEOUT_MS} ms: ${cmdline}\n--- server log ---\n${logTail()}`);
    }
    await sleep(50);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    skip: false,
    spawned: true,
    logTail,
    /** Throws if the spawned server has died on its own. */
    assertAlive() {
      if (exited && !stopping) {
        throw new Error(`server died during the tests (${JSON.stringify(exited)})\n--- server log ---\n${logTail()}`);
      }
    },
    async stop() {
      const died = exited && !stopping;
      stopping = true;
      if (!exited) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exitPromise;
        clearTimeout(t);
      }
      process.removeListener("exit", killOnExit);
      try { fs.writeFileSync(logFile, log); } catch { /* best effort */ }
      if (died) {
        throw new Error(`server died during the tests (${JSON.stringify(exited)}); log: ${logFile}\n${logTail()}`);
      }
    },
  };
}

/**
 * Tracks sockets/managers created by a test so they can all be closed
 * afterwards, even when an assertion fails half-way.
 */
export class Clients {
  constructor(url) {
    this.url = url;
    this.sockets = new Set();
    this.managers = new Set();
  }

  /** io(url + nsp, opts) with a fresh Manager (no multiplexing across calls). */
  socket(nsp = "/", opts = {}) {
    const s = io(this.url + (nsp === "/" ? "" : nsp), {
      forceNew: true,
      reconnection: false,
      timeout: 5000,
      ...opts,
    });
    this.sockets.add(s);
    return s;
  }

  manager(opts = {}) {
    const m = new Manager(this.url, { reconnection: false, timeout: 5000, autoConnect: true, ...opts });
    this.managers.add(m);
    return m;
  }

  /** Creates a socket and waits for it to be connected. */
  async connected(nsp = "/", opts = {}) {
    const s = this.socket(nsp, opts);
    await waitConnect(s);
    return s;
  }

  closeAll() {
    for (const s of this.sockets) {
      s.io.opts.reconnection = false;
      s.io.reconnection(false);
      s.disconnect();
      s.io.engine?.close();
    }
    for (const m of this.managers) {
      m.reconnection(false);
      m.engine?.close();
    }
    this.sockets.clear();
    this.managers.clear();
  }
}

/** Waits for `event` on `emitter`; resolves with the array of its arguments. */
export function once(emitter, event, ms = 5000, label = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out after ${ms} ms waiting for "${label}"`));
    }, ms);
    function handler(...args) {
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(args);
    }
    emitter.on(event, handler);
  });
}

/** Resolves when the socket is connected; rejects on connect_error or timeout. */
export function waitConnect(socket, ms = 5000) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`connect timed out after ${ms} ms (${socket.nsp})`)); }, ms);
    const onConnect = () => { cleanup(); resolve(socket); };
    const onError = (err) => { cleanup(); reject(new Error(`connect_error on ${socket.nsp}: ${err.message}`)); };
    function cleanup() { clearTimeout(timer); socket.off("connect", onConnect); socket.off("connect_error", onError); }
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/** Emits with an ack and resolves with ALL the ack arguments (array). */
export function emitAck(socket, event, args = [], ms = 5000) {
  return new Promise((resolve, reject) => {
    socket.timeout(ms).emit(event, ...args, (err, ...res) => {
      if (err) reject(new Error(`no ack for "${event}" within ${ms} ms`));
      else resolve(res);
    });
  });
}

/** Emits with an ack and resolves with the first ack argument. */
export async function call(socket, event, ...args) {
  const res = await emitAck(socket, event, args);
  return res[0];
}

/** Collects every occurrence of `event` (argument arrays) into a list. */
export function collect(socket, event) {
  const list = [];
  socket.on(event, (...args) => list.push(args));
  return list;
}

/** Polls `predicate` until true or the deadline passes. */
export async function until(predicate, ms = 5000, label = "condition") {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await sleep(10);
  }
}

/** Converts a received binary value (Buffer, ArrayBuffer, typed array) to a Buffer. */
export function toBuffer(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError(`not binary: ${Object.prototype.toString.call(v)}`);
}

/**
 * Replaces every binary value inside `v` by {$bin: hex} so that structures
 * can be compared with deepStrictEqual regardless of which binary type the
 * client decoded into. Non-binary values are kept as they are.
 */
export function normalizeBinary(v) {
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    return { $bin: toBuffer(v).toString("hex") };
  }
  if (Array.isArray(v)) return v.map(normalizeBinary);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, val] of Object.entries(v)) out[k] = normalizeBinary(val);
    return out;
  }
  return v;
}

/** Deterministic pseudo-random bytes (so failures are reproducible). */
export function bytes(n, seed = 1) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Transport option sets used by the per-transport tests. */
export const TRANSPORTS = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: {},
};
