// The msgpack parser ([socketio] parser = "msgpack") against the official
// socket.io-client with socket.io-msgpack-parser: auth, acks with nested
// values, binary both ways, a room broadcast, on every transport; and a
// client with the default JSON parser is closed.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { after, afterEach, beforeEach, describe, test } from "node:test";
import parser from "socket.io-msgpack-parser";
import {
  Clients, REPO_ROOT, TRANSPORTS, bytes, call, collect, emitAck, normalizeBinary, once, startServer, toBuffer, until,
} from "./lib/harness.mjs";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sockwasm-msgpack-"));
const config = path.join(dir, "server.toml");
fs.writeFileSync(config, `plugins_dir = ${JSON.stringify(path.join(REPO_ROOT, "plugins"))}
watch = false

[socketio]
parser = "msgpack"

[cors]
origins = ["*"]

[[namespace]]
name = "/"
middleware = ["chat"]
handler = "chat"
`);

const server = await startServer({ name: "msgpack", config });
after(async () => { await server.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

describe("msgpack parser", { skip: server.skip, timeout: 30000 }, () => {
  let c;
  beforeEach(() => { c = new Clients(server.url); });
  afterEach(() => { c.closeAll(); server.assertAlive(); });

  for (const [name, opts] of Object.entries(TRANSPORTS)) {
    test(`auth, acks, binary and a room broadcast (${name})`, async () => {
      const auth = { token: "good", user: "ünï", n: [1, -2.5, 2 ** 40, { deep: [true, null] }] };
      const s = await c.connected("/", { ...opts, parser, auth });
      if (name === "upgrade") await until(() => s.io.engine.transport.name === "websocket", 5000, "upgrade");
      assert.deepEqual((await call(s, "whoami")).auth, auth);

      const args = ["a ✓ 😀", 42, 1.5, -7, { nested: { list: [1, "two", { three: 3 }], empty: {} } }, [], null, false];
      assert.deepEqual(await emitAck(s, "echo", args), args);

      // Binary both ways: the server's ping carries the client's Buffers,
      // the client's answer carries Buffers back.
      const payload = { blob: bytes(8192, 3), list: [bytes(2, 4), bytes(0)] };
      let seen;
      s.on("server-ping", (p, ack) => { seen = p; ack({ back: toBuffer(p.blob), extra: bytes(5, 5) }); });
      const res = await call(s, "ping-me", payload);
      assert.deepEqual(normalizeBinary(seen), normalizeBinary(payload));
      assert.equal(res.ok, true);
      assert.deepEqual(normalizeBinary(res.answer), normalizeBinary({ back: payload.blob, extra: bytes(5, 5) }));

      // A broadcast to a room reaches the other msgpack clients.
      const room = `mp-${randomUUID().slice(0, 8)}`;
      const others = await Promise.all([c.connected("/", { parser, transports: ["websocket"] }), c.connected("/", { parser, transports: ["polling"] })]);
      const got = others.map((o) => collect(o, "said"));
      for (const x of [s, ...others]) assert.equal((await call(x, "join", { room })).ok, true);
      assert.deepEqual(await call(s, "say", { room, text: "héllo" }), { ok: true });
      await until(() => got.every((g) => g.length === 1), 3000, "said on every member");
      for (const g of got) assert.deepEqual(g[0], [{ room, from: s.id, text: "héllo" }]);
    });
  }

  test("a client with the JSON parser is closed, the server keeps serving", async () => {
    const s = c.socket("/", { transports: ["websocket"] });
    const [reason] = await once(s.io, "close", 5000, "close of the JSON client");
    assert.equal(s.connected, false);
    assert.match(String(reason), /close|error/);
    const ok = await c.connected("/", { parser, transports: ["websocket"] });
    assert.deepEqual(await emitAck(ok, "echo", [1]), [1]);
  });
});
