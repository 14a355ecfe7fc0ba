// A socket.io 4.8 server node with @socket.io/redis-adapter 8.3.0, classic
// (createAdapter) or sharded (createShardedAdapter), node-redis v4 clients,
// driven by Go tests through
// host/internal/nodetest: JSON-line commands on stdin, answers and events on
// stdout (see lib.mjs and README.md).
//
// Environment:
//   PORT             listening port, 0 (default) = random; the real one is in the ready line
//   REDIS_URL        default redis://127.0.0.1:6379
//   KEY              adapter key (channel prefix), default "socket.io"
//   NAMESPACES       comma list, default "/"
//   SERVER_EVENTS    server-side events reported on stdout, comma list, default "hello"
//   REQUESTS_TIMEOUT adapter requestsTimeout in ms, default 5000 (the adapter's; classic only)
//   ADAPTER          "classic" (default) or "sharded" (Redis 7 SPUBLISH/SSUBSCRIBE)
//   SUBSCRIPTION_MODE the sharded adapter's subscriptionMode, default "dynamic"

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { print, fromWire, toWire, list, serve, partialError, onShutdown, reconnectStrategy } from "./lib.mjs";

const env = process.env;
const redisURL = env.REDIS_URL || "redis://127.0.0.1:6379";
const key = env.KEY || "socket.io";
const namespaces = csv(env.NAMESPACES, ["/"]).map((n) => (n.startsWith("/") ? n : "/" + n));
const serverEvents = csv(env.SERVER_EVENTS, ["hello"]);
const requestsTimeout = env.REQUESTS_TIMEOUT ? Number(env.REQUESTS_TIMEOUT) : undefined;

function csv(v, dflt) {
  if (v === undefined || v.trim() === "") return dflt;
  return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

const pubClient = createClient({ url: redisURL, socket: { reconnectStrategy } });
const subClient = pubClient.duplicate();
for (const [name, c] of [["pub", pubClient], ["sub", subClient]]) {
  c.on("error", (err) => process.stderr.write(`redis ${name}: ${err.message}\n`));
}
await Promise.all([pubClient.connect(), subClient.connect()]);

// applied() resolves once this node has received, through Redis, everything
// it published before: its own socketsJoin/socketsLeave/disconnectSockets
// requests, which socket.io applies only when they come back, are then
// applied locally. Redis sends a subscriber the messages in the order it
// ran the PUBLISHes, and the adapter handles those requests synchronously.
const barrierChannel = `nodetest-barrier#${process.pid}#`;
const barriers = new Map();
let barrierSeq = 0;
await subClient.subscribe(barrierChannel, (token) => {
  barriers.get(token)?.();
  barriers.delete(token);
});
function applied() {
  const token = String(++barrierSeq);
  return new Promise((resolve, reject) => {
    barriers.set(token, resolve);
    pubClient.publish(barrierChannel, token).catch((err) => {
      barriers.delete(token);
      reject(err);
    });
  });
}

// The adapter subscribes in its constructor without exposing the promises;
// collect them so that "ready" means "subscribed" (PUBSUB NUMSUB counts us).
const subscribed = [];
for (const m of ["subscribe", "pSubscribe", "sSubscribe"]) {
  const orig = subClient[m].bind(subClient);
  subClient[m] = (...args) => {
    const p = orig(...args);
    subscribed.push(p);
    return p;
  };
}

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter:
    env.ADAPTER === "sharded"
      ? createShardedAdapter(pubClient, subClient, { channelPrefix: key, subscriptionMode: env.SUBSCRIPTION_MODE || "dynamic" })
      : createAdapter(pubClient, subClient, { key, requestsTimeout }),
});

for (const name of namespaces) {
  const nsp = io.of(name);
  nsp.on("connection", (socket) => {
    print({ connection: socket.id, nsp: name });
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack("ok");
    });
    socket.on("leave", (room, ack) => {
      socket.leave(room);
      if (typeof ack === "function") ack("ok");
    });
    socket.on("shout", (room, ...args) => {
      socket.to(room).emit("shout", ...args);
    });
    socket.on("say", (...args) => {
      socket.broadcast.emit("say", ...args);
    });
    socket.on("echo", (...args) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(...args);
    });
    socket.on("disconnect", (reason) => {
      print({ disconnect: socket.id, nsp: name, reason });
    });
  });
  for (const ev of serverEvents) {
    nsp.on(ev, (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : undefined;
      print({ serverSideEvent: ev, nsp: name, args });
      if (ack) ack("node-ack");
    });
  }
}

await new Promise((resolve, reject) => {
  httpServer.once("error", reject);
  httpServer.listen(Number(env.PORT || 0), "127.0.0.1", resolve);
});
await Promise.all(subscribed);

const uids = {};
for (const [name, nsp] of io._nsps) uids[name] = nsp.adapter.uid;
print({ ready: true, port: httpServer.address().port, uids });

// target applies the optional rooms/except/volatile of a command.
function target(msg) {
  let op = io.of(nsp(msg));
  const rooms = list(msg.rooms);
  const except = list(msg.except);
  if (rooms) op = op.to(rooms);
  if (except) op = op.except(except);
  if (msg.volatile) op = op.volatile;
  return op;
}

function nsp(msg) {
  return msg.nsp || "/";
}

function args(msg) {
  return Array.isArray(msg.args) ? msg.args.map(fromWire) : [];
}

// flushed resolves once Redis has handled every earlier command of the
// publishing connection (node-redis keeps one ordered pipeline).
function flushed() {
  return pubClient.ping();
}

function withTimeout(ms, start) {
  return new Promise((resolve, reject) => {
    const timer = ms > 0 ? setTimeout(() => reject(new Error(`timeout after ${ms} ms`)), ms) : undefined;
    start((err, responses) => {
      clearTimeout(timer);
      if (err) reject(partialError(err, toWire(responses ?? [])));
      else resolve(toWire(responses));
    });
  });
}

// Shutdown: disconnect the sockets, close the adapters (unsubscribe) and
// the Redis clients. The HTTP server's close waits for WebSocket close
// handshakes, which a test's client may never finish: give it 1 s.
const stop = onShutdown(async () => {
  let timer;
  await Promise.race([io.close(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
  clearTimeout(timer);
  await Promise.allSettled([pubClient.disconnect(), subClient.disconnect()]);
});

serve(
  {
    async fetchSockets(msg) {
      const sockets = await target(msg).fetchSockets();
      return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: toWire(s.data), handshake: toWire(s.handshake) }));
    },
    async socketsJoin(msg) {
      target(msg).socketsJoin(list(msg.join) ?? []);
      await applied();
    },
    async socketsLeave(msg) {
      target(msg).socketsLeave(list(msg.leave ?? msg.join) ?? []);
      await applied();
    },
    async disconnectSockets(msg) {
      target(msg).disconnectSockets(!!msg.close);
      await applied();
    },
    async broadcast(msg) {
      target(msg).emit(msg.event, ...args(msg));
      await flushed();
    },
    async serverSideEmit(msg) {
      const n = io.of(nsp(msg));
      if (!msg.ack) {
        n.serverSideEmit(msg.event, ...args(msg));
        await flushed();
        return "ok";
      }
      return withTimeout(msg.timeout ?? 0, (cb) => n.serverSideEmit(msg.event, ...args(msg), cb));
    },
    async broadcastWithAck(msg) {
      const op = target(msg).timeout(msg.timeout ?? 5000);
      return withTimeout(0, (cb) => op.emit(msg.event, ...args(msg), cb));
    },
    async allRooms(msg) {
      // The sharded adapter has no allRooms: this node's rooms then.
      const adapter = io.of(nsp(msg)).adapter;
      return [...(adapter.allRooms ? await adapter.allRooms() : adapter.rooms.keys())];
    },
    async serverCount(msg) {
      return await io.of(nsp(msg)).adapter.serverCount();
    },
    async setData(msg) {
      const socket = io.of(nsp(msg)).sockets.get(msg.socketId);
      if (!socket) throw new Error(`no local socket ${msg.socketId} in ${nsp(msg)}`);
      socket.data = fromWire(msg.data);
    },
  },
  stop,
);
