// An @socket.io/redis-emitter 5.1.0 Emitter (node-redis v4 client), driven
// by Go tests through host/internal/nodetest: JSON-line commands on stdin,
// answers on stdout (see lib.mjs and README.md). An answer "ok" means
// Redis has handled the command's PUBLISH.
//
// Environment:
//   REDIS_URL  default redis://127.0.0.1:6379
//   KEY        emitter key (channel prefix), default "socket.io"

import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { print, fromWire, list, serve, onShutdown, reconnectStrategy } from "./lib.mjs";

const env = process.env;
const client = createClient({ url: env.REDIS_URL || "redis://127.0.0.1:6379", socket: { reconnectStrategy } });
client.on("error", (err) => process.stderr.write(`redis: ${err.message}\n`));
await client.connect();

const emitter = new Emitter(client, { key: env.KEY || "socket.io" });
print({ ready: true });

// target applies the optional nsp/rooms/except/volatile/compress of a command.
function target(msg) {
  let op = emitter.of(msg.nsp || "/");
  const rooms = list(msg.rooms);
  const except = list(msg.except);
  if (rooms) op = op.to(rooms);
  if (except) op = op.except(except);
  if (msg.volatile) op = op.volatile;
  if (msg.compress !== undefined) op = op.compress(!!msg.compress);
  return op;
}

function args(msg) {
  return Array.isArray(msg.args) ? msg.args.map(fromWire) : [];
}

// The emitter drops the PUBLISH promise; a PING on the same connection
// resolves after it (node-redis keeps one ordered pipeline).
function flushed() {
  return client.ping();
}

const stop = onShutdown(async () => {
  await client.disconnect();
});

serve(
  {
    async emit(msg) {
      target(msg).emit(msg.event, ...args(msg));
      await flushed();
    },
    async socketsJoin(msg) {
      target(msg).socketsJoin(list(msg.join) ?? []);
      await flushed();
    },
    async socketsLeave(msg) {
      target(msg).socketsLeave(list(msg.leave ?? msg.join) ?? []);
      await flushed();
    },
    async disconnectSockets(msg) {
      target(msg).disconnectSockets(!!msg.close);
      await flushed();
    },
    async serverSideEmit(msg) {
      emitter.of(msg.nsp || "/").serverSideEmit(msg.event, ...args(msg));
      await flushed();
    },
  },
  stop,
);
