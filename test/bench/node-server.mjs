// The Node.js reference of `sockwasm-bench run` (make bench): a socket.io
// 4.8.4 server with the default in-memory adapter that answers the chat
// plugin's events (examples/chat/plugin) with the same names and payload
// shapes, so that the load generator cannot tell it from sockwasm serving
// plugins/chat.wasm:
//
//   middleware: auth {"token":"bad"} → connect_error {"message":"unauthorized","data":{"code":401}}
//   join / leave {room} → ack {ok, room, size}
//   say {room, text}    → "said" {room, from, text} to the room but the sender, ack {ok:true}
//   echo …args          → ack …args (binary attachments included), or "echo-back" …args without an ack
//   on disconnect       → "left" {room, id, reason} to each room the socket was in
//
// Default server options otherwise (pingInterval 25 s, maxHttpBufferSize
// 1e6, httpCompression on, no per-message deflate, both transports).
//
// Environment: PORT (0 = random, the default), HOST (127.0.0.1),
// PER_MESSAGE_DEFLATE=1 (perMessageDeflate {threshold: 1024}). Prints
// {"ready":true,"port":N} once listening; exits on SIGTERM/SIGINT or when
// stdin closes (the runner is gone).

import { createServer } from "node:http";
import { Server } from "socket.io";

const env = process.env;
const maxRoomLen = 128;
const badRequest = { ok: false, error: "bad request" };

const httpServer = createServer();
const io = new Server(httpServer, env.PER_MESSAGE_DEFLATE === "1" ? { perMessageDeflate: { threshold: 1024 } } : {});

function room(arg) {
  const r = arg?.room;
  if (typeof r !== "string" || r === "" || [...r].length > maxRoomLen) return undefined;
  return r;
}

function lastAck(args) {
  return typeof args[args.length - 1] === "function" ? args.pop() : undefined;
}

function roomSize(r) {
  return io.of("/").adapter.rooms.get(r)?.size ?? 0;
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
  const membership = (join) => (...args) => {
    const ack = lastAck(args);
    const r = room(args[0]);
    if (r === undefined) return ack?.(badRequest);
    if (join) socket.join(r);
    else socket.leave(r);
    ack?.({ ok: true, room: r, size: roomSize(r) });
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
  socket.on("disconnecting", (reason) => {
    for (const r of socket.rooms) {
      if (r !== socket.id) socket.to(r).emit("left", { room: r, id: socket.id, reason });
    }
  });
});

await new Promise((resolve, reject) => {
  httpServer.once("error", reject);
  httpServer.listen(Number(env.PORT || 0), env.HOST || "127.0.0.1", resolve);
});
process.stdout.write(JSON.stringify({ ready: true, port: httpServer.address().port }) + "\n");

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(0), 1000);
  io.close(() => {
    clearTimeout(timer);
    process.exit(0);
  });
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
