// Transports: polling only, websocket only, and the default (polling, then
// upgrade to websocket). For each: handshake, echo with and without ack, and
// binary round trips (nested anywhere in the arguments) in both directions.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, afterEach, beforeEach, describe, test } from "node:test";
import {
  CHAT_CONFIG, Clients, REPO_ROOT, TRANSPORTS, bytes, call, emitAck, normalizeBinary, once, startServer, toBuffer, until, waitConnect,
} from "./lib/harness.mjs";

const server = await startServer({ name: "transports" });
/** Whether the configuration under test turns permessage-deflate on. */
const DEFLATE = /^\s*per_message_deflate\s*=\s*true\b/m.test(readFileSync(path.resolve(REPO_ROOT, CHAT_CONFIG), "utf8"));
after(() => server.stop());

/** Opens a socket with the given transport set; for "upgrade", waits for the upgrade. */
async function open(c, mode, nsp = "/") {
  const s = c.socket(nsp, TRANSPORTS[mode]);
  let upgraded = false;
  s.io.engine.on("upgrade", () => { upgraded = true; });
  await waitConnect(s);
  if (mode === "upgrade") {
    await until(() => upgraded, 5000, "transport upgrade");
    assert.equal(s.io.engine.transport.name, "websocket");
  }
  return s;
}

const expectedTransport = { polling: "polling", websocket: "websocket", upgrade: "websocket" };

const plainArgs = [
  1, -1.5, 0, "two", "", "héllo wörld ✓ 🚀 \u0000 \u2028 \"quoted\" \\ \n",
  null, true, false, { three: [3, null, { four: "4" }] }, [], {},
];

function binaryArgs() {
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  return [
    bytes(16, 1),
    { kind: "nested", data: bytes(32, 2), inner: { list: [bytes(3, 3), "text", { deep: bytes(1, 4) }] } },
    [all, "between", all],
    "plain string",
    { empty: Buffer.alloc(0), n: 42 },
    // 10 attachments in one packet: a two-digit attachment count, placeholders 0..9
    // (10 is also the most attachments socket.io-parser accepts in one packet)
    Array.from({ length: 3 }, (_, i) => bytes(5 + i, 100 + i)),
  ];
}

function countBinary(v) {
  if (Buffer.isBuffer(v)) return 1;
  if (Array.isArray(v)) return v.reduce((n, x) => n + countBinary(x), 0);
  if (v && typeof v === "object") return Object.values(v).reduce((n, x) => n + countBinary(x), 0);
  return 0;
}

for (const mode of Object.keys(TRANSPORTS)) {
  describe(`transport: ${mode}`, { skip: server.skip, timeout: 30000 }, () => {
    let c;
    beforeEach(() => { c = new Clients(server.url); });
    afterEach(() => { c.closeAll(); server.assertAlive(); });

    test("connects and the server reports the expected transport", async () => {
      const s = await open(c, mode);
      assert.match(s.id, /^[\w-]+$/);
      const me = await call(s, "whoami");
      assert.equal(me.id, s.id);
      assert.equal(me.nsp, "/");
      assert.equal(me.transport, expectedTransport[mode]);
      if (mode === "polling") {
        assert.equal(s.io.engine.transport.name, "polling");
      }
      if (mode === "websocket") {
        assert.equal(s.io.engine.transport.name, "websocket");
      }
    });

    if (mode === "polling") {
      test("stays on polling when websocket is not offered by the client", async () => {
        const s = await open(c, mode);
        let upgraded = false;
        s.io.engine.on("upgrade", () => { upgraded = true; });
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(upgraded, false);
        assert.equal((await call(s, "whoami")).transport, "polling");
      });
    }

    test("echo with ack returns exactly the same arguments", async () => {
      const s = await open(c, mode);
      const res = await emitAck(s, "echo", plainArgs);
      assert.deepEqual(res, plainArgs);
      assert.deepEqual(await emitAck(s, "echo", []), []);
      assert.deepEqual(await emitAck(s, "echo", ["only"]), ["only"]);
    });

    test("echo without ack emits echo-back with the same arguments", async () => {
      const s = await open(c, mode);
      const got = once(s, "echo-back");
      s.emit("echo", ...plainArgs);
      assert.deepEqual(await got, plainArgs);
    });

    test("binary anywhere in the arguments round-trips byte-exact through an ack", async () => {
      const s = await open(c, mode);
      const args = binaryArgs();
      assert.equal(countBinary(args), 10);
      const res = await emitAck(s, "echo", args);
      assert.equal(res.length, args.length);
      assert.deepEqual(normalizeBinary(res), normalizeBinary(args));
      // received binary values really are binary, not e.g. base64 strings or placeholders
      assert.ok(toBuffer(res[0]).equals(args[0]));
      assert.ok(toBuffer(res[1].inner.list[0]).equals(args[1].inner.list[0]));
      assert.equal(toBuffer(res[4].empty).length, 0);
    });

    test("binary anywhere in the arguments round-trips byte-exact through echo-back", async () => {
      const s = await open(c, mode);
      const args = binaryArgs();
      const got = once(s, "echo-back");
      s.emit("echo", ...args);
      const res = await got;
      assert.deepEqual(normalizeBinary(res), normalizeBinary(args));
    });

    test("a large binary payload (200 kB) round-trips byte-exact", async () => {
      const s = await open(c, mode);
      const big = bytes(200 * 1024, 7);
      const [back, meta] = await emitAck(s, "echo", [big, { size: big.length }], 10000);
      assert.equal(meta.size, big.length);
      assert.ok(toBuffer(back).equals(big), "payload differs");
    });

    if (mode !== "polling") {
      test("permessage-deflate is negotiated as configured and 8 KiB events round-trip", async () => {
        const s = await open(c, mode);
        // socket.io-client's ws offers permessage-deflate (threshold 1024);
        // a server.toml with per_message_deflate = true (the chat-as example)
        // accepts it, without context takeover; the default refuses it, and
        // the server frames its messages itself.
        const ws = s.io.engine.transport.ws;
        if (DEFLATE) {
          assert.equal(ws.extensions, "permessage-deflate");
          const params = ws._extensions["permessage-deflate"].params;
          assert.equal(params.server_no_context_takeover, true);
          assert.equal(params.client_no_context_takeover, true);
        } else {
          assert.equal(ws.extensions, "");
        }
        const text = Array.from({ length: 400 }, (_, i) => `{"id":${i},"text":"héllo ✓"}`).join(",").slice(0, 8192);
        assert.ok(Buffer.byteLength(text) >= 8192);
        for (let i = 0; i < 3; i++) {
          const [back, n] = await emitAck(s, "echo", [text + i, i]);
          assert.equal(back, text + i);
          assert.equal(n, i);
        }
        const got = once(s, "echo-back");
        s.emit("echo", text, bytes(8192, 9));
        const [t, b] = await got;
        assert.equal(t, text);
        assert.ok(toBuffer(b).equals(bytes(8192, 9)));
      });
    }

    test("binary and text messages interleaved keep their order", async () => {
      const s = await open(c, mode);
      const received = [];
      s.on("echo-back", (...args) => received.push(args));
      const sent = [];
      for (let i = 0; i < 30; i++) {
        const args = i % 2 ? [i, bytes(i + 1, i)] : [i, `text-${i}`];
        sent.push(args);
        s.emit("echo", ...args);
      }
      await until(() => received.length >= sent.length, 5000, "30 echo-back events");
      assert.deepEqual(normalizeBinary(received), normalizeBinary(sent));
    });
  });
}

describe("handshake", { skip: server.skip, timeout: 30000 }, () => {
  test("the open packet advertises the upgrade, heartbeat and payload limit", async () => {
    const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.equal(body[0], "0", `not an open packet: ${body.slice(0, 80)}`);
    const open = JSON.parse(body.slice(1));
    assert.equal(typeof open.sid, "string");
    assert.ok(open.sid.length > 0);
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.equal(open.pingInterval, 25000);
    assert.equal(open.pingTimeout, 20000);
    assert.equal(open.maxPayload, 1000000);
    // close the session again (a close packet)
    const close = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(open.sid)}`, {
      method: "POST", body: "1", headers: { "content-type": "text/plain;charset=UTF-8" }, signal: AbortSignal.timeout(5000),
    });
    assert.equal(close.status, 200);
    await close.text();
  });

  test("the client sees the same values", async () => {
    const c = new Clients(server.url);
    try {
      const s = c.socket("/", { transports: ["websocket"] });
      const [open] = await Promise.all([once(s.io.engine, "handshake"), waitConnect(s)]);
      assert.equal(open[0].pingInterval, 25000);
      assert.equal(open[0].pingTimeout, 20000);
      assert.equal(open[0].maxPayload, 1000000);
      assert.deepEqual(open[0].upgrades, []);
    } finally {
      c.closeAll();
    }
  });
});

describe("transport upgrade", { skip: server.skip, timeout: 30000 }, () => {
  let c;
  beforeEach(() => { c = new Clients(server.url); });
  afterEach(() => { c.closeAll(); server.assertAlive(); });

  test("starts on polling and upgrades to websocket", async () => {
    const s = c.socket("/", {});
    const seen = [];
    s.io.engine.on("upgrade", (t) => seen.push(t.name));
    assert.equal(s.io.engine.transport.name, "polling");
    await waitConnect(s);
    await until(() => seen.length > 0, 5000, "upgrade event");
    assert.deepEqual(seen, ["websocket"]);
    assert.equal(s.io.engine.transport.name, "websocket");
    assert.equal((await call(s, "whoami")).transport, "websocket");
  });

  test("messages sent while the upgrade is in progress are neither lost nor reordered", async () => {
    const s = c.socket("/", {});
    const received = [];
    s.on("echo-back", (i, b) => received.push([i, toBuffer(b).toString("hex")]));
    let upgraded = false;
    s.io.engine.on("upgrade", () => { upgraded = true; });
    // emitted before and during the handshake and upgrade
    const expected = [];
    const sendBatch = (from, n) => {
      for (let i = from; i < from + n; i++) {
        const b = bytes(8, i + 1);
        expected.push([i, b.toString("hex")]);
        s.emit("echo", i, b);
      }
    };
    sendBatch(0, 20);
    await waitConnect(s);
    sendBatch(20, 20);
    await until(() => upgraded, 5000, "upgrade");
    sendBatch(40, 20);
    await until(() => received.length >= 60, 8000, "60 echo-back events");
    assert.deepEqual(received, expected);
  });
});
