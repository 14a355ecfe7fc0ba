// Cross-node broadcast benchmark: two sockwasm nodes (bin/sockwasm serving
// plugins/chat.wasm) against two Node.js socket.io 4.8.4 nodes with
// @socket.io/redis-adapter 8.3.0 (bench/node-server.mjs, the chat plugin's
// events with the same names and payloads), on one redis-server, driven by
// the same socket.io-client 4.8.4 harness in the same run.
//
// Each pair gets CLIENTS receivers per node (WebSocket only), all joined to
// one room, and one sender on node A that is not in the room. The sender
// emits `say {room, text}`; the node broadcasts `said {room, from, text}` to
// the room but the sender, locally and through Redis to node B. The text
// carries the phase, the sequence number and the send time
// (performance.now() of this process, which also receives).
//
// Per round and pair:
//   warm-up  until one message reaches every receiver, then a short burst
//   burst    MESSAGES messages, at most WINDOW of them not yet delivered to
//            every receiver: the sustained rate with a bounded backlog
//   paced    PACED messages at RATE per second: delivery latency at a load
//            both implementations sustain
// Rounds alternate the order of the pairs. Every delivery is counted per
// receiver and message: losses, duplicates, reordering (per receiver) and
// strays are reported, and make the exit status 2. CPU time of the servers
// and of redis-server comes from /proc; RSS from /proc/PID/status.
//
// Usage: node bench.mjs [--rounds 3] [--clients 200] [--messages 2000]
//        [--window 32] [--paced 300] [--rate 50] [--text-bytes 64]
//        [--only sockwasm|node] [--redis redis://host:port] [--json FILE]
// Environment: SOCKWASM_BIN (default <repo>/bin/sockwasm), CHAT_WASM
// (default <repo>/plugins/chat.wasm), REDIS_SERVER (default redis-server).

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { io } from "socket.io-client";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const ROOM = "bench";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    clients: { type: "string", default: "200" },
    messages: { type: "string", default: "2000" },
    window: { type: "string", default: "32" },
    paced: { type: "string", default: "300" },
    rate: { type: "string", default: "50" },
    "text-bytes": { type: "string", default: "64" },
    only: { type: "string" },
    redis: { type: "string" },
    json: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help) {
  const src = fs.readFileSync(fileURLToPath(import.meta.url), "utf8");
  process.stdout.write(src.split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3)).join("\n") + "\n");
  process.exit(0);
}
function intFlag(name, min) {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min) fail(`--${name} must be an integer ≥ ${min}, got ${flags[name]}`);
  return v;
}
const ROUNDS = intFlag("rounds", 1);
const CLIENTS = intFlag("clients", 1);
const MESSAGES = intFlag("messages", 1);
const WINDOW = intFlag("window", 1);
const PACED = intFlag("paced", 1);
const RATE = intFlag("rate", 1);
const TEXT_BYTES = intFlag("text-bytes", 0);
if (flags.only && !["sockwasm", "node"].includes(flags.only)) fail(`--only must be sockwasm or node`);

const SOCKWASM_BIN = process.env.SOCKWASM_BIN || path.join(ROOT, "bin", "sockwasm");
const CHAT_WASM = process.env.CHAT_WASM || path.join(ROOT, "plugins", "chat.wasm");
const REDIS_SERVER = process.env.REDIS_SERVER || "redis-server";
const CLK_TCK = 100; // Linux USER_HZ; /proc/PID/stat counts in these ticks

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- processes

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sockwasm-bench-"));
const children = new Set(); // {child, name, log: string[]}

/** Spawns a child whose output is kept (the last 300 lines) and which is killed when we exit. */
function launch(name, cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...options });
  const proc = { child, name, log: [], exited: null, onLine: null };
  const keep = (chunk) => {
    for (const line of chunk.toString().split("\n")) {
      if (line === "") continue;
      proc.log.push(line);
      if (proc.log.length > 300) proc.log.shift();
      proc.onLine?.(line);
    }
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.stdin.on("error", () => {});
  child.once("error", (err) => keep(`spawn error: ${err.message}`));
  child.once("exit", (code, signal) => {
    proc.exited = { code, signal };
    children.delete(proc);
  });
  children.add(proc);
  return proc;
}

function logTail(proc, n = 30) {
  return proc.log.slice(-n).join("\n");
}

/** Waits until a line of proc matches re; returns the match. */
function waitLine(proc, re, ms) {
  return new Promise((resolve, reject) => {
    const done = (err, m) => {
      clearTimeout(timer);
      proc.onLine = null;
      proc.child.off("exit", onExit);
      err ? reject(err) : resolve(m);
    };
    const timer = setTimeout(() => done(new Error(`${proc.name}: not ready within ${ms} ms\n--- log ---\n${logTail(proc)}`)), ms);
    const onExit = (code, signal) => done(new Error(`${proc.name} exited (${signal ?? code}) before it was ready\n--- log ---\n${logTail(proc)}`));
    proc.child.once("exit", onExit);
    for (const line of proc.log) {
      const m = line.match(re);
      if (m) return done(null, m);
    }
    proc.onLine = (line) => {
      const m = line.match(re);
      if (m) done(null, m);
    };
  });
}

async function stopProc(proc, ms = 5000) {
  if (proc.exited) return;
  const exited = new Promise((resolve) => proc.child.once("exit", resolve));
  try {
    proc.child.stdin.end();
    proc.child.kill("SIGTERM");
  } catch {
    /* gone */
  }
  let timer;
  const killed = await Promise.race([exited.then(() => false), new Promise((r) => (timer = setTimeout(() => r(true), ms)))]);
  clearTimeout(timer);
  if (killed && !proc.exited) {
    proc.child.kill("SIGKILL");
    await exited;
  }
}

let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    await Promise.allSettled([...children].filter((p) => p.name !== "redis").map((p) => stopProc(p)));
    await Promise.allSettled([...children].map((p) => stopProc(p)));
    fs.rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}
process.on("exit", () => {
  for (const p of children) {
    try {
      p.child.kill("SIGKILL");
    } catch {
      /* gone */
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping\n`);
    const force = setTimeout(() => process.exit(130), 8000);
    cleanup().finally(() => {
      clearTimeout(force);
      process.exit(130);
    });
  });
}

function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) of a process, or NaN. */
function cpuOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

/** {rss, hwm} in MiB from /proc/PID/status, or NaNs. */
function memOf(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))?.[1] ?? NaN);
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

function version(cmd, args) {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("error", () => resolve("?"));
    c.on("exit", () => resolve(out.trim().split("\n")[0]));
  });
}

function pkgVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(HERE, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

// ---------------------------------------------------------------- servers

async function startRedis() {
  const port = await freePort();
  const proc = launch("redis", REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  await waitLine(proc, /Ready to accept connections/, 10000);
  return { url: `redis://127.0.0.1:${port}`, pid: proc.child.pid };
}

async function startSockwasm(name, redisURL, key) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, "plugins"), { recursive: true });
  fs.copyFileSync(CHAT_WASM, path.join(dir, "plugins", "chat.wasm"));
  const toml = [
    `listen = "127.0.0.1:0"`,
    `plugins_dir = ${JSON.stringify(path.join(dir, "plugins"))}`,
    `cache_dir = ${JSON.stringify(path.join(tmp, "cache"))}`,
    `watch = false`,
    `shutdown_timeout = "2s"`,
    ``,
    `[adapter]`,
    `kind = "redis"`,
    `url = ${JSON.stringify(redisURL + "/0")}`,
    `key = ${JSON.stringify(key)}`,
    ``,
    `[[namespace]]`,
    `name = "/"`,
    `middleware = ["chat"]`,
    `handler = "chat"`,
    ``,
  ].join("\n");
  const cfg = path.join(dir, "server.toml");
  fs.writeFileSync(cfg, toml);
  const proc = launch(name, SOCKWASM_BIN, ["serve", "--config", cfg], { cwd: dir });
  const m = await waitLine(proc, /\bserving\b.*\baddr=\S*:(\d+)/, 120000);
  return { name, proc, pid: proc.child.pid, url: `http://127.0.0.1:${m[1]}` };
}

async function startNode(name, redisURL, key) {
  const proc = launch(name, process.execPath, [path.join(HERE, "bench", "node-server.mjs")], {
    cwd: HERE,
    env: { ...process.env, PORT: "0", REDIS_URL: redisURL, KEY: key },
  });
  const m = await waitLine(proc, /^\{"ready":true,"port":(\d+)\}/, 30000);
  return { name, proc, pid: proc.child.pid, url: `http://127.0.0.1:${m[1]}` };
}

// ---------------------------------------------------------------- clients

const phases = new Map(); // id → phase
let nextPhase = 1;

function connectClient(url) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, timeout: 30000 });
    s.once("connect", () => resolve(s));
    s.once("connect_error", (err) => {
      s.close();
      reject(new Error(`connect ${url}: ${err.message}`));
    });
  });
}

async function inBatches(n, size, fn) {
  const out = new Array(n);
  for (let i = 0; i < n; i += size) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + size); j++) batch.push(fn(j).then((v) => (out[j] = v)));
    await Promise.all(batch);
  }
  return out;
}

function emitAck(socket, event, arg, ms = 10000) {
  return new Promise((resolve, reject) => {
    socket.timeout(ms).emit(event, arg, (err, ack) => (err ? reject(new Error(`${event}: no ack in ${ms} ms`)) : resolve(ack)));
  });
}

/** Connects the pair's clients, joins the receivers to ROOM, checks the room size. */
async function setupClients(pair) {
  const [a, b] = pair.nodes;
  pair.receivers = [];
  for (const [node, label] of [[a, "A"], [b, "B"]]) {
    const socks = await inBatches(CLIENTS, 50, () => connectClient(node.url));
    for (const s of socks) pair.receivers.push({ socket: s, node: label, idx: pair.receivers.length });
  }
  pair.sender = await connectClient(a.url);
  const watch = (s, label) => {
    s.on("disconnect", (reason) => {
      if (!closing) pair.anomalies.push(`${label} ${s.id ?? "?"} disconnected: ${reason}`);
    });
  };
  watch(pair.sender, "sender");
  for (const r of pair.receivers) {
    watch(r.socket, `receiver on ${r.node}`);
    r.socket.on("said", (msg) => onSaid(pair, r, msg));
  }
  pair.sender.on("said", () => pair.strays.sender++);
  await inBatches(pair.receivers.length, 50, async (i) => {
    const ack = await emitAck(pair.receivers[i].socket, "join", { room: ROOM });
    if (ack?.ok !== true) throw new Error(`join: ${JSON.stringify(ack)}`);
  });
  // Joining again is a no-op that answers the cluster-wide size.
  pair.roomSize = (await emitAck(pair.receivers[0].socket, "join", { room: ROOM }))?.size;
  if (pair.roomSize !== 2 * CLIENTS) pair.anomalies.push(`room size after ${2 * CLIENTS} joins: ${pair.roomSize}`);
}

function newPhase(pair, kind, m) {
  const nr = pair.receivers.length;
  const nb = pair.receivers.filter((r) => r.node === "B").length;
  const phase = {
    id: nextPhase++,
    pair,
    kind,
    m,
    nr,
    seen: new Uint8Array(m * nr),
    lastSeq: new Int32Array(nr).fill(-1),
    reordered: 0,
    perMsg: new Uint32Array(m),
    latA: new Float64Array(m * (nr - nb)),
    nA: 0,
    latB: new Float64Array(m * nb),
    nB: 0,
    sent: 0,
    complete: 0,
    delivered: 0,
    dups: 0,
    acks: 0,
    ackErrors: 0,
    firstSend: 0,
    lastDelivery: 0,
    onComplete: null,
  };
  phases.set(phase.id, phase);
  pair.phases.push(phase);
  return phase;
}

const pad = TEXT_BYTES > 0 ? "|" : "";
function send(pair, phase, seq) {
  const t = performance.now();
  if (phase.sent === 0) phase.firstSend = t;
  phase.sent++;
  let text = `${phase.id}|${seq}|${t.toFixed(3)}${pad}`;
  if (text.length < TEXT_BYTES) text += ".".repeat(TEXT_BYTES - text.length);
  pair.sender.emit("say", { room: ROOM, text }, (ack) => {
    if (ack?.ok === true) phase.acks++;
    else phase.ackErrors++;
  });
}

function onSaid(pair, r, msg) {
  const now = performance.now();
  const parts = typeof msg?.text === "string" ? msg.text.split("|") : [];
  const phase = phases.get(Number(parts[0]));
  const seq = Number(parts[1]);
  if (!phase || phase.pair !== pair || !(seq >= 0 && seq < phase.m)) {
    pair.strays.unknown++;
    return;
  }
  if (msg.room !== ROOM || msg.from !== pair.sender.id) pair.strays.badPayload++;
  const i = seq * phase.nr + r.idx;
  if (phase.seen[i]) {
    phase.dups++;
    return;
  }
  phase.seen[i] = 1;
  phase.delivered++;
  if (seq < phase.lastSeq[r.idx]) phase.reordered++;
  else phase.lastSeq[r.idx] = seq;
  phase.lastDelivery = now;
  const lat = now - Number(parts[2]);
  if (r.node === "B") phase.latB[phase.nB++] = lat;
  else phase.latA[phase.nA++] = lat;
  if (++phase.perMsg[seq] === phase.nr) {
    phase.complete++;
    phase.onComplete?.();
  }
}

/** Resolves when pred() holds, or false after ms without progress(). */
async function until(pred, ms, progress = () => 0) {
  let last = progress();
  let since = performance.now();
  while (!pred()) {
    await sleep(5);
    const p = progress();
    if (p !== last) {
      last = p;
      since = performance.now();
    } else if (performance.now() - since > ms) return false;
  }
  return true;
}

/** Sends until one message has reached every receiver (Redis subscriptions live), then a short burst. */
async function warmUp(pair) {
  let ok = false;
  for (let i = 0; i < 100 && !ok; i++) {
    const phase = newPhase(pair, "probe", 1);
    send(pair, phase, 0);
    ok = await until(() => phase.complete === 1, 200);
  }
  if (!ok) throw new Error(`${pair.label}: no message reached every receiver within 20 s\n--- A ---\n${logTail(pair.nodes[0].proc)}\n--- B ---\n${logTail(pair.nodes[1].proc)}`);
  await runBurst(pair, "warm-up", Math.min(200, MESSAGES));
}

/** MESSAGES messages, at most WINDOW not yet delivered to every receiver. */
async function runBurst(pair, kind, m) {
  const phase = newPhase(pair, kind, m);
  const pump = () => {
    while (phase.sent < m && phase.sent - phase.complete < WINDOW) send(pair, phase, phase.sent);
  };
  phase.onComplete = pump;
  pump();
  phase.stalled = !(await until(() => phase.complete === m, 10000, () => phase.delivered));
  phase.onComplete = null;
  return phase;
}

/** m messages at rate per second. */
async function runPaced(pair, kind, m, rate) {
  const phase = newPhase(pair, kind, m);
  const start = performance.now();
  for (let i = 0; i < m; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    send(pair, phase, i);
  }
  phase.stalled = !(await until(() => phase.complete === m, 10000, () => phase.delivered));
  return phase;
}

function cpuSnapshot(pair) {
  return {
    servers: pair.nodes.reduce((s, n) => s + cpuOf(n.pid), 0),
    redis: redis.pid ? cpuOf(redis.pid) : NaN,
    harness: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    wall: performance.now() / 1000,
  };
}

function cpuDelta(a, b) {
  return { servers: b.servers - a.servers, redis: b.redis - a.redis, harness: b.harness - a.harness, wall: b.wall - a.wall };
}

function pct(arr, n, p) {
  if (n === 0) return NaN;
  const s = Float64Array.from(arr.subarray(0, n)).sort();
  return s[Math.min(n - 1, Math.floor((p / 100) * n))];
}

async function runRound(pair, round) {
  await warmUp(pair);
  if (global.gc) global.gc();
  await sleep(300);

  let c0 = cpuSnapshot(pair);
  const burst = await runBurst(pair, "burst", MESSAGES);
  const burstCpu = cpuDelta(c0, cpuSnapshot(pair));
  await sleep(300);

  c0 = cpuSnapshot(pair);
  const paced = await runPaced(pair, "paced", PACED, RATE);
  const pacedCpu = cpuDelta(c0, cpuSnapshot(pair));
  const mem = pair.nodes.map((n) => memOf(n.pid));

  const elapsed = (burst.lastDelivery - burst.firstSend) / 1000;
  const res = {
    pair: pair.label,
    round,
    burst: {
      messages: burst.m,
      deliveries: burst.delivered,
      seconds: elapsed,
      deliveriesPerSec: burst.delivered / elapsed,
      messagesPerSec: burst.complete / elapsed,
      crossP50: pct(burst.latB, burst.nB, 50),
      crossP99: pct(burst.latB, burst.nB, 99),
      serverCpu: burstCpu.servers,
      serverCpuUsPerDelivery: (burstCpu.servers * 1e6) / burst.delivered,
      redisCpu: burstCpu.redis,
      harnessCpu: burstCpu.harness,
      harnessBusy: burstCpu.harness / burstCpu.wall,
      stalled: burst.stalled,
    },
    paced: {
      messages: paced.m,
      rate: RATE,
      crossP50: pct(paced.latB, paced.nB, 50),
      crossP99: pct(paced.latB, paced.nB, 99),
      localP50: pct(paced.latA, paced.nA, 50),
      localP99: pct(paced.latA, paced.nA, 99),
      serverCpu: pacedCpu.servers,
      serverCpuUsPerDelivery: (pacedCpu.servers * 1e6) / paced.delivered,
      redisCpu: pacedCpu.redis,
      stalled: paced.stalled,
    },
    load: os.loadavg()[0],
    rssMiB: mem.map((m) => m.rss),
    hwmMiB: mem.map((m) => m.hwm),
  };
  pair.results.push(res);
  const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "—");
  console.log(
    `round ${round} ${pair.label.padEnd(8)} burst ${f(res.burst.deliveriesPerSec / 1000)}k deliveries/s ` +
      `(${res.burst.deliveries}/${burst.m * burst.nr} in ${f(elapsed, 2)} s, cross p50 ${f(res.burst.crossP50)} ms p99 ${f(res.burst.crossP99)} ms, ` +
      `server CPU ${f(res.burst.serverCpu, 2)} s, redis ${f(res.burst.redisCpu, 2)} s, harness ${f(res.burst.harnessCpu, 2)} s = ${f(res.burst.harnessBusy * 100, 0)} % busy)` +
      ` | paced ${RATE}/s cross p50 ${f(res.paced.crossP50, 2)} ms p99 ${f(res.paced.crossP99, 2)} ms, local p50 ${f(res.paced.localP50, 2)} ms` +
      ` | RSS ${res.rssMiB.map((x) => f(x)).join(" + ")} MiB | load ${f(res.load, 2)}`,
  );
}

// ---------------------------------------------------------------- main

let redis = {};
let closing = false;

async function main() {
  const which = flags.only ? [flags.only] : ["sockwasm", "node"];
  if (which.includes("sockwasm")) {
    if (!fs.existsSync(SOCKWASM_BIN)) fail(`${SOCKWASM_BIN} is missing: run \`make build\` (or set SOCKWASM_BIN)`);
    if (!fs.existsSync(CHAT_WASM)) fail(`${CHAT_WASM} is missing: run \`make plugins\` (or set CHAT_WASM)`);
  }
  if (!fs.existsSync(path.join(HERE, "node_modules", "socket.io"))) fail(`run \`npm ci\` in ${HERE} first (make deps)`);

  redis = flags.redis ? { url: flags.redis.replace(/\/+\d*$/, "") } : await startRedis();
  const rc = createClient({ url: redis.url });
  rc.on("error", () => {});
  await rc.connect();
  const redisVersion = (await rc.info("server")).match(/redis_version:(\S+)/)?.[1] ?? "?";

  const run = `${process.pid}-${Date.now()}`;
  const pairs = [];
  for (const label of which) {
    const key = `bench-${label}-${run}`;
    const start = label === "sockwasm" ? startSockwasm : startNode;
    // One after the other: the second sockwasm node finds the compiled plugin in the shared cache.
    const a = await start(`${label}-A`, redis.url, key);
    const b = await start(`${label}-B`, redis.url, key);
    const pair = { label, key, nodes: [a, b], results: [], phases: [], anomalies: [], strays: { sender: 0, unknown: 0, badPayload: 0 } };
    // Both nodes subscribed to the namespace's request channel (broadcasts
    // come through a pattern subscription, which NUMSUB does not count).
    const channel = `${key}-request#/#`;
    let subscribers = 0;
    for (let i = 0; i < 200 && subscribers !== 2; i++) {
      if (i > 0) await sleep(50);
      subscribers = Number((await rc.sendCommand(["PUBSUB", "NUMSUB", channel]))[1]);
    }
    if (subscribers !== 2) pair.anomalies.push(`PUBSUB NUMSUB ${channel}: ${subscribers} subscribers, not 2`);
    pairs.push(pair);
  }
  for (const pair of pairs) await setupClients(pair);

  const header = {
    date: new Date().toISOString(),
    loadavg: os.loadavg(),
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    node: process.version,
    redis: redisVersion,
    sockwasm: await version(SOCKWASM_BIN, ["version"]),
    socketio: pkgVersion("socket.io"),
    adapter: pkgVersion("@socket.io/redis-adapter"),
    client: pkgVersion("socket.io-client"),
    clientsPerNode: CLIENTS,
    messages: MESSAGES,
    window: WINDOW,
    paced: PACED,
    rate: RATE,
    textBytes: TEXT_BYTES,
    rounds: ROUNDS,
  };
  console.log(
    `${header.cpus} × ${header.cpu}; node ${header.node}, redis ${header.redis}, ${header.sockwasm}; socket.io ${header.socketio}, ` +
      `redis-adapter ${header.adapter}, socket.io-client ${header.client}; load average ${header.loadavg.map((x) => x.toFixed(2)).join(" ")}`,
  );
  console.log(
    `${CLIENTS} receivers per node (${2 * CLIENTS} in the room), 1 sender on node A; burst ${MESSAGES} messages window ${WINDOW}; ` +
      `paced ${PACED} at ${RATE}/s; text ${TEXT_BYTES} bytes; ${ROUNDS} rounds`,
  );

  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? pairs : [...pairs].reverse();
    for (const pair of order) await runRound(pair, round);
  }

  // Late or duplicated deliveries still count: let them arrive.
  await sleep(1000);
  closing = true;

  let bad = false;
  console.log("\n## Deliveries");
  for (const pair of pairs) {
    let expected = 0;
    let got = 0;
    let dups = 0;
    let reordered = 0;
    let ackErr = 0;
    let acks = 0;
    let sent = 0;
    for (const ph of pair.phases) {
      // A probe that did not reach everyone was sent before the subscriptions were live.
      if (ph.kind === "probe" && ph.complete === 0) continue;
      expected += ph.sent * ph.nr;
      got += ph.delivered;
      dups += ph.dups;
      reordered += ph.reordered;
      acks += ph.acks;
      ackErr += ph.ackErrors;
      sent += ph.sent;
      if (ph.stalled) pair.anomalies.push(`${ph.kind} phase ${ph.id} stalled: ${ph.delivered}/${ph.sent * ph.nr} delivered`);
    }
    const lost = expected - got;
    console.log(
      `${pair.label}: ${sent} messages sent, ${acks} acked ok, ${ackErr} bad acks; ${got}/${expected} deliveries, ` +
        `${lost} missing, ${dups} duplicates, ${reordered} out of order, ${pair.strays.sender} to the sender, ${pair.strays.unknown} unknown, ${pair.strays.badPayload} bad payloads`,
    );
    if (lost || dups || reordered || ackErr || acks + ackErr !== sent || pair.strays.sender || pair.strays.unknown || pair.strays.badPayload || pair.anomalies.length) {
      bad = true;
      if (acks + ackErr !== sent) pair.anomalies.push(`${sent - acks - ackErr} say acks never came`);
    }
    for (const a of pair.anomalies) console.log(`  ANOMALY ${pair.label}: ${a}`);
    for (const n of pair.nodes) {
      const warn = n.proc.log.filter((l) => /\b(WRN|ERR)\b|"level":"(warn|error)"|Error|error:/.test(l));
      if (warn.length) console.log(`  ${n.name} logged ${warn.length} warnings/errors, last: ${warn.slice(-3).join(" | ")}`);
    }
  }

  summarize(pairs);
  if (flags.json) fs.writeFileSync(flags.json, JSON.stringify({ header, results: pairs.flatMap((p) => p.results) }, null, 2) + "\n");

  for (const pair of pairs) {
    pair.sender.close();
    for (const r of pair.receivers) r.socket.close();
  }
  await rc.quit().catch(() => {});
  return bad;
}

function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function summarize(pairs) {
  const rows = [
    ["burst: deliveries/s", (r) => r.burst.deliveriesPerSec, 0, "k"],
    ["burst: cross-node p50 (ms)", (r) => r.burst.crossP50, 1],
    ["burst: cross-node p99 (ms)", (r) => r.burst.crossP99, 1],
    ["burst: server CPU per delivery (µs, both nodes)", (r) => r.burst.serverCpuUsPerDelivery, 2],
    ["burst: redis-server CPU (s)", (r) => r.burst.redisCpu, 2],
    ["burst: harness CPU (s)", (r) => r.burst.harnessCpu, 2],
    ["burst: harness busy (CPU / wall)", (r) => r.burst.harnessBusy, 2],
    [`paced ${RATE}/s: cross-node p50 (ms)`, (r) => r.paced.crossP50, 2],
    [`paced ${RATE}/s: cross-node p99 (ms)`, (r) => r.paced.crossP99, 2],
    [`paced ${RATE}/s: same-node p50 (ms)`, (r) => r.paced.localP50, 2],
    [`paced ${RATE}/s: server CPU per delivery (µs)`, (r) => r.paced.serverCpuUsPerDelivery, 2],
    ["RSS per node after the round (MiB)", (r) => (r.rssMiB[0] + r.rssMiB[1]) / 2, 1],
    ["peak RSS per node (MiB)", (r) => (r.hwmMiB[0] + r.hwmMiB[1]) / 2, 1],
  ];
  const fmt = (v, d, unit) => (!Number.isFinite(v) ? "—" : unit === "k" ? `${(v / 1000).toFixed(1)}k` : v.toFixed(d));
  const sw = pairs.find((p) => p.label === "sockwasm");
  const nd = pairs.find((p) => p.label === "node");
  console.log(`\n## Medians of ${ROUNDS} rounds (per-round values in brackets)\n`);
  const cols = pairs.map((p) => p.label === "node" ? "Node.js socket.io" : "sockwasm");
  console.log(`| metric | ${cols.join(" | ")} |${sw && nd ? " sockwasm / Node |" : ""}`);
  console.log(`| --- | ${cols.map(() => "---").join(" | ")} |${sw && nd ? " --- |" : ""}`);
  for (const [name, get, d, unit] of rows) {
    const cells = pairs.map((p) => {
      const vs = p.results.map(get);
      return `${fmt(median(vs), d, unit)} (${vs.map((v) => fmt(v, d, unit)).join(", ")})`;
    });
    let ratio = "";
    if (sw && nd) {
      const q = median(sw.results.map(get)) / median(nd.results.map(get));
      ratio = ` ${Number.isFinite(q) ? q.toFixed(2) + "×" : "—"} |`;
    }
    console.log(`| ${name} | ${cells.join(" | ")} |${ratio}`);
  }
}

let status = 1;
try {
  status = (await main()) ? 2 : 0;
} catch (err) {
  process.stderr.write(`bench: ${err?.stack ?? err}\n`);
}
await cleanup();
if (status === 2) process.stderr.write("bench: deliveries did not match (see ANOMALY lines above)\n");
process.exit(status);
