// The official Socket.IO Admin UI (@socket.io/admin-ui 0.5.1, its built
// files served by sockwasm from [admin] ui_dir) in headless Chromium: it
// logs in with basic credentials checked against a bcryptjs hash, lists a
// connected socket.io-client with its rooms, and disconnects it.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import bcrypt from "bcryptjs";
import { io } from "socket.io-client";
import { chromium } from "playwright-core";
import { IS_CI, REPO_ROOT, call, once, startServer, waitConnect } from "./lib/harness.mjs";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const UI_DIR = path.join(REPO_ROOT, "test", "interop", "node_modules", "@socket.io", "admin-ui", "ui", "dist");
const SCREENSHOT = process.env.ADMIN_SCREENSHOT || path.join(os.tmpdir(), "sockwasm-admin-ui.png");
const PASSWORD = "correct horse battery staple";

let skip = false;
if (!fs.existsSync(CHROMIUM_PATH)) {
  const reason = `chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`;
  if (IS_CI) throw new Error(reason);
  skip = reason;
}
if (!fs.existsSync(path.join(UI_DIR, "index.html"))) throw new Error(`no Admin UI at ${UI_DIR}: run npm ci in test/interop`);

// The chat demo's namespace, plus the admin namespace with the UI.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sockwasm-admin-"));
const config = path.join(dir, "server.toml");
fs.writeFileSync(config, `
listen = "127.0.0.1:0"
plugins_dir = ${JSON.stringify(path.join(REPO_ROOT, "plugins"))}
watch = false

[[namespace]]
name = "/"
middleware = ["chat"]
handler = "chat"

[admin]
enabled = true
username = "ops"
password_hash = ${JSON.stringify(bcrypt.hashSync(PASSWORD, 10))}
ui_dir = ${JSON.stringify(UI_DIR)}
`);
const server = skip ? { skip, stop: async () => {}, assertAlive: () => {} } : await startServer({ name: "admin", config });
if (server.skip) skip = server.skip;
after(async () => { await server.stop(); fs.rmSync(dir, { recursive: true, force: true }); });

describe("Admin UI in Chromium", { skip, timeout: 90000 }, () => {
  let browser;
  const problems = [];

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
  });
  after(async () => { await browser?.close(); });

  test("the UI lists a client, its rooms, and disconnects it", async () => {
    const client = io(server.url, { transports: ["websocket"], reconnection: false });
    await waitConnect(client);
    assert.deepEqual(await call(client, "join", { room: "ops-room" }), { ok: true, room: "ops-room", size: 1 });

    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("requestfailed", (req) => {
      // the UI's web fonts and icons come from CDNs this machine cannot reach
      const u = req.url();
      if (u.startsWith(server.url) && !u.includes("/socket.io/")) problems.push(`request failed: ${u}`);
    });

    const res = await page.goto(`${server.url}/admin/`);
    assert.equal(res.status(), 200);

    // A wrong password is refused with the package's message.
    await page.getByLabel("Server URL").fill(server.url);
    await page.getByLabel("Username").fill("ops");
    await page.getByLabel("Password").fill("wrong");
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByText("Invalid credentials").waitFor();

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByRole("dialog").waitFor({ state: "hidden" });

    // The sockets page lists the client; its page shows its rooms.
    await page.goto(`${server.url}/admin/#/sockets/`);
    const row = page.locator("tr", { hasText: client.id });
    await row.waitFor();
    await row.click();
    await page.waitForURL(/#\/n\/.*\/sockets\//);
    await page.locator("td", { hasText: /^ops-room$/ }).waitFor();
    await page.screenshot({ path: SCREENSHOT });

    // "Disconnect this Socket instance": the client hears it.
    const gone = once(client, "disconnect", 10000);
    await page.locator("button:has(.mdi-logout)").nth(1).click();
    const [reason] = await gone;
    assert.equal(reason, "io server disconnect");
    // The UI shows the socket disconnected.
    await page.getByText("disconnected").first().waitFor();

    await context.close();
    client.close();
    assert.deepEqual(problems, []);
    server.assertAlive();
  });
});
