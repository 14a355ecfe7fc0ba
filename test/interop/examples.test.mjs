// The example plugins of examples/auth-jwt, examples/ratelimit,
// examples/presence, examples/auth-http and examples/webhook, each served
// by its own server.toml, over the official client. auth-http and webhook
// run against real local HTTP servers started here, their server.toml
// copied with the URLs pointing at them.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, afterEach, beforeEach, describe, test } from "node:test";
import {
  Clients, REPO_ROOT, call, collect, once, sleep, startServer, until,
} from "./lib/harness.mjs";

// The examples always run on servers of their own, never on SOCKWASM_URL
// (which serves the chat example).
delete process.env.SOCKWASM_URL;

/** Serves handler on a free loopback port; resolves with its base URL and the server. */
async function localHTTP(handler) {
  const srv = http.createServer(handler);
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${srv.address().port}`, srv };
}

/** Reads the whole body of a request. */
const readBody = (req) => new Promise((resolve) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => resolve(Buffer.concat(chunks).toString()));
});

/**
 * Copies examples/NAME/server.toml into a temporary folder, with its
 * plugins_dir made absolute and each [from, to] of edits replaced; returns
 * the copy's path.
 */
function exampleConfig(name, edits) {
  let text = fs.readFileSync(path.join(REPO_ROOT, "examples", name, "server.toml"), "utf8");
  text = text.replace(/^plugins_dir = .*$/m, `plugins_dir = ${JSON.stringify(path.join(REPO_ROOT, "plugins", name))}`);
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `examples/${name}/server.toml has no ${from}`);
    text = text.replaceAll(from, to);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sockwasm-${name}-`));
  tempDirs.push(dir);
  const file = path.join(dir, "server.toml");
  fs.writeFileSync(file, text);
  return file;
}
const tempDirs = [];

// The auth service of examples/auth-http: POST /auth/verify accepts the
// token "let-me-in" (user ann), holds "slow" until release(), answers 500
// to "boom" and 401 to anything else.
let releaseSlow;
const slowReleased = new Promise((resolve) => { releaseSlow = resolve; });
const authService = await localHTTP(async (req, res) => {
  const body = await readBody(req);
  const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
  if (req.method !== "POST" || req.url !== "/auth/verify" || body !== JSON.stringify({ token })) {
    res.writeHead(400).end();
  } else if (token === "let-me-in") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sub: "ann", name: "Ann" }));
  } else if (token === "slow") {
    await slowReleased;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sub: "slow" }));
  } else {
    res.writeHead(token === "boom" ? 500 : 401).end();
  }
});

// The webhook of examples/webhook: records each post with whether its
// signature is right; answers 500 to the text "fail".
const HOOK_SECRET = "test-secret";
const hookPosts = [];
const webhook = await localHTTP(async (req, res) => {
  const body = await readBody(req);
  const signed = req.headers["x-webhook-signature"] === `sha256=${createHmac("sha256", HOOK_SECRET).update(body).digest("hex")}`;
  const post = { path: req.url, signed, ...JSON.parse(body) };
  hookPosts.push(post);
  res.writeHead(post.text === "fail" ? 500 : 204).end();
});

const servers = {
  authJwt: await startServer({ name: "example-auth-jwt", config: "examples/auth-jwt/server.toml" }),
  ratelimit: await startServer({ name: "example-ratelimit", config: "examples/ratelimit/server.toml" }),
  presence: await startServer({ name: "example-presence", config: "examples/presence/server.toml" }),
  authHttp: await startServer({
    name: "example-auth-http",
    config: exampleConfig("auth-http", [["http://127.0.0.1:8080", authService.url]]),
  }),
  webhook: await startServer({
    name: "example-webhook",
    config: exampleConfig("webhook", [["http://127.0.0.1:8080", webhook.url], ['# secret = "a long random string"', `secret = "${HOOK_SECRET}"`]]),
  }),
};
after(async () => {
  releaseSlow();
  await Promise.all(Object.values(servers).map((s) => s.stop()));
  authService.srv.closeAllConnections();
  webhook.srv.closeAllConnections();
  authService.srv.close();
  webhook.srv.close();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const suite = (name, server, fn) => describe(name, { skip: server.skip, timeout: 30000 }, () => {
  const ctx = {};
  beforeEach(() => { ctx.c = new Clients(server.url); });
  afterEach(() => { ctx.c.closeAll(); server.assertAlive(); });
  fn(ctx);
});

// ---------------------------------------------------------------- auth-jwt

// Must match examples/auth-jwt/server.toml.
const SECRET = "change-me: a long random string";
const ISSUER = "sockwasm-example";
const AUDIENCE = "chat";

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** Signs claims as a compact HS256 JWT (or with the given header and secret). */
function jwt(claims, { secret = SECRET, header = { alg: "HS256", typ: "JWT" } } = {}) {
  const signing = `${b64url(header)}.${b64url(claims)}`;
  return `${signing}.${createHmac("sha256", secret).update(signing).digest("base64url")}`;
}

const now = () => Math.floor(Date.now() / 1000);
const goodClaims = (extra = {}) => ({ sub: "ann", name: "Ann", iss: ISSUER, aud: AUDIENCE, exp: now() + 300, ...extra });

/** Connects with auth and resolves with the connect_error (fails when accepted). */
async function refused(c, auth) {
  const s = c.socket("/", { auth, transports: ["websocket"] });
  const accepted = once(s, "connect", 5000).then(() => { throw new Error("the connection was accepted"); });
  const [err] = await Promise.race([once(s, "connect_error", 5000), accepted]);
  assert.equal(err.message, "unauthorized");
  return err.data?.reason;
}

suite("auth-jwt", servers.authJwt, (ctx) => {
  test("a valid token is accepted and its claims become the socket data", async () => {
    const claims = goodClaims({ roles: ["admin"], n: 1.5 });
    const s = await ctx.c.connected("/", { auth: { token: jwt(claims) } });
    assert.deepEqual(await call(s, "whoami"), { id: s.id, claims });
  });

  test("over polling too, and without exp; aud may be an array", async () => {
    const claims = { sub: "bob", iss: ISSUER, aud: ["other", AUDIENCE] };
    const s = await ctx.c.connected("/", { auth: { token: jwt(claims) }, transports: ["polling"] });
    assert.deepEqual((await call(s, "whoami")).claims, claims);
  });

  test("a missing token is refused", async () => {
    assert.equal(await refused(ctx.c, undefined), "missing token");
    assert.equal(await refused(ctx.c, {}), "missing token");
    assert.equal(await refused(ctx.c, { token: "" }), "missing token");
    assert.equal(await refused(ctx.c, { token: 42 }), "missing token");
  });

  test("a bad signature is refused", async () => {
    assert.equal(await refused(ctx.c, { token: jwt(goodClaims(), { secret: "another secret" }) }), "bad signature");
    const [h, , sig] = jwt(goodClaims()).split(".");
    const tampered = `${h}.${b64url(goodClaims({ sub: "root" }))}.${sig}`;
    assert.equal(await refused(ctx.c, { token: tampered }), "bad signature");
  });

  test("an expired token is refused; one not yet valid too", async () => {
    assert.equal(await refused(ctx.c, { token: jwt(goodClaims({ exp: now() - 10 })) }), "expired");
    assert.equal(await refused(ctx.c, { token: jwt(goodClaims({ nbf: now() + 300 })) }), "not yet valid");
  });

  test("alg other than HS256, malformed tokens, wrong iss and aud are refused", async () => {
    const none = `${b64url({ alg: "none" })}.${b64url(goodClaims())}.`;
    assert.equal(await refused(ctx.c, { token: none }), "unsupported alg");
    assert.equal(await refused(ctx.c, { token: jwt(goodClaims(), { header: { alg: "HS512" } }) }), "unsupported alg");
    assert.equal(await refused(ctx.c, { token: "not-a-jwt" }), "malformed token");
    assert.equal(await refused(ctx.c, { token: "a.b.c.d" }), "malformed token");
    assert.equal(await refused(ctx.c, { token: jwt(["not", "an", "object"]) }), "malformed token");
    assert.equal(await refused(ctx.c, { token: jwt(goodClaims({ exp: "tomorrow" })) }), "malformed token");
    assert.equal(await refused(ctx.c, { token: jwt(goodClaims({ iss: "someone else" })) }), "bad issuer");
    const { iss, ...noIss } = goodClaims();
    assert.equal(await refused(ctx.c, { token: jwt(noIss) }), "bad issuer");
    assert.equal(await refused(ctx.c, { token: jwt(goodClaims({ aud: "other" })) }), "bad audience");
  });

  test("the plugin refuses to start without a secret", { skip: servers.authJwt.spawned ? false : "no binary" }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sockwasm-auth-jwt-"));
    const cfg = path.join(dir, "server.toml");
    fs.writeFileSync(cfg, [
      `plugins_dir = ${JSON.stringify(path.join(REPO_ROOT, "plugins", "auth-jwt"))}`,
      "[plugin.auth-jwt.config]",
      'issuer = "x"',
      "[[namespace]]",
      'name = "/"',
      'middleware = ["auth-jwt"]',
      'handler = "auth-jwt"',
    ].join("\n"));
    try {
      const { code, log } = await runToExit(["serve", "--config", cfg, "--listen", "127.0.0.1:0"], 20000);
      assert.notEqual(code, 0, `the server started:\n${log}`);
      assert.match(log, /secret is required/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --------------------------------------------------------------- ratelimit

// Must match examples/ratelimit/server.toml: 2 events per second, bursts of 3.
const RATE = 2;
const BURST = 3;

/** Sends n echo events at once; resolves with their acks in order. */
const echoes = (s, n, tag) => Promise.all(Array.from({ length: n }, (_, i) => call(s, "echo", `${tag}${i}`)));

const isLimited = (ack) => ack?.error === "rate limited" && Number.isInteger(ack.data?.retryAfterMs) && ack.data.retryAfterMs > 0;

suite("ratelimit", servers.ratelimit, (ctx) => {
  test("a burst passes, the next event is refused, and after a refill one passes again", async () => {
    const s = await ctx.c.connected("/", { transports: ["websocket"] });
    const burst = await echoes(s, BURST + 1, "a");
    assert.deepEqual(burst.slice(0, BURST), ["a0", "a1", "a2"]);
    assert.ok(isLimited(burst[BURST]), `expected a rate limited ack, got ${JSON.stringify(burst[BURST])}`);
    assert.ok(burst[BURST].data.retryAfterMs <= 1000 / RATE);

    await sleep(1000 / RATE + 100); // one token and a bit
    const [ok, limited] = await echoes(s, 2, "b");
    assert.equal(ok, "b0");
    assert.ok(isLimited(limited), `expected a rate limited ack, got ${JSON.stringify(limited)}`);
  });

  test("the bucket refills up to the burst, not beyond", async () => {
    const s = await ctx.c.connected("/", { transports: ["polling"] });
    await echoes(s, BURST, "x");
    await sleep((BURST + 2) * (1000 / RATE) + 100); // more than enough for a full bucket
    const acks = await echoes(s, BURST + 1, "y");
    assert.deepEqual(acks.slice(0, BURST), ["y0", "y1", "y2"]);
    assert.ok(isLimited(acks[BURST]));
  });

  test("each socket has its own bucket", async () => {
    const a = await ctx.c.connected("/", { transports: ["websocket"] });
    const b = await ctx.c.connected("/", { transports: ["websocket"] });
    assert.ok(isLimited((await echoes(a, BURST + 1, "a"))[BURST]));
    assert.deepEqual(await echoes(b, BURST, "b"), ["b0", "b1", "b2"]);
  });

  test("a refused event without an ack never reaches its handler", async () => {
    const s = await ctx.c.connected("/", { transports: ["websocket"] });
    const back = collect(s, "echo-back");
    for (let i = 0; i < BURST + 2; i++) s.emit("echo", i);
    await until(() => back.length >= BURST, 5000, "the allowed echo-backs");
    await sleep(300);
    assert.deepEqual(back, [[0], [1], [2]]);
  });
});

// ---------------------------------------------------------------- presence

const uniqueRoom = (tag = "room") => `${tag}-${randomUUID().slice(0, 8)}`;
const byName = (members) => [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));

/** Fails if anything is added to `list` within `ms`. */
async function expectNothing(list, ms = 300, label = "event") {
  const before = list.length;
  await sleep(ms);
  assert.equal(list.length, before, `unexpected ${label}: ${JSON.stringify(list.slice(before))}`);
}

suite("presence", servers.presence, (ctx) => {
  test("members join, see each other, and list the room sorted", async () => {
    const room = uniqueRoom();
    const [ann, bob, cat] = await Promise.all([
      ctx.c.connected("/", { transports: ["websocket"] }),
      ctx.c.connected("/", { transports: ["polling"] }),
      ctx.c.connected("/", {}),
    ]);
    const annJoined = collect(ann, "presence:joined");
    const bobJoined = collect(bob, "presence:joined");
    const catJoined = collect(cat, "presence:joined");

    assert.deepEqual(await call(cat, "presence:join", { room, name: "cat" }),
      { ok: true, room, members: [{ id: cat.id, name: "cat" }] });
    assert.deepEqual(await call(ann, "presence:join", { room, name: "ann" }),
      { ok: true, room, members: [{ id: ann.id, name: "ann" }, { id: cat.id, name: "cat" }] });
    await until(() => catJoined.length === 1, 5000, "cat sees ann");
    assert.deepEqual(catJoined[0], [{ room, id: ann.id, name: "ann" }]);

    const joined = await call(bob, "presence:join", { room, name: "bob" });
    const all = byName([{ id: ann.id, name: "ann" }, { id: bob.id, name: "bob" }, { id: cat.id, name: "cat" }]);
    assert.deepEqual(joined, { ok: true, room, members: all });
    await until(() => annJoined.length === 1 && catJoined.length === 2, 5000, "ann and cat see bob");
    assert.deepEqual(annJoined[0], [{ room, id: bob.id, name: "bob" }]);
    assert.deepEqual(catJoined[1], [{ room, id: bob.id, name: "bob" }]);
    await expectNothing(bobJoined, 200, "presence:joined to the sender");

    for (const s of [ann, bob, cat]) assert.deepEqual(await call(s, "presence:list", { room }), { ok: true, room, members: all });
    // Anyone may list a room, member or not.
    const outsider = await ctx.c.connected("/", {});
    assert.deepEqual(await call(outsider, "presence:list", { room }), { ok: true, room, members: all });

    // Joining again under the same name changes nothing and tells no one.
    assert.deepEqual(await call(ann, "presence:join", { room, name: "ann" }), { ok: true, room, members: all });
    await expectNothing(catJoined, 200, "presence:joined for a repeated join");
  });

  test("leave and disconnect remove the member and tell the rest", async () => {
    const room = uniqueRoom();
    const other = uniqueRoom("other");
    const [ann, bob, cat] = await Promise.all([1, 2, 3].map(() => ctx.c.connected("/", { transports: ["websocket"] })));
    await call(ann, "presence:join", { room, name: "ann" });
    await call(bob, "presence:join", { room, name: "bob" });
    await call(cat, "presence:join", { room, name: "cat" });
    await call(bob, "presence:join", { room: other, name: "bobby" });
    await call(cat, "presence:join", { room: other, name: "cat" });
    const annLeft = collect(ann, "presence:left");
    const catLeft = collect(cat, "presence:left");

    assert.deepEqual(await call(ann, "presence:leave", { room }), { ok: true, room });
    await until(() => catLeft.length === 1, 5000, "cat sees ann leave");
    assert.deepEqual(catLeft[0], [{ room, id: ann.id, name: "ann" }]);
    assert.deepEqual((await call(cat, "presence:list", { room })).members,
      [{ id: bob.id, name: "bob" }, { id: cat.id, name: "cat" }]);

    const bobId = bob.id; // the client forgets it on disconnect
    bob.disconnect();
    await until(() => catLeft.length === 3, 5000, "cat sees bob leave both rooms");
    assert.deepEqual(catLeft.slice(1).map(([e]) => e).sort((a, b) => a.room.localeCompare(b.room)),
      [{ room: other, id: bobId, name: "bobby" }, { room, id: bobId, name: "bob" }].sort((a, b) => a.room.localeCompare(b.room)));
    await expectNothing(annLeft, 200, "presence:left to a socket that left the room");
    assert.deepEqual((await call(ann, "presence:list", { room })).members, [{ id: cat.id, name: "cat" }]);
    assert.deepEqual((await call(ann, "presence:list", { room: other })).members, [{ id: cat.id, name: "cat" }]);

    // A transport close (no namespace disconnect) cleans up too.
    cat.io.engine.close();
    for (let i = 0; ; i++) {
      const { members } = await call(ann, "presence:list", { room });
      if (members.length === 0) break;
      assert.ok(i < 100, `cat still listed: ${JSON.stringify(members)}`);
      await sleep(50);
    }
    assert.deepEqual(await call(ann, "presence:list", { room: other }), { ok: true, room: other, members: [] });
  });

  test("many members joining at once are all recorded", async () => {
    const room = uniqueRoom("crowd");
    const socks = await Promise.all(Array.from({ length: 12 }, () => ctx.c.connected("/", { transports: ["websocket"] })));
    await Promise.all(socks.map((s, i) => call(s, "presence:join", { room, name: `m${String(i).padStart(2, "0")}` })));
    const { members } = await call(socks[0], "presence:list", { room });
    assert.deepEqual(members, socks.map((s, i) => ({ id: s.id, name: `m${String(i).padStart(2, "0")}` })));
  });

  test("bad requests", async () => {
    const s = await ctx.c.connected("/", {});
    const bad = { ok: false, error: "bad request" };
    assert.deepEqual(await call(s, "presence:join", { room: "r" }), bad);
    assert.deepEqual(await call(s, "presence:join", { name: "n" }), bad);
    assert.deepEqual(await call(s, "presence:join", { room: "", name: "n" }), bad);
    assert.deepEqual(await call(s, "presence:join", { room: "r", name: "x".repeat(65) }), bad);
    assert.deepEqual(await call(s, "presence:list", "r"), bad);
    assert.deepEqual(await call(s, "presence:leave", {}), bad);
  });
});

// --------------------------------------------------------------- auth-http

suite("auth-http", servers.authHttp, (ctx) => {
  test("a token the auth service accepts: authenticated, the user kept, the chat usable", async () => {
    const s = ctx.c.socket("/", { auth: { token: "let-me-in" }, transports: ["websocket"] });
    const authenticated = once(s, "authenticated");
    const [user] = await authenticated;
    assert.deepEqual(user, { sub: "ann", name: "Ann" });
    assert.deepEqual(await call(s, "whoami"), { id: s.id, user });
    assert.equal(await call(s, "echo", "hi"), "hi");
  });

  test("a token it refuses: unauthorized, then disconnected", async () => {
    const s = ctx.c.socket("/", { auth: { token: "forged" }, transports: ["polling"] });
    const unauthorized = once(s, "unauthorized");
    const disconnected = once(s, "disconnect");
    assert.deepEqual((await unauthorized)[0], { reason: "rejected" });
    assert.equal((await disconnected)[0], "io server disconnect");
  });

  test("the auth service failing: unauthorized, unavailable", async () => {
    const s = ctx.c.socket("/", { auth: { token: "boom" }, transports: ["websocket"] });
    assert.deepEqual((await once(s, "unauthorized"))[0], { reason: "auth service unavailable" });
  });

  test("no token: refused at once", async () => {
    const s = ctx.c.socket("/", { transports: ["websocket"] });
    const [err] = await once(s, "connect_error");
    assert.equal(err.message, "unauthorized");
    assert.deepEqual(err.data, { reason: "missing token" });
  });

  test("events before the answer are refused; after it, they pass", async () => {
    const s = ctx.c.socket("/", { auth: { token: "slow" }, transports: ["websocket"] });
    const authenticated = once(s, "authenticated", 10000);
    await once(s, "connect");
    assert.deepEqual(await call(s, "echo", "early"), { error: "not authenticated" });
    releaseSlow();
    assert.deepEqual((await authenticated)[0], { sub: "slow" });
    assert.equal(await call(s, "echo", "late"), "late");
  });
});

// ----------------------------------------------------------------- webhook

suite("webhook", servers.webhook, (ctx) => {
  test("a message reaches the room and the webhook, signed; the ack says it was delivered", async () => {
    const room = `hook-${randomUUID().slice(0, 8)}`;
    const [ann, bob] = await Promise.all([ctx.c.connected("/", { transports: ["websocket"] }), ctx.c.connected("/", {})]);
    for (const s of [ann, bob]) assert.equal((await call(s, "join", { room })).ok, true);
    const said = once(bob, "said");
    assert.deepEqual(await call(ann, "say", { room, text: "hello" }), { ok: true, delivered: true });
    assert.deepEqual((await said)[0], { room, from: ann.id, text: "hello" });
    const post = hookPosts.find((p) => p.room === room);
    assert.ok(post, "no post for the room");
    assert.equal(post.path, "/hooks/chat");
    assert.equal(post.signed, true);
    assert.equal(post.from, ann.id);
    assert.equal(post.text, "hello");
    assert.ok(Math.abs(post.at - Date.now()) < 60000, `at = ${post.at}`);
  });

  test("the webhook failing: the message still reaches the room; the ack says why", async () => {
    const room = `hook-${randomUUID().slice(0, 8)}`;
    const [ann, bob] = await Promise.all([ctx.c.connected("/", {}), ctx.c.connected("/", {})]);
    for (const s of [ann, bob]) await call(s, "join", { room });
    const said = once(bob, "said");
    assert.deepEqual(await call(ann, "say", { room, text: "fail" }), { ok: true, delivered: false, error: "status 500" });
    assert.equal((await said)[0].text, "fail");
  });
});

/** Runs the server binary until it exits (killed after ms); resolves with its exit code and output. */
function runToExit(args, ms) {
  const bin = process.env.SOCKWASM_BIN ? path.resolve(REPO_ROOT, process.env.SOCKWASM_BIN) : path.join(REPO_ROOT, "bin", "sockwasm");
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (d) => { log += d; });
    child.stderr.on("data", (d) => { log += d; });
    const t = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("exit", (code) => { clearTimeout(t); resolve({ code, log }); });
  });
}
