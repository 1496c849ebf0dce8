// Browser tests of self-hosted Pyodide packages (issue 14): the test builds a
// distribution of its own (two pure-Python wheels, the second depending on
// the first, and a lock file with their sha256s), starts the real binary
// with -packages DIR, and runs programs that import them in real Chromium.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { BINARY, launchBrowser, openPage, output, setCode, startServer, waitReady, waitState } from "./helpers.mjs";
import { A, B, makeDistribution } from "./packages-dist.mjs";
import { snapshotSaved } from "./startup.mjs";

let server, browser, dist;
let context, page, requests;

async function run(code) {
  await setCode(page, code);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const state = await waitState(page, ["done", "error", "stopped"], 120000);
  return { state, text: await output(page).textContent() };
}

/** Records every text the status line shows (window.__statuses). */
async function watchStatus() {
  await page.evaluate(() => {
    const el = document.querySelector('[role="status"]');
    window.__statuses = [];
    new MutationObserver(() => window.__statuses.push(el.textContent)).observe(el, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

async function openEditor(url) {
  context = await browser.newContext();
  ({ page, requests } = await openPage(context, url + "/"));
  await waitReady(page, 120000);
}

before(async () => {
  dist = makeDistribution();
  server = await startServer(["-packages", dist]);
  browser = await launchBrowser();
});

afterEach(async () => {
  await context?.close();
  context = null;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
  rmSync(dist, { recursive: true, force: true });
});

describe("packages from -packages DIR", () => {
  test("importing the dependent package loads both, from the server's own origin only", async () => {
    assert.match(server.log(), /packages: serving a Pyodide distribution.*present=2/);
    await openEditor(server.url);
    await watchStatus();
    const { state, text } = await run("import pyplaydemo_b\nprint(pyplaydemo_b.f())\nimport sys\nprint('pyplaydemo_a' in sys.modules)\n");
    // The status line said what was loading.
    const statuses = await page.evaluate(() => window.__statuses);
    assert.ok(statuses.some((s) => /^Loading pyplaydemo_a, pyplaydemo_b/.test(s)), statuses.join("\n"));
    assert.equal(state, "done", text);
    assert.equal(text, "b uses hello from a\nTrue\n");
    // Both wheels came from the server, under the distribution's path.
    const wheels = requests.filter((u) => u.endsWith(".whl"));
    assert.equal(wheels.length, 2, wheels.join("\n"));
    for (const u of wheels) assert.match(u, /\/runtime\/pyodide-packages\/314\.0\.7\/[0-9a-f]{12}\/pyplaydemo_[ab]-1\.0-py3-none-any\.whl$/);
    // No request left the origin (the preview origin is the same host).
    const host = new URL(server.url).host;
    for (const u of requests) {
      if (u.startsWith("data:") || u.startsWith("blob:")) continue;
      assert.equal(new URL(u).host, host, `request off the origin: ${u}`);
    }
    // A second run does not fetch them again, and standard-library programs load nothing.
    const before = requests.length;
    assert.equal((await run("import pyplaydemo_b, json\nprint(pyplaydemo_b.f())\n")).text, "b uses hello from a\n");
    assert.equal((await run("import json, collections\nprint(json.dumps([1]))\n")).text, "[1]\n");
    assert.deepEqual(requests.slice(before).filter((u) => u.endsWith(".whl")), []);
  });

  test("Stop while packages load leaves the page usable", async () => {
    await openEditor(server.url);
    // Hold the wheels back so that the load is still under way when Stop comes.
    let release;
    const held = new Promise((r) => (release = r));
    await context.route("**/*.whl", async (route) => {
      await held;
      await route.continue();
    });
    await setCode(page, "import pyplaydemo_b\nprint(pyplaydemo_b.f())\n");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.waitForFunction(() => /^Loading pyplaydemo/.test(document.querySelector('[role="status"]').textContent), null, {
      timeout: 60000,
    });
    await page.getByRole("button", { name: "Stop" }).click();
    assert.equal(await waitState(page, ["stopped"], 30000), "stopped");
    assert.match(await output(page).textContent(), /KeyboardInterrupt: stopped while loading pyplaydemo_a, pyplaydemo_b/);
    release();
    assert.equal((await run("print(6 * 7)\n")).text, "42\n");
    assert.equal((await run("import pyplaydemo_b\nprint(pyplaydemo_b.f())\n")).text, "b uses hello from a\n");
  });

  test("the fast-start snapshot stays pristine: packages load after a restore", async () => {
    await openEditor(server.url);
    assert.equal((await run("import pyplaydemo_b\nprint(pyplaydemo_b.f())\n")).text, "b uses hello from a\n");
    await snapshotSaved(page); // by the spare interpreter, in the background
    const second = await context.newPage();
    await second.goto(server.url + "/");
    page = second;
    await waitReady(page, 120000);
    assert.equal(await page.getByRole("status").getAttribute("data-path"), "snapshot");
    const probe = "import sys\nprint(sorted(m for m in sys.modules if m.startswith('pyplaydemo')))\n";
    assert.equal((await run(probe)).text, "[]\n");
    assert.equal((await run("import pyplaydemo_b\nprint(pyplaydemo_b.f())\n")).text, "b uses hello from a\n");
  });

  test("a module no package provides names -packages", async () => {
    await openEditor(server.url);
    const { state, text } = await run("import nosuchmodule\n");
    assert.equal(state, "error");
    assert.match(text, /ModuleNotFoundError: No module named 'nosuchmodule'/);
    assert.match(text, /-packages/);
  });

  test("a wheel removed after start gives a clear error in the Output", async () => {
    const gone = makeDistribution();
    const srv = await startServer(["-packages", gone]);
    try {
      unlinkSync(join(gone, A)); // listed, verified at start, then gone
      await openEditor(srv.url);
      const { state, text } = await run("import pyplaydemo_b\nprint(pyplaydemo_b.f())\n");
      assert.equal(state, "error", text);
      assert.match(text, /could not load the package/);
      assert.match(text, /pyplaydemo_a/);
      assert.match(text, /-packages/);
      assert.doesNotMatch(text, /b uses/);
      // The page stays usable, and importing again says the same.
      assert.equal((await run("print(6 * 7)\n")).text, "42\n");
      const again = await run("import pyplaydemo_b\n");
      assert.equal(again.state, "error");
      assert.match(again.text, /could not load the package pyplaydemo_a/);
    } finally {
      await srv.stop();
      srv.cleanup();
      rmSync(gone, { recursive: true, force: true });
    }
  });

  test("a wheel absent at start is allowed, and its import fails clearly", async () => {
    const partial = makeDistribution();
    unlinkSync(join(partial, A));
    const srv = await startServer(["-packages", partial]);
    try {
      assert.match(srv.log(), /present=1/);
      await openEditor(srv.url);
      const { state, text } = await run("import pyplaydemo_b\n");
      assert.equal(state, "error", text);
      assert.match(text, /could not load the package pyplaydemo_a \(pyplaydemo_a-1\.0-py3-none-any\.whl: HTTP 404\), which pyplaydemo_b needs/);
      assert.match(text, /-packages/);
    } finally {
      await srv.stop();
      srv.cleanup();
      rmSync(partial, { recursive: true, force: true });
    }
  });
});

describe("bad distributions", () => {
  test("a wrong sha256 refuses to start, naming the file", async () => {
    const bad = makeDistribution({ badShaOf: B });
    try {
      const dir = mkdtempSync(join(tmpdir(), "pyplay-e2e-"));
      const proc = spawn(BINARY, ["serve", "-addr", "127.0.0.1:0", "-db", `sqlite:${join(dir, "db.sqlite")}`, "-packages", bad], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let log = "";
      proc.stderr.on("data", (d) => (log += d));
      const code = await new Promise((resolve) => proc.on("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
      assert.notEqual(code, 0);
      assert.match(log, new RegExp(`${B.replace(/\./g, "\\.")} does not match the lock file`));
      assert.doesNotMatch(log, /msg=serving/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
