// Reconnection after a dropped transport, the maxHttpBufferSize limit, and
// ordering/exactly-once delivery between a websocket and a polling client.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, beforeEach, describe, test } from "node:test";
import { Clients, call, collect, emitAck, once, sleep, startServer, until, waitConnect } from "./lib/harness.mjs";

const server = await startServer({ name: "resilience" });
after(() => server.stop());

const uniqueRoom = (tag) => `${tag}-${randomUUID().slice(0, 8)}`;
const MAX_HTTP_BUFFER_SIZE = 1_000_000;

const suite = (name, fn) => describe(name, { skip: server.skip, timeout: 30000 }, () => {
  const ctx = {};
  beforeEach(() => { ctx.c = new Clients(server.url); });
  afterEach(() => { ctx.c.closeAll(); server.assertAlive(); });
  fn(ctx);
});

const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 };

/** Drops the engine's current transport without a Socket.IO-level goodbye. */
function dropTransport(s) {
  const t = s.io.engine.transport;
  if (t.name === "websocket") {
    t.ws.terminate(); // abrupt TCP close, no close frame
  } else {
    t.close();
  }
}

suite("reconnection", (ctx) => {
  for (const transports of [["websocket"], ["polling"]]) {
    test(`client reconnects after its ${transports[0]} transport is dropped, and works again`, async () => {
      const room = uniqueRoom("reconnect");
      const s = await ctx.c.connected("/", { ...RECONNECT, transports });
      const watcher = await ctx.c.connected("/", {});
      const left = collect(watcher, "left");
      await call(watcher, "join", { room });
      assert.deepEqual(await call(s, "join", { room }), { ok: true, room, size: 2 });
      const oldId = s.id;
      const oldEngineId = s.io.engine.id;

      const disc = once(s, "disconnect", 5000);
      const reconnected = once(s.io, "reconnect", 8000);
      dropTransport(s);
      const [reason] = await disc;
      assert.equal(reason, "transport close");

      // emitted while disconnected: buffered by the client, delivered after reconnecting
      const echoed = once(s, "echo-back", 8000);
      s.emit("echo", "buffered while offline");

      await reconnected;
      await waitConnect(s);
      assert.notEqual(s.id, oldId);
      assert.notEqual(s.io.engine.id, oldEngineId);
      assert.deepEqual(await echoed, ["buffered while offline"]);
      assert.deepEqual(await emitAck(s, "echo", ["again", 2]), ["again", 2]);
      const me = await call(s, "whoami");
      assert.equal(me.id, s.id);
      assert.equal(me.transport, transports[0]);

      // the server dropped the old socket: room membership is gone, others were told
      await until(() => left.length === 1, 5000, "left for the dropped socket");
      assert.deepEqual(left[0], [{ room, id: oldId, reason: "transport close" }]);
      assert.deepEqual(await call(s, "rooms"), []);
      assert.deepEqual(await call(s, "join", { room }), { ok: true, room, size: 2 });
    });
  }

  test("a default (upgraded) connection reconnects after its websocket is dropped", async () => {
    const s = ctx.c.socket("/", RECONNECT);
    let upgrades = 0;
    const watched = new WeakSet();
    const watch = () => {
      const engine = s.io.engine;
      if (watched.has(engine)) return;
      watched.add(engine);
      engine.on("upgrade", () => upgrades++);
    };
    watch();
    s.io.on("open", watch);
    await waitConnect(s);
    await until(() => upgrades === 1, 5000, "first upgrade");
    const oldEngine = s.io.engine;
    const reconnected = once(s.io, "reconnect", 8000);
    dropTransport(s);
    await reconnected;
    await waitConnect(s);
    assert.notEqual(s.io.engine, oldEngine);
    await until(() => upgrades === 2, 5000, "upgrade after reconnect");
    assert.equal((await call(s, "whoami")).transport, "websocket");
  });
});

suite("maxHttpBufferSize", (ctx) => {
  for (const transports of [["polling"], ["websocket"]]) {
    test(`a message just under the limit is delivered (${transports[0]})`, async () => {
      const s = await ctx.c.connected("/", { transports });
      const text = "a".repeat(MAX_HTTP_BUFFER_SIZE - 100_000);
      const [back] = await emitAck(s, "echo", [text], 15000);
      assert.equal(back.length, text.length);
      assert.equal(back, text);
    });

    test(`a message over the limit closes the connection (${transports[0]})`, async () => {
      const s = await ctx.c.connected("/", { transports });
      const bystander = await ctx.c.connected("/", { transports });
      const disc = once(s, "disconnect", 10000);
      let acked = false;
      s.emit("echo", "b".repeat(MAX_HTTP_BUFFER_SIZE + 200_000), () => { acked = true; });
      const [reason] = await disc;
      assert.ok(["transport close", "transport error"].includes(reason), `unexpected reason: ${reason}`);
      assert.equal(acked, false, "an oversized message must not be processed");
      assert.equal(s.connected, false);
      // the server and the other clients are unaffected
      assert.deepEqual(await emitAck(bystander, "echo", ["fine"]), ["fine"]);
      const fresh = await ctx.c.connected("/", { transports });
      assert.deepEqual(await emitAck(fresh, "echo", ["fresh"]), ["fresh"]);
    });
  }
});

suite("ordering", (ctx) => {
  const N = 200;
  const pairs = [
    [{ transports: ["websocket"] }, { transports: ["polling"] }, "websocket sender → polling receiver"],
    [{ transports: ["polling"] }, { transports: ["websocket"] }, "polling sender → websocket receiver"],
  ];
  for (const [senderOpts, receiverOpts, label] of pairs) {
    test(`${N} messages arrive in order exactly once (${label})`, async () => {
      const room = uniqueRoom("order");
      const [sender, receiver] = await Promise.all([
        ctx.c.connected("/", senderOpts),
        ctx.c.connected("/", receiverOpts),
      ]);
      assert.equal(sender.io.engine.transport.name, senderOpts.transports[0]);
      assert.equal(receiver.io.engine.transport.name, receiverOpts.transports[0]);
      const got = [];
      receiver.on("said", (m) => got.push(m));
      await call(sender, "join", { room });
      await call(receiver, "join", { room });
      for (let i = 0; i < N; i++) sender.emit("say", { room, text: `msg ${i}` });
      // a final acknowledged say: everything before it has been processed by the server
      assert.deepEqual(await call(sender, "say", { room, text: "end" }), { ok: true });
      await until(() => got.length >= N + 1, 10000, `${N + 1} said events (got ${got.length})`);
      await sleep(300); // any duplicate would show up now
      assert.equal(got.length, N + 1, "no duplicates");
      const texts = got.map((m) => m.text);
      assert.deepEqual(texts, [...Array.from({ length: N }, (_, i) => `msg ${i}`), "end"]);
      for (const m of got) {
        assert.equal(m.from, sender.id);
        assert.equal(m.room, room);
      }
    });
  }
});
