// Browser tests of the reference suite (issue 15): /bench/suite runs the
// workloads on Pyodide, as PyScript pages and on Go and Rust compiled to
// WebAssembly, in turns,
// with a progress bar, and stores every (workload, runtime) as an ordinary
// run of the workload's snippet; the table then has those cells. Stop ends
// a suite midway; a kernel whose result is wrong fails its run (the
// test-only ?badcheck= replaces a workload's expected result). Real binary,
// real Chromium, real Pyodide and kernels; few samples keep it short.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openPage, withServerAndBrowser } from "./helpers.mjs";

let browser;
let server;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

async function api(path) {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

/** Opens /bench/suite with the query, ready to run. */
async function suitePage(query) {
  const context = await browser.newContext();
  const { page, errors } = await openPage(context, `${server.url}/bench/suite?${query}`);
  await page.waitForFunction(() => document.getElementById("suite-status")?.dataset.state === "ready", null, { timeout: 30000 });
  return { context, page, errors };
}

const state = (page) => page.evaluate(() => document.getElementById("suite-status").dataset.state);
const ended = (page, timeout) =>
  page.waitForFunction(() => ["finished", "stopped"].includes(document.getElementById("suite-status")?.dataset.state), null, { timeout });

/** The cell of a runtime's row for a workload in the table. */
function cell(page, runtime, workload) {
  return page.locator(`#suite-table tr[data-runtime="${runtime}"] td[data-workload="${workload}"]`);
}

describe("reference suite", () => {
  test("Run suite measures every runtime in turns, with progress, and fills the table", { timeout: 600000 }, async () => {
    const { context, page, errors } = await suitePage("workloads=fib,nbody&runtimes=pyodide,go-wasm,rust-wasm&samples=4&budget=8000&warmup=200");
    assert.match(await page.locator("#suite-plan").textContent(), /2 workloads .* × 3 runtimes \(Pyodide, Go→WASM, Rust→WASM\)/);
    const bar = page.getByRole("progressbar", { name: "Suite progress" });
    assert.equal(await bar.getAttribute("aria-valuenow"), "0");
    await page.getByRole("button", { name: "Run suite" }).click();
    // Progress moves while it runs.
    await page.waitForFunction(
      () => {
        const v = Number(document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow"));
        return v > 0 && v < 100;
      },
      null,
      { timeout: 180000 },
    );
    assert.equal(await page.getByRole("button", { name: "Stop" }).isEnabled(), true);
    await ended(page, 480000);
    assert.equal(await state(page), "finished");
    assert.equal(await bar.getAttribute("aria-valuenow"), "100");
    assert.match(await page.locator("#suite-status").textContent(), /^Finished\./);
    // The table (this browser) has Pyodide's and the kernels' medians.
    for (const rt of ["pyodide", "go-wasm", "rust-wasm"]) {
      for (const w of ["fib", "nbody"]) {
        await cell(page, rt, w).locator(".median").waitFor({ timeout: 30000 });
        const text = await cell(page, rt, w).textContent();
        assert.match(text, /^\d+(\.\d+)? (ns|µs|ms|s)/);
        assert.match(text, /1 run$/);
      }
    }
    // Without native runs there is no ratio yet, and the empty rows say how to get them.
    assert.match(await cell(page, "pyodide", "fib").textContent(), /ratio: needs native CPython/);
    assert.match(await page.locator('#suite-table tr[data-runtime="cpython-native"]').textContent(), /pyplay bench-native -server URL -snippet ID/);
    assert.match(await page.locator('#suite-table tr[data-runtime="rustpython"]').textContent(), /not available: no WebAssembly build can be had here/);

    // Ordinary stored runs on the workload's snippet, taking turns.
    const table = await api("/api/bench/suite?workloads=fib,nbody");
    const fib = table.workloads.find((w) => w.id === "fib");
    const { runs } = await api(`/api/bench/runs?snippet=${fib.snippet}`);
    const byRuntime = Object.fromEntries(runs.map((r) => [r.runtime, r]));
    for (const rt of ["pyodide", "go-wasm", "rust-wasm"]) {
      assert.equal(byRuntime[rt]?.status, "done", `${rt}: ${JSON.stringify(byRuntime[rt])}`);
      assert.equal(byRuntime[rt].config.interleaved, true);
      assert.equal(byRuntime[rt].config.ticksPerSample, 100);
      assert.ok(byRuntime[rt].env.timerResolutionNs > 0);
    }
    assert.equal(byRuntime["go-wasm"].config.kernel, "fib");
    assert.equal(byRuntime["go-wasm"].config.kernelCheck, "75025");
    assert.match(byRuntime["go-wasm"].runtimeVersion, /^go1\./);
    assert.match(byRuntime["rust-wasm"].runtimeVersion, /^rustc /);
    const goRow = table.rows.find((r) => r.runtime === "go-wasm");
    assert.equal(goRow.label, "Go→WASM");
    assert.ok(goRow.cells.every((c) => c.runs === 1 && c.medianNs > 0), JSON.stringify(goRow.cells));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("Stop ends the suite midway; its runs end stopped", { timeout: 300000 }, async () => {
    const { context, page } = await suitePage("workloads=fib,nbody&runtimes=go-wasm,rust-wasm&samples=400&budget=120000&warmup=200");
    await page.getByRole("button", { name: "Run suite" }).click();
    await page.waitForFunction(() => /round \d+ of 400/.test(document.getElementById("suite-status")?.textContent ?? ""), null, { timeout: 120000 });
    await page.getByRole("button", { name: "Stop" }).click();
    await ended(page, 60000);
    assert.equal(await state(page), "stopped");
    assert.match(await page.locator("#suite-status").textContent(), /^Stopped\./);
    const now = Number(await page.getByRole("progressbar", { name: "Suite progress" }).getAttribute("aria-valuenow"));
    assert.ok(now > 0 && now < 100, `progress ${now}`);
    assert.equal(await page.getByRole("button", { name: "Run suite" }).isEnabled(), true);
    assert.equal(await page.getByRole("button", { name: "Stop" }).isEnabled(), false);
    const table = await api("/api/bench/suite?workloads=fib,nbody");
    const fib = table.workloads.find((w) => w.id === "fib");
    const nbody = table.workloads.find((w) => w.id === "nbody");
    // Workloads run in the suite's order: n-body first, then fib.
    const listed = async (w) => (await api(`/api/bench/runs?snippet=${w.snippet}`)).runs.filter((r) => r.config?.samples === 400);
    const nbodyRuns = await listed(nbody);
    assert.deepEqual(nbodyRuns.map((r) => [r.runtime, r.status]).sort(), [["go-wasm", "stopped"], ["rust-wasm", "stopped"]]);
    assert.ok(nbodyRuns.every((r) => r.config.kernel === "nbody"));
    // The second workload never started.
    assert.equal((await listed(fib)).length, 0);
    await context.close();
  });

  test("PyScript: each workload runs as a PyScript page on Pyodide, in a preview frame of its own, and fills the PyScript row", { timeout: 300000 }, async () => {
    const { context, page, errors } = await suitePage("workloads=fib,nbody&runtimes=pyscript/pyodide&samples=3&budget=8000&warmup=100");
    assert.match(await page.locator("#suite-plan").textContent(), /2 workloads .* × 1 runtimes \(PyScript\)/);
    const frames = page.locator("#suite-frames iframe");
    assert.equal(await frames.count(), 0);
    await page.getByRole("button", { name: "Run suite" }).click();
    // The page being measured is on the preview origin, never the playground's.
    await frames.first().waitFor({ timeout: 60000 });
    assert.equal(new URL(await frames.first().getAttribute("src")).origin, new URL(server.previewUrl).origin);
    assert.match(await frames.first().getAttribute("title"), /^PyScript benchmark: PyScript · (n-body|fib)$/);
    await ended(page, 240000);
    assert.match(await page.locator("#suite-status").textContent(), /^Finished\./);
    assert.match(await page.locator("#suite-log").textContent(), /n-body: PyScript 3 samples.*fib: PyScript 3 samples/);
    // Each page was unloaded with its workload.
    assert.equal(await frames.count(), 0);
    for (const w of ["fib", "nbody"]) {
      await cell(page, "pyscript/pyodide", w).locator(".median").waitFor({ timeout: 30000 });
      assert.match(await cell(page, "pyscript/pyodide", w).textContent(), /1 run$/);
    }
    // Stored as PyScript runs on the workload's snippet, on Pyodide, with the page's start-up.
    const table = await api("/api/bench/suite?workloads=fib,nbody");
    const row = table.rows.find((r) => r.runtime === "pyscript/pyodide");
    assert.ok(row.cells.every((c) => c.runs === 1 && c.medianNs > 0), JSON.stringify(row.cells));
    const fib = table.workloads.find((w) => w.id === "fib");
    const { runs } = await api(`/api/bench/runs?snippet=${fib.snippet}`);
    const ps = runs.filter((r) => r.runtime === "pyscript" && r.config?.samples === 3);
    assert.equal(ps.length, 1, JSON.stringify(runs.map((r) => [r.runtime, r.config?.samples])));
    assert.equal(ps[0].status, "done");
    assert.equal(ps[0].env.interpreter, "pyodide");
    assert.equal(ps[0].config.suite, "fib");
    assert.equal(ps[0].config.reset, "page body before every iteration");
    assert.equal(ps[0].phases.path, "pyscript");
    assert.ok(ps[0].phases.load > 0, JSON.stringify(ps[0].phases));
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("Stop while a PyScript page loads stops the suite at once and unloads the page", { timeout: 300000 }, async () => {
    const { context, page } = await suitePage("workloads=nbody&runtimes=pyscript/pyodide&samples=50&budget=60000&warmup=100");
    await page.getByRole("button", { name: "Run suite" }).click();
    await page.waitForFunction(() => /loading the page/.test(document.getElementById("suite-status")?.textContent ?? ""), null, { timeout: 60000 });
    await page.locator("#suite-frames iframe").waitFor({ timeout: 30000 });
    await page.getByRole("button", { name: "Stop" }).click();
    await ended(page, 30000);
    assert.equal(await state(page), "stopped");
    assert.equal(await page.locator("#suite-frames iframe").count(), 0);
    assert.equal(await page.locator("#suite-frames").isVisible(), false);
    assert.equal(await page.getByRole("button", { name: "Run suite" }).isEnabled(), true);
    const table = await api("/api/bench/suite?workloads=nbody");
    const { runs } = await api(`/api/bench/runs?snippet=${table.workloads[0].snippet}`);
    const ps = runs.filter((r) => r.runtime === "pyscript");
    assert.ok(ps.length >= 1 && ps.every((r) => r.status !== "running"), JSON.stringify(ps.map((r) => r.status)));
    await context.close();
  });

  test("a kernel whose result is wrong fails its run before any sample counts", { timeout: 300000 }, async () => {
    const { context, page } = await suitePage("workloads=fib&runtimes=go-wasm&samples=3&warmup=100&badcheck=fib");
    await page.getByRole("button", { name: "Run suite" }).click();
    await ended(page, 120000);
    assert.match(await page.locator("#suite-status").textContent(), /Finished with 1 failed run/);
    assert.match(await page.locator("#suite-log").textContent(), /Go→WASM · fib: go-wasm kernel fib\(25\) returned "75025", expected "not 75025"/);
    const table = await api("/api/bench/suite?workloads=fib");
    const { runs } = await api(`/api/bench/runs?snippet=${table.workloads[0].snippet}`);
    const failed = runs.filter((r) => r.status === "failed");
    assert.equal(failed.length, 1, JSON.stringify(runs));
    assert.match(failed[0].error, /returned "75025", expected "not 75025"/);
    assert.equal(failed[0].sampleCount ?? 0, 0);
    await context.close();
  });
});
