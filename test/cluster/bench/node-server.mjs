// The Node.js side of bench.mjs: a socket.io 4.8.4 node with the classic
// @socket.io/redis-adapter 8.3.0 (node-redis 4.7.1 clients) that answers
// the chat plugin's events (examples/chat/plugin) with the same names and
// payload shapes, so a client cannot tell it from a sockwasm node:
//
//   middleware: auth {"token":"bad"} → connect_error {"message":"unauthorized","data":{"code":401}}
//   join / leave {room} → ack {ok, room, size} (size cluster-wide, null if unknown)
//   say {room, text}    → "said" {room, from, text} to the room but the sender, ack {ok:true}
//   echo …args          → ack …args, or "echo-back" …args without an ack
//
// Environment: PORT (0 = random, default), REDIS_URL, KEY (adapter key).
// Prints {"ready":true,"port":N} once listening and subscribed; exits on
// SIGTERM/SIGINT or when stdin closes (the harness is gone).

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const env = process.env;
const redisURL = env.REDIS_URL || "redis://127.0.0.1:6379";
const key = env.KEY || "socket.io";
const maxRoomLen = 128;
const badRequest = { ok: false, error: "bad request" };

const pubClient = createClient({ url: redisURL, socket: { reconnectStrategy: (n) => Math.min(50 + n * 50, 500) } });
const subClient = pubClient.duplicate();
for (const [name, c] of [["pub", pubClient], ["sub", subClient]]) {
  c.on("error", (err) => process.stderr.write(`redis ${name}: ${err.message}\n`));
}
await Promise.all([pubClient.connect(), subClient.connect()]);

// The adapter subscribes in its constructor without exposing the promises:
// collect them, so that "ready" means "subscribed".
const subscribed = [];
for (const m of ["subscribe", "pSubscribe"]) {
  const orig = subClient[m].bind(subClient);
  subClient[m] = (...args) => {
    const p = orig(...args);
    subscribed.push(p);
    return p;
  };
}

const httpServer = createServer();
const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient, { key }) });

function room(arg) {
  const r = arg?.room;
  if (typeof r !== "string" || r === "" || [...r].length > maxRoomLen) return undefined;
  return r;
}

function lastAck(args) {
  return typeof args[args.length - 1] === "function" ? args.pop() : undefined;
}

async function roomSize(r) {
  try {
    return (await io.in(r).fetchSockets()).length;
  } catch {
    return null;
  }
}

io.use((socket, next) => {
  if (socket.handshake.auth?.token === "bad") {
    const err = new Error("unauthorized");
    err.data = { code: 401 };
    return next(err);
  }
  next();
});

io.on("connection", (socket) => {
  const membership = (join) => async (...args) => {
    const ack = lastAck(args);
    const r = room(args[0]);
    if (r === undefined) return ack?.(badRequest);
    if (join) socket.join(r);
    else socket.leave(r);
    const size = await roomSize(r);
    ack?.({ ok: true, room: r, size });
  };
  socket.on("join", membership(true));
  socket.on("leave", membership(false));
  socket.on("say", (...args) => {
    const ack = lastAck(args);
    const r = room(args[0]);
    const text = args[0]?.text;
    if (r === undefined || typeof text !== "string") return ack?.(badRequest);
    socket.to(r).emit("said", { room: r, from: socket.id, text });
    ack?.({ ok: true });
  });
  socket.on("echo", (...args) => {
    const ack = lastAck(args);
    if (ack) ack(...args);
    else socket.emit("echo-back", ...args);
  });
});

await new Promise((resolve, reject) => {
  httpServer.once("error", reject);
  httpServer.listen(Number(env.PORT || 0), "127.0.0.1", resolve);
});
await Promise.all(subscribed);
process.stdout.write(JSON.stringify({ ready: true, port: httpServer.address().port }) + "\n");

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  let timer;
  await Promise.race([io.close(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
  clearTimeout(timer);
  await Promise.allSettled([pubClient.disconnect(), subClient.disconnect()]);
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
