// Browser tests of fast start (memory snapshots in Cache Storage and the
// pre-started spare interpreter). One browser context = one browser
// profile: a second page in it is a return visit.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, output, setCode, startServer, waitReady, waitState } from "./helpers.mjs";

let server, browser, context;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

async function visit() {
  const page = await context.newPage();
  await page.goto(server.url + "/");
  await waitReady(page);
  return page;
}

const startPath = (page) => page.getByRole("status").getAttribute("data-path");

async function run(page, code) {
  await setCode(page, code);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const state = await waitState(page, ["done", "error", "stopped"]);
  return { state, text: await output(page).textContent() };
}

/** The snapshot entries in this profile's Cache Storage, by URL. */
async function snapshotKeys(page) {
  return page.evaluate(async () => {
    const cache = await caches.open("pyplay-snapshots");
    return (await cache.keys()).map((r) => r.url);
  });
}

/** Waits until this build's snapshot is stored (saving runs in the background). */
async function waitForSnapshot(page) {
  const build = await page.evaluate(() => window.pyplay.cfg.build);
  for (let i = 0; i < 150; i++) {
    if ((await snapshotKeys(page)).some((u) => u.endsWith("/" + build))) return;
    await page.waitForTimeout(200);
  }
  throw new Error("no snapshot was saved within 30 s");
}

test("first visit starts normally; the spare saves a snapshot keyed by version and build", async () => {
  const page = await visit();
  assert.equal(await startPath(page), "normal");
  assert.match(await page.getByRole("status").textContent(), /being made in the background/);
  await waitForSnapshot(page);
  const build = await page.evaluate(() => window.pyplay.cfg.build);
  const keys = await snapshotKeys(page);
  assert.equal(keys.length, 1);
  assert.match(keys[0], new RegExp(`/__pyplay/snapshot/pyodide/314\\.0\\.7/${build}$`));
  await page.close();
});

test("a return visit uses the snapshot and behaves like a normal start", async () => {
  const page = await visit();
  assert.equal(await startPath(page), "snapshot");
  assert.match(await page.getByRole("status").textContent(), /fast start from this browser's snapshot/);

  assert.deepEqual(await run(page, "print('hello')\n"), { state: "done", text: "hello\n" });
  const tb = await run(page, "def f():\n    raise KeyError('k')\nf()\n");
  assert.equal(tb.state, "error");
  assert.match(tb.text, /File "main\.py", line 3, in <module>[\s\S]*File "main\.py", line 2, in f[\s\S]*KeyError: 'k'/);
  // A clean namespace per run, and nothing of the snapshot run leaks.
  assert.equal((await run(page, "secret = 1\n")).state, "done");
  assert.match((await run(page, "print(secret)\n")).text, /NameError/);
  // input()
  await setCode(page, "print('got', input('? '))\n");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const field = page.getByRole("textbox", { name: "?" });
  await field.fill("yes");
  await field.press("Enter");
  await waitState(page, ["done"]);
  assert.equal(await output(page).textContent(), "? yes\ngot yes\n");
  // Stop interrupts in place.
  await setCode(page, "while True: pass\n");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await waitState(page, ["running"]);
  await page.getByRole("button", { name: "Stop" }).click();
  assert.equal(await waitState(page, ["stopped"], 5000), "stopped");
  assert.match(await page.getByRole("status").textContent(), /KeyboardInterrupt/);
  await page.close();
});

test("Restart switches to the pre-started spare interpreter", async () => {
  const page = await visit();
  assert.equal((await run(page, "import sys\nsys.flag = 1\n")).state, "done");
  // The spare boots a moment after start-up.
  await page.waitForFunction(() => window.pyplay.runner.spare?.ready != null, null, { timeout: 30000 });
  await page.getByRole("button", { name: "Restart" }).click();
  await waitReady(page);
  assert.match(await page.getByRole("status").textContent(), /fresh interpreter \(pre-started/);
  assert.equal((await run(page, "import sys\nprint(hasattr(sys, 'flag'))\n")).text, "False\n");
  await page.close();
});

test("a corrupted snapshot falls back to a normal start and is repaired", async () => {
  let page = await visit();
  const key = (await snapshotKeys(page))[0];
  await page.evaluate(async (k) => {
    const cache = await caches.open("pyplay-snapshots");
    const bytes = new Uint8Array(await (await cache.match(k)).arrayBuffer());
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] ^= 0xff; // flip bytes throughout
    await cache.put(k, new Response(bytes, { headers: { "x-pyplay-length": String(bytes.length) } }));
  }, key);
  await page.close();

  page = await visit();
  assert.equal(await startPath(page), "repaired");
  assert.match(await page.getByRole("status").textContent(), /unusable and is being replaced/);
  assert.deepEqual(await run(page, "print(2 + 2)\n"), { state: "done", text: "4\n" });
  await waitForSnapshot(page);
  await page.close();

  page = await visit();
  assert.equal(await startPath(page), "snapshot", "the repaired snapshot is used next time");
  await page.close();
});

test("a truncated snapshot is refused too", async () => {
  let page = await visit();
  const key = (await snapshotKeys(page))[0];
  await page.evaluate(async (k) => {
    const cache = await caches.open("pyplay-snapshots");
    const bytes = new Uint8Array(await (await cache.match(k)).arrayBuffer());
    await cache.put(k, new Response(bytes.slice(0, 1000), { headers: { "x-pyplay-length": String(bytes.length) } }));
  }, key);
  await page.close();
  page = await visit();
  assert.equal(await startPath(page), "repaired");
  assert.deepEqual(await run(page, "print('ok')\n"), { state: "done", text: "ok\n" });
  await page.close();
});

test("another build's snapshot is never used, and is removed", async () => {
  let page = await visit();
  await waitForSnapshot(page);
  // Move the snapshot to another build's key, as if it came from an older build.
  const oldKey = await page.evaluate(async () => {
    const cache = await caches.open("pyplay-snapshots");
    const [req] = await cache.keys();
    const res = await cache.match(req);
    const old = req.url.replace(/\/[^/]+$/, "/0ldbuild0000");
    await cache.put(old, res);
    await cache.delete(req);
    return old;
  });
  await page.close();
  page = await visit();
  assert.equal(await startPath(page), "normal", "no snapshot for this build: a normal start");
  await waitForSnapshot(page);
  const keys = await snapshotKeys(page);
  assert.ok(!keys.includes(oldKey), "the old build's snapshot was deleted");
  assert.equal(keys.length, 1);
  await page.close();
});

test("the setting turns the fast path off, and clearing the cache removes the snapshot", async () => {
  let page = await visit();
  await page.getByText("Settings").click();
  await page.getByRole("checkbox", { name: /Fast start/ }).uncheck();
  await page.getByRole("button", { name: "Clear cached runtime" }).click();
  await page.getByText("Cleared the cached runtime snapshot").waitFor();
  assert.deepEqual(await snapshotKeys(page), []);
  await page.close();
  page = await visit();
  assert.equal(await startPath(page), "normal");
  assert.deepEqual(await snapshotKeys(page), []);
  await page.getByText("Settings").click();
  await page.getByRole("checkbox", { name: /Fast start/ }).check();
  await page.close();
});

test("MicroPython starts and runs with fast start on (it needs no snapshot)", async () => {
  const page = await context.newPage();
  await page.goto(server.url + "/");
  await page.getByRole("combobox", { name: "Runtime" }).selectOption({ label: "MicroPython" });
  await waitReady(page);
  assert.deepEqual(await run(page, "print('mp')\n"), { state: "done", text: "mp\n" });
  await page.close();
});
