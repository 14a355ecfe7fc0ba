// The chat example's web page in headless Chromium: two pages join the same
// room, each sends a message and sees the other's; closing one page shows a
// "left" notice on the other.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { IS_CI, startServer } from "./lib/harness.mjs";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
// Screenshot of the first page after the exchange (for a look by eye / CI artifacts).
const SCREENSHOT = process.env.CHAT_SCREENSHOT || path.join(os.tmpdir(), "sockwasm-chat-page.png");

let skip = false;
if (!fs.existsSync(CHROMIUM_PATH)) {
  const reason = `chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`;
  if (IS_CI) throw new Error(reason);
  skip = reason;
}
const server = skip ? { skip, stop: async () => {}, assertAlive: () => {} } : await startServer({ name: "browser" });
if (server.skip) skip = server.skip;
after(() => server.stop());

describe("chat page in Chromium", { skip, timeout: 60000 }, () => {
  let browser;
  const problems = [];

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
  });
  after(async () => { await browser?.close(); });

  async function openPage(label) {
    const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    page.on("pageerror", (err) => problems.push(`${label}: page error: ${err.message}`));
    page.on("console", (msg) => { if (msg.type() === "error") problems.push(`${label}: console error: ${msg.text()} (${msg.location().url})`); });
    page.on("requestfailed", (req) => {
      // long-poll requests are legitimately aborted when the transport upgrades or the page closes
      if (!req.url().includes("/socket.io/")) problems.push(`${label}: request failed: ${req.url()}`);
    });
    const res = await page.goto(`${server.url}/index.html`);
    assert.equal(res.status(), 200);
    await page.locator('#status[data-state="online"]').waitFor();
    return { page, context };
  }

  async function joinAs(page, name, room) {
    await page.fill("#name", name);
    await page.fill("#room", room);
    await page.click("#join");
    await page.locator('body[data-view="chat"]').waitFor();
    assert.equal(await page.textContent("#room-name"), room);
  }

  async function say(page, text) {
    await page.fill("#text", text);
    await page.press("#text", "Enter");
    // own message shown, then confirmed by the server's ack
    const mine = page.locator("#messages li.msg.mine", { hasText: text });
    await mine.waitFor();
    await page.locator("#messages li.msg.mine:not(.pending):not(.failed)", { hasText: text }).waitFor();
  }

  test("static files are served at the root, including the vendored client", async () => {
    for (const [p, type] of [["/index.html", "text/html"], ["/app.js", "javascript"], ["/style.css", "text/css"], ["/vendor/socket.io.min.js", "javascript"]]) {
      const res = await fetch(server.url + p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get("content-type") || "", new RegExp(type), `${p} content-type`);
      await res.arrayBuffer();
    }
  });

  test("long-polling responses of 1 KiB and more arrive gzip-compressed and intact", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    const polls = [];
    page.on("response", (res) => {
      if (res.request().method() === "GET" && res.url().includes("/socket.io/") && res.url().includes("sid=")) polls.push(res);
    });
    await page.goto(`${server.url}/index.html`);
    // A socket of its own on polling only; the page's client script is loaded.
    const result = await page.evaluate(async () => {
      const text = Array.from({ length: 600 }, (_, i) => `{"id":${i},"text":"héllo ✓"}`).join(",");
      const s = io({ transports: ["polling"], forceNew: true, reconnection: false });
      try {
        const back = await s.timeout(5000).emitWithAck("echo", text);
        return { ok: back === text, size: text.length };
      } finally {
        s.disconnect();
      }
    });
    assert.ok(result.ok, "echoed text differs");
    assert.ok(result.size > 8192);
    const encodings = await Promise.all(polls.map(async (res) => {
      const h = await res.allHeaders();
      return { enc: h["content-encoding"] || "", len: Number(h["content-length"]), body: (await res.body()).length };
    }));
    // Chromium sends Accept-Encoding: gzip, deflate, br, zstd: gzip it is.
    const big = encodings.filter((e) => e.body > 8192);
    assert.ok(big.length >= 1, `no large polling response among ${JSON.stringify(encodings)}`);
    for (const e of big) {
      assert.equal(e.enc, "gzip");
      assert.ok(e.len < e.body / 2, `compressed to ${e.len} bytes from ${e.body}`);
    }
    // Small responses (the open packet, pings) go uncompressed.
    assert.ok(encodings.some((e) => e.body < 1024 && e.enc === ""));
    await context.close();
  });

  test("two pages join the same room and see each other's messages", async () => {
    const room = `room-${randomUUID().slice(0, 6)}`;
    const alice = await openPage("alice");
    const bob = await openPage("bob");

    await joinAs(alice.page, "Alice", room);
    await joinAs(bob.page, "Bob", room);
    // bob was told that one other person is in the room
    await bob.page.locator("#messages li.notice", { hasText: "1 other person" }).waitFor();

    await say(alice.page, "Hello Bob, it's Alice ✓");
    const atBob = bob.page.locator("#messages li.msg:not(.mine)", { hasText: "Hello Bob, it's Alice ✓" });
    await atBob.waitFor();
    assert.equal(await atBob.locator(".who").textContent(), "Alice");

    await say(bob.page, "Hi Alice! <b>not bold</b>");
    const atAlice = alice.page.locator("#messages li.msg:not(.mine)", { hasText: "Hi Alice! <b>not bold</b>" });
    await atAlice.waitFor();
    assert.equal(await atAlice.locator(".who").textContent(), "Bob");
    assert.equal(await atAlice.locator(".body b").count(), 0, "message text must not be interpreted as HTML");

    // a sender never receives its own message back
    await alice.page.waitForTimeout(300);
    assert.equal(await alice.page.locator("#messages li.msg").count(), 2);
    assert.equal(await bob.page.locator("#messages li.msg").count(), 2);

    await alice.page.screenshot({ path: SCREENSHOT });

    // bob closes the tab: alice is told
    await bob.context.close();
    const notice = alice.page.locator("#messages li.notice.left", { hasText: "Bob left" });
    await notice.waitFor();
    assert.match(await notice.textContent(), /Bob left \((transport close|transport error)\)/);

    await alice.context.close();
    assert.deepEqual(problems, []);
    server.assertAlive();
  });
});
