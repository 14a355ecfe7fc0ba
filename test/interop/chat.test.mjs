// Chat behaviour over the official client: acks in both directions, rooms,
// namespaces and multiplexing, connection middleware, whoami/stats/rooms, bye.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, beforeEach, describe, test } from "node:test";
import {
  Clients, bytes, call, collect, emitAck, normalizeBinary, once, sleep, startServer, toBuffer, until, waitConnect,
} from "./lib/harness.mjs";

const server = await startServer({ name: "chat" });
after(() => server.stop());

const BAD = { ok: false, error: "bad request" };
const uniqueRoom = (tag = "room") => `${tag}-${randomUUID().slice(0, 8)}`;

/** Fails if anything is added to `list` within `ms`. */
async function expectNothing(list, ms = 300, label = "event") {
  const before = list.length;
  await sleep(ms);
  assert.equal(list.length, before, `unexpected ${label}: ${JSON.stringify(list.slice(before))}`);
}

const suite = (name, fn) => describe(name, { skip: server.skip, timeout: 30000 }, () => {
  const ctx = {};
  beforeEach(() => { ctx.c = new Clients(server.url); });
  afterEach(() => { ctx.c.closeAll(); server.assertAlive(); });
  fn(ctx);
});

suite("acks", (ctx) => {
  test("client→server ack carries all the arguments", async () => {
    const s = await ctx.c.connected("/", { transports: ["websocket"] });
    assert.deepEqual(await emitAck(s, "echo", ["a", 2, { b: [3] }]), ["a", 2, { b: [3] }]);
    assert.equal(await s.timeout(5000).emitWithAck("echo", "first", "second"), "first");
  });

  test("many concurrent acks are matched to their own request", async () => {
    const s = await ctx.c.connected("/", {});
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => emitAck(s, "echo", [i, `v${i}`], 8000)),
    );
    results.forEach((r, i) => assert.deepEqual(r, [i, `v${i}`]));
  });

  for (const transports of [["polling"], ["websocket"]]) {
    test(`server→client ack via ping-me is answered with the client's first ack argument (${transports[0]})`, async () => {
      const s = await ctx.c.connected("/", { transports });
      const pings = [];
      s.on("server-ping", (payload, ack) => {
        pings.push(payload);
        assert.equal(typeof ack, "function", "server-ping must request an ack");
        ack({ pong: payload.n * 2 }, "ignored second argument");
      });
      const res = await call(s, "ping-me", { n: 21 });
      assert.deepEqual(pings, [{ n: 21 }]);
      assert.deepEqual(res, { ok: true, answer: { pong: 42 } });
    });

    test(`binary in the server→client ping payload and in the client's answer (${transports[0]})`, async () => {
      const s = await ctx.c.connected("/", { transports });
      const payload = { blob: bytes(64, 9), list: [bytes(2, 10)] };
      let seen;
      s.on("server-ping", (p, ack) => { seen = p; ack({ back: toBuffer(p.blob), extra: bytes(5, 11) }); });
      const res = await call(s, "ping-me", payload);
      assert.deepEqual(normalizeBinary(seen), normalizeBinary(payload));
      assert.equal(res.ok, true);
      assert.deepEqual(normalizeBinary(res.answer), normalizeBinary({ back: payload.blob, extra: bytes(5, 11) }));
    });
  }

  test("ping-me times out after ~2 s when the client does not answer", async () => {
    const s = await ctx.c.connected("/", {});
    let pinged = 0;
    s.on("server-ping", () => { pinged++; /* never ack */ });
    const t0 = Date.now();
    const res = (await emitAck(s, "ping-me", ["are you there"], 6000))[0];
    const elapsed = Date.now() - t0;
    assert.deepEqual(res, { ok: false, error: "timeout" });
    assert.equal(pinged, 1);
    assert.ok(elapsed >= 1800, `timed out too early: ${elapsed} ms`);
    assert.ok(elapsed < 4500, `timed out too late: ${elapsed} ms`);
  });

  test("a late answer after the timeout is ignored and the socket keeps working", async () => {
    const s = await ctx.c.connected("/", { transports: ["websocket"] });
    s.on("server-ping", (p, ack) => { setTimeout(() => ack("too late"), 2600); });
    const res = await emitAck(s, "ping-me", [1], 6000);
    assert.deepEqual(res, [{ ok: false, error: "timeout" }]);
    await sleep(900); // the late ack reaches the server now
    s.removeAllListeners("server-ping");
    s.on("server-ping", (p, ack) => ack(`fresh-${p}`));
    assert.deepEqual(await call(s, "ping-me", 2), { ok: true, answer: "fresh-2" });
    assert.ok(s.connected);
  });
});

suite("rooms", (ctx) => {
  test("join and leave report room sizes; join is idempotent", async () => {
    const room = uniqueRoom();
    const [a, b, d] = await Promise.all([
      ctx.c.connected("/", { transports: ["websocket"] }),
      ctx.c.connected("/", { transports: ["polling"] }),
      ctx.c.connected("/", {}),
    ]);
    assert.deepEqual(await call(a, "join", { room }), { ok: true, room, size: 1 });
    assert.deepEqual(await call(b, "join", { room }), { ok: true, room, size: 2 });
    assert.deepEqual(await call(b, "join", { room }), { ok: true, room, size: 2 });
    assert.deepEqual(await call(d, "join", { room }), { ok: true, room, size: 3 });
    assert.deepEqual(await call(b, "leave", { room }), { ok: true, room, size: 2 });
    assert.deepEqual(await call(a, "leave", { room }), { ok: true, room, size: 1 });
    assert.deepEqual(await call(d, "leave", { room }), { ok: true, room, size: 0 });
    assert.deepEqual(await call(d, "rooms"), []);
  });

  test("invalid join/leave requests are refused with bad request", async () => {
    const s = await ctx.c.connected("/", {});
    const invalid = [
      { room: "" }, { room: "x".repeat(129) }, { room: 5 }, { room: null }, { room: ["a"] },
      {}, "room", 42, null,
    ];
    for (const p of invalid) {
      assert.deepEqual(await call(s, "join", p), BAD, `join ${JSON.stringify(p)}`);
      assert.deepEqual(await call(s, "leave", p), BAD, `leave ${JSON.stringify(p)}`);
    }
    assert.deepEqual(await call(s, "rooms"), []);
    const ascii = "r".repeat(128);
    assert.deepEqual(await call(s, "join", { room: ascii }), { ok: true, room: ascii, size: 1 });
    // the limit is in characters, not UTF-8 bytes (this name is 256 bytes long)
    const accented = "é".repeat(128);
    assert.deepEqual(await call(s, "join", { room: accented }), { ok: true, room: accented, size: 1 },
      "a 128-character room name with multi-byte characters must be accepted");
    assert.deepEqual(await call(s, "join", { room: "é".repeat(129) }), BAD);
    assert.deepEqual(await call(s, "rooms"), [ascii, accented].sort());
  });

  test("say reaches every other member of the room, not the sender nor non-members", async () => {
    const room = uniqueRoom("say");
    const [a, b, d, outsider] = await Promise.all([
      ctx.c.connected("/", { transports: ["websocket"] }),
      ctx.c.connected("/", { transports: ["polling"] }),
      ctx.c.connected("/", {}),
      ctx.c.connected("/", {}),
    ]);
    const got = { a: collect(a, "said"), b: collect(b, "said"), d: collect(d, "said"), o: collect(outsider, "said") };
    for (const s of [a, b, d]) assert.equal((await call(s, "join", { room })).ok, true);

    assert.deepEqual(await call(a, "say", { room, text: "hello ✓" }), { ok: true });
    await until(() => got.b.length === 1 && got.d.length === 1, 3000, "said on b and d");
    const expected = [{ room, from: a.id, text: "hello ✓" }];
    assert.deepEqual(got.b[0], expected);
    assert.deepEqual(got.d[0], expected);

    // without ack
    b.emit("say", { room, text: "no ack" });
    await until(() => got.a.length === 1 && got.d.length === 2, 3000, "said from b");
    assert.deepEqual(got.a[0], [{ room, from: b.id, text: "no ack" }]);
    assert.deepEqual(got.d[1], [{ room, from: b.id, text: "no ack" }]);

    // after leaving, d no longer receives
    assert.deepEqual(await call(d, "leave", { room }), { ok: true, room, size: 2 });
    assert.deepEqual(await call(a, "say", { room, text: "after leave" }), { ok: true });
    await until(() => got.b.length === 2, 3000, "said after leave");
    await sleep(200);
    assert.equal(got.a.length, 1, "sender must not receive its own message");
    assert.equal(got.d.length, 2, "a member who left must not receive");
    assert.equal(got.o.length, 0, "non-members must not receive");
  });

  test("invalid say is refused and not broadcast", async () => {
    const room = uniqueRoom("bad-say");
    const [a, b] = await Promise.all([ctx.c.connected("/", {}), ctx.c.connected("/", {})]);
    const got = collect(b, "said");
    await call(a, "join", { room });
    await call(b, "join", { room });
    const invalid = [
      { room, text: 5 }, { room }, { room: "", text: "x" }, { room: "x".repeat(129), text: "x" },
      { text: "no room" }, "just a string", null,
    ];
    for (const p of invalid) {
      assert.deepEqual(await call(a, "say", p), BAD, `say ${JSON.stringify(p)}`);
    }
    await expectNothing(got, 300, "said after invalid say");
  });

  test("rooms lists this socket's rooms sorted, without its own id", async () => {
    const s = await ctx.c.connected("/", {});
    const tag = randomUUID().slice(0, 6);
    const names = [`zeta-${tag}`, `Alpha-${tag}`, `alpha-${tag}`, `mid-${tag}`, `10-${tag}`, `9-${tag}`];
    for (const room of names) await call(s, "join", { room });
    const sorted = [...names].sort();
    assert.deepEqual(await call(s, "rooms"), sorted);
    await call(s, "leave", { room: `mid-${tag}` });
    assert.deepEqual(await call(s, "rooms"), sorted.filter((r) => r !== `mid-${tag}`));
  });

  test("disconnect notifies each room's remaining members with left and the reason", async () => {
    const r1 = uniqueRoom("r1");
    const r2 = uniqueRoom("r2");
    const [a, b, leaver, quitter] = await Promise.all([
      ctx.c.connected("/", { transports: ["websocket"] }),
      ctx.c.connected("/", { transports: ["polling"] }),
      ctx.c.connected("/", {}),
      ctx.c.connected("/", { transports: ["websocket"] }),
    ]);
    const leftA = collect(a, "left");
    const leftB = collect(b, "left");
    await call(a, "join", { room: r1 });
    await call(b, "join", { room: r2 });
    await call(leaver, "join", { room: r1 });
    await call(leaver, "join", { room: r2 });
    await call(quitter, "join", { room: r1 });

    // client-side namespace disconnect
    const leaverId = leaver.id;
    leaver.disconnect();
    await until(() => leftA.length === 1 && leftB.length === 1, 3000, "left after client disconnect");
    assert.deepEqual(leftA[0], [{ room: r1, id: leaverId, reason: "client namespace disconnect" }]);
    assert.deepEqual(leftB[0], [{ room: r2, id: leaverId, reason: "client namespace disconnect" }]);

    // transport closed under the socket
    const quitterId = quitter.id;
    quitter.io.engine.close();
    await until(() => leftA.length === 2, 3000, "left after transport close");
    assert.deepEqual(leftA[1], [{ room: r1, id: quitterId, reason: "transport close" }]);

    // sizes reflect the departures
    assert.deepEqual(await call(a, "join", { room: r1 }), { ok: true, room: r1, size: 1 });
    await expectNothing(leftB, 200, "left for a room b is not in");
  });
});

suite("bye", (ctx) => {
  test("bye disconnects the socket with reason io server disconnect, and room members are told", async () => {
    const room = uniqueRoom("bye");
    const [s, other] = await Promise.all([
      ctx.c.connected("/", { reconnection: true, reconnectionDelay: 100 }),
      ctx.c.connected("/", {}),
    ]);
    const left = collect(other, "left");
    await call(s, "join", { room });
    await call(other, "join", { room });
    const id = s.id;
    const disc = once(s, "disconnect", 5000);
    s.emit("bye");
    const [reason] = await disc;
    assert.equal(reason, "io server disconnect");
    await until(() => left.length === 1, 3000, "left after bye");
    assert.deepEqual(left[0], [{ room, id, reason: "server namespace disconnect" }]);
    // a server-side disconnect is final: the client must not reconnect by itself
    await sleep(500);
    assert.equal(s.connected, false);
    // and the server forgot it
    assert.deepEqual(await call(other, "join", { room }), { ok: true, room, size: 1 });
  });

  test("bye on one namespace leaves the other namespace of the same connection working", async () => {
    const m = ctx.c.manager({});
    const main = m.socket("/");
    const chat = m.socket("/chat");
    await Promise.all([waitConnect(main), waitConnect(chat)]);
    const disc = once(chat, "disconnect", 5000);
    chat.emit("bye");
    const [reason] = await disc;
    assert.equal(reason, "io server disconnect");
    assert.ok(main.connected);
    assert.deepEqual(await emitAck(main, "echo", ["still here"]), ["still here"]);
  });
});

suite("namespaces", (ctx) => {
  test("/ and /chat are multiplexed over one engine session", async () => {
    const m = ctx.c.manager({});
    let opens = 0;
    m.on("open", () => opens++);
    const main = m.socket("/");
    const chat = m.socket("/chat");
    await Promise.all([waitConnect(main), waitConnect(chat)]);
    assert.equal(main.io, chat.io);
    assert.equal(opens, 1, "exactly one engine session must have been opened");
    const engineId = m.engine.id;
    assert.ok(engineId);

    const [meMain, meChat] = await Promise.all([call(main, "whoami"), call(chat, "whoami")]);
    assert.equal(meMain.nsp, "/");
    assert.equal(meChat.nsp, "/chat");
    assert.equal(meMain.id, main.id);
    assert.equal(meChat.id, chat.id);
    assert.notEqual(main.id, chat.id);

    // both namespaces answer over the same session, binary included
    const blob = bytes(33, 5);
    const [r1, r2] = await Promise.all([emitAck(main, "echo", ["main", blob]), emitAck(chat, "echo", ["chat", blob])]);
    assert.deepEqual(normalizeBinary(r1), normalizeBinary(["main", blob]));
    assert.deepEqual(normalizeBinary(r2), normalizeBinary(["chat", blob]));
    assert.equal(m.engine.id, engineId);
    assert.equal(opens, 1);
  });

  test("rooms are per namespace", async () => {
    const room = uniqueRoom("nsp");
    const m = ctx.c.manager({});
    const main = m.socket("/");
    const chat = m.socket("/chat");
    await Promise.all([waitConnect(main), waitConnect(chat)]);
    const otherChat = await ctx.c.connected("/chat", {});
    const otherMain = await ctx.c.connected("/", {});
    const saidMain = collect(otherMain, "said");
    const saidChat = collect(otherChat, "said");

    assert.deepEqual(await call(main, "join", { room }), { ok: true, room, size: 1 });
    assert.deepEqual(await call(chat, "join", { room }), { ok: true, room, size: 1 });
    assert.deepEqual(await call(otherChat, "join", { room }), { ok: true, room, size: 2 });
    assert.deepEqual(await call(otherMain, "join", { room }), { ok: true, room, size: 2 });

    assert.deepEqual(await call(chat, "say", { room, text: "on chat" }), { ok: true });
    await until(() => saidChat.length === 1, 3000, "said on /chat");
    assert.deepEqual(saidChat[0], [{ room, from: chat.id, text: "on chat" }]);
    await expectNothing(saidMain, 200, "said leaking from /chat into /");

    // leaving /chat's room does not affect /
    assert.deepEqual(await call(chat, "leave", { room }), { ok: true, room, size: 1 });
    assert.deepEqual(await call(main, "rooms"), [room]);
  });

  test("disconnecting one namespace keeps the other and the session alive", async () => {
    const m = ctx.c.manager({});
    const main = m.socket("/");
    const chat = m.socket("/chat");
    await Promise.all([waitConnect(main), waitConnect(chat)]);
    const engineId = m.engine.id;
    main.disconnect();
    await sleep(100);
    assert.deepEqual(await emitAck(chat, "echo", [1]), [1]);
    assert.equal(m.engine.id, engineId);
    assert.equal(m.engine.readyState, "open");
  });

  for (const nsp of ["/nope", "/chat/sub", "/Chat"]) {
    test(`unknown namespace ${nsp} is refused with Invalid namespace`, async () => {
      const s = ctx.c.socket(nsp, {});
      const [err] = await once(s, "connect_error", 5000);
      assert.equal(err.message, "Invalid namespace");
      assert.equal(s.connected, false);
    });
  }

  test("an invalid namespace on a shared connection does not disturb the valid ones", async () => {
    const m = ctx.c.manager({});
    const main = m.socket("/");
    await waitConnect(main);
    const bad = m.socket("/nope");
    const [err] = await once(bad, "connect_error", 5000);
    assert.equal(err.message, "Invalid namespace");
    assert.ok(main.connected);
    assert.deepEqual(await emitAck(main, "echo", ["ok"]), ["ok"]);
  });
});

suite("middleware", (ctx) => {
  for (const nsp of ["/", "/chat"]) {
    for (const transports of [["polling"], ["websocket"]]) {
      test(`auth token "bad" is refused on ${nsp} with unauthorized / 401 (${transports[0]})`, async () => {
        const s = ctx.c.socket(nsp, { auth: { token: "bad" }, transports });
        let connected = false;
        s.on("connect", () => { connected = true; });
        const [err] = await once(s, "connect_error", 5000);
        assert.equal(err.message, "unauthorized");
        assert.deepEqual(err.data, { code: 401 });
        await sleep(100);
        assert.equal(connected, false);
      });
    }

    test(`any other auth is accepted on ${nsp} and visible in whoami`, async () => {
      const auth = { token: "good", user: "ana", n: [1, 2, { x: true }] };
      const s = await ctx.c.connected(nsp, { auth });
      const me = await call(s, "whoami");
      assert.deepEqual(me.auth, auth);
      assert.equal(me.nsp, nsp);
      const anon = await ctx.c.connected(nsp, {});
      assert.deepEqual((await call(anon, "whoami")).auth, {});
    });
  }

  test("refusal is per namespace: a bad-auth socket does not affect its sibling", async () => {
    const m = ctx.c.manager({});
    const main = m.socket("/", { auth: { token: "fine" } });
    const chat = m.socket("/chat", { auth: { token: "bad" } });
    const [err] = await once(chat, "connect_error", 5000);
    await waitConnect(main);
    assert.equal(err.message, "unauthorized");
    assert.deepEqual(err.data, { code: 401 });
    assert.deepEqual((await call(main, "whoami")).auth, { token: "fine" });
  });
});

suite("whoami and stats", (ctx) => {
  test("whoami reports id, nsp, auth and transport", async () => {
    const s = await ctx.c.connected("/chat", { auth: { token: "t" }, transports: ["polling"] });
    assert.deepEqual(await call(s, "whoami"), { id: s.id, nsp: "/chat", auth: { token: "t" }, transport: "polling" });
  });

  test("stats counts connected clients", async () => {
    const s = await ctx.c.connected("/", {});
    // let departures from earlier tests settle: two equal readings 200 ms apart
    let base = (await call(s, "stats")).clients;
    for (let i = 0; i < 15; i++) {
      await sleep(200);
      const again = (await call(s, "stats")).clients;
      if (again === base) break;
      base = again;
    }
    assert.ok(Number.isInteger(base) && base >= 1, `clients=${base}`);
    const extra = await Promise.all([ctx.c.connected("/", {}), ctx.c.connected("/", { transports: ["websocket"] })]);
    assert.deepEqual(await call(s, "stats"), { clients: base + 2 });
    extra[0].disconnect();
    extra[1].io.engine.close();
    const deadline = Date.now() + 3000;
    let now;
    do {
      now = (await call(s, "stats")).clients;
      if (now === base) break;
      await sleep(50);
    } while (Date.now() < deadline);
    assert.equal(now, base, "clients must drop back after disconnects");
  });
});
