// Captures what @socket.io/redis-adapter 8.3.0, @socket.io/redis-emitter 5.1.0
// and the sharded adapter publish, with fake Redis clients. In a scratch
// directory, outside the repository:
//
//	npm install @socket.io/redis-adapter@8.3.0 @socket.io/redis-emitter@5.1.0 socket.io@4.8.1 socket.io-client@4.8.1
//	node capture.js > capture.jsonl
//
// Uids, request ids and socket ids are random; the Go tests only check
// that each message decodes and encodes back to the same bytes.
const { createServer } = require("http");
const { Server } = require("socket.io");
const { io: ioc } = require("socket.io-client");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const out = [];
function rec(name, channel, msg) {
  const b = Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
  out.push({ name, channel, hex: b.toString("hex") });
}
let label = "?";
function fakeClient(kind, numsub) {
  const c = {
    listeners: {}, slisteners: {},
    on() {}, off() {}, listenerCount() { return 1; },
    pSubscribe(p, l) { c.listeners["p:" + p] = l; },
    subscribe(chs, l) { for (const ch of [].concat(chs)) c.listeners[ch] = l; },
    pUnsubscribe() {}, unsubscribe() {},
    sSubscribe(ch, l) { c.slisteners[ch] = l; },
    sUnsubscribe() {},
    publish(ch, msg) { rec(label, ch, msg); return Promise.resolve(1); },
    sPublish(ch, msg) { rec(label, ch, msg); return Promise.resolve(1); },
    sendCommand(args) { return Promise.resolve([args[2], numsub]); },
  };
  return c;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function classic() {
  const pub = fakeClient("pub", 2), sub = fakeClient("sub", 2);
  const http = createServer();
  const io = new Server(http, { adapter: createAdapter(pub, sub, { requestsTimeout: 50 }) });
  await new Promise((r) => http.listen(0, r));
  const port = http.address().port;
  let serverSocket;
  io.on("connection", (s) => { serverSocket = s; s.data = { name: "alice", n: 1.5 }; s.join("r1"); });
  const client = ioc(`http://localhost:${port}`, { auth: { token: "abc" }, transports: ["websocket"] });
  await new Promise((r) => client.on("connect", r));
  await sleep(50);
  const adapter = io.of("/").adapter;
  const sid = serverSocket.id;
  label = "said"; serverSocket.to("r1").emit("said", { room: "r1", from: sid, text: "hi" });
  label = "binary"; io.emit("bin", Buffer.from([1, 2, 3]), { nested: [Buffer.alloc(0)], u: "é€😀" }, 2.5, null, -0, 1e21, 1e-7, 2 ** 53, -(2 ** 31) - 1, 255, 256, 65536, 2 ** 32);
  label = "flags"; io.to(["a", "b"]).except("c").volatile.compress(false).emit("x", 1);
  label = "join"; io.in("r1").socketsJoin(["r2", "r3"]);
  label = "leave"; io.in("r1").except("r9").socketsLeave("r2");
  label = "disconnect"; io.in("r9").disconnectSockets(true);
  label = "fetch"; io.in("r1").fetchSockets().catch(() => {});
  await sleep(10);
  label = "allRooms"; adapter.allRooms().catch(() => {});
  await sleep(10);
  label = "sse"; io.serverSideEmit("hello", 1, { a: "b" });
  label = "sseAck"; io.serverSideEmit("ping", () => {});
  await sleep(10);
  label = "broadcastAck"; io.timeout(1000).emit("ask", 1, Buffer.from([9]), () => {});
  const { RemoteSocket } = require(require.resolve("socket.io").replace(/index\.js$/, "broadcast-operator.js"));
  const rs = new RemoteSocket(adapter, { id: sid, handshake: {}, rooms: [sid], data: {} });
  label = "remoteSocketEmit"; rs.emit("rs", 1);
  label = "remoteSocketEmitAck"; rs.timeout(100).emit("rs2", () => {});
  await sleep(100);
  // Incoming requests from another server "OtherU".
  const reqListener = sub.listeners[adapter.requestChannel || "socket.io-request#/#"];
  const send = (obj, binary) => reqListener(binary ? require("notepack.io").encode(obj) : Buffer.from(JSON.stringify(obj)), Buffer.from("socket.io-request#/#"));
  label = "resAllRooms"; send({ uid: "OtherU", requestId: "req001", type: 1 });
  label = "resSockets"; send({ uid: "OtherU", requestId: "req002", type: 0, rooms: ["r1"] });
  await sleep(20);
  label = "resFetch"; send({ uid: "OtherU", requestId: "req003", type: 5, opts: { rooms: ["r1"], except: [] } });
  await sleep(20);
  io.on("hello2", (a, cb) => cb({ ok: a, list: [1, "2"] }));
  label = "resSse"; send({ uid: "OtherU", requestId: "req004", type: 6, data: ["hello2", 7] });
  await sleep(20);
  client.on("ask2", (x, cb) => cb("pong", Buffer.from([4, 5]), 3));
  label = "resBroadcast"; send({ uid: "OtherU", requestId: "req005", type: 7, packet: { type: 2, data: ["ask2", 1], nsp: "/" }, opts: { rooms: [], except: [], flags: { timeout: 1000 } } }, true);
  await sleep(100);
  client.on("ask3", (cb) => cb({ bin: Buffer.from([6]) }));
  label = "resBroadcastBin"; send({ uid: "OtherU", requestId: "req006", type: 7, packet: { type: 2, data: ["ask3"], nsp: "/" }, opts: { rooms: [], except: [], flags: { timeout: 1000 } } }, true);
  await sleep(100);
  client.on("ask4", (cb) => cb());
  label = "resBroadcastNoArg"; send({ uid: "OtherU", requestId: "req007", type: 7, packet: { type: 2, data: ["ask4"], nsp: "/" }, opts: { rooms: [], except: [], flags: { timeout: 1000 } } }, true);
  await sleep(100);
  label = "resLegacyJoin"; send({ uid: "OtherU", requestId: "req008", type: 2, sid, room: "r7" });
  await sleep(20);
  label = "end";
  client.close(); io.close();
}

async function emitter() {
  const c = fakeClient("em", 1);
  const e = new Emitter(c);
  label = "emBinary"; e.to("r1").except("ex").emit("news", { n: 1, bin: Buffer.from([1, 2, 3]) }, 2.5, null);
  label = "emCompress"; e.compress(true).to(["a", "b"]).emit("c", "x");
  label = "emVolatile"; e.of("chat").volatile.emit("v");
  label = "emJoin"; e.in("r1").socketsJoin("r2");
  label = "emLeave"; e.except("r3").socketsLeave(["r4", "r5"]);
  label = "emDisconnect"; e.disconnectSockets();
  label = "emSse"; e.serverSideEmit("e", 1, { k: [true] });
}

async function sharded() {
  const pub = fakeClient("spub", 2), sub = fakeClient("ssub", 2);
  const http = createServer();
  const io = new Server(http, { adapter: createShardedAdapter(pub, sub) });
  await new Promise((r) => http.listen(0, r));
  const port = http.address().port;
  let serverSocket;
  io.on("connection", (s) => { serverSocket = s; s.data = { d: Buffer.from([1]) }; s.join("room1"); });
  const client = ioc(`http://localhost:${port}`, { transports: ["websocket"] });
  await new Promise((r) => client.on("connect", r));
  await sleep(50);
  label = "shBroadcast"; io.to("room1").emit("hi", 1);
  label = "shBroadcastAll"; io.emit("hi", { a: [1] });
  label = "shBroadcastBin"; io.to(["room1", "x"]).emit("b", Buffer.from([7, 8]));
  label = "shBroadcastSid"; io.to(serverSocket.id).emit("private", 1);
  label = "shJoin"; io.socketsJoin("z");
  await sleep(10);
  label = "shFetch"; io.fetchSockets().catch(() => {});
  await sleep(10);
  label = "shSse"; io.serverSideEmit("sse", 1, Buffer.from([3]));
  label = "shSseAck"; io.serverSideEmit("sse2", () => {});
  await sleep(10);
  label = "shBroadcastAck"; io.timeout(500).emit("q", () => {});
  await sleep(10);
  const adapter = io.of("/").adapter;
  const main = sub.slisteners["socket.io#/#"];
  const send = (obj) => main(Buffer.from(JSON.stringify(obj)), Buffer.from("socket.io#/#"));
  label = "shResFetch"; send({ type: 7, data: { opts: { rooms: [], except: [], flags: {} }, requestId: "abc" }, uid: "0123456789abcdef", nsp: "/" });
  await sleep(50);
  io.on("sse3", (cb) => cb({ ok: Buffer.from([2]) }));
  label = "shResSse"; send({ type: 9, data: { requestId: "def", packet: ["sse3"] }, uid: "0123456789abcdef", nsp: "/" });
  await sleep(20);
  client.on("q2", (cb) => cb(Buffer.from([5])));
  label = "shResBroadcast"; send({ type: 3, data: { packet: { type: 2, data: ["q2"] }, requestId: "ghi", opts: { rooms: [], except: [], flags: { timeout: 500 } } }, uid: "0123456789abcdef", nsp: "/" });
  await sleep(100);
  label = "shDisconnect"; io.disconnectSockets();
  await sleep(10);
  label = "end";
  client.close(); io.close();
}

(async () => {
  await classic();
  await emitter();
  await sharded();
  for (const o of out) console.log(JSON.stringify(o));
  process.exit(0);
})();
