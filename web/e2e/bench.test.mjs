// Browser tests of the benchmark lab (issue: benchmark lab): one page
// benchmarks a snippet in Pyodide and MicroPython while a second page has
// its dashboard open; Stop aborts a benchmark; a server killed during a run
// loses nothing; a dashboard whose comparison fails says so and recovers.
// Real binary, real Chromium, real runtimes; small sample counts and a short
// warmup keep it quick.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser, openPage, setCode, startServer, storeRun, waitReady } from "./helpers.mjs";

const FIB = (tag) => `# ${tag}\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nprint(fib(15))\n`;

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** Opens the editor, ready, with code in it. */
async function editor(context, url, code) {
  const { page, errors } = await openPage(context, url + "/");
  await waitReady(page);
  await setCode(page, code);
  return { page, errors };
}

/** Opens the benchmark panel and fills in its settings. */
async function configure(page, { samples, warmup = "0.2", budget = "60", runtimes = ["Pyodide", "MicroPython"] }) {
  const button = page.getByRole("button", { name: "Benchmark", exact: true });
  if ((await button.getAttribute("aria-expanded")) !== "true") await button.click();
  for (const rt of ["Pyodide", "MicroPython"]) {
    const box = page.getByRole("checkbox", { name: rt, exact: true });
    if (runtimes.includes(rt)) await box.check();
    else await box.uncheck();
  }
  await page.getByRole("spinbutton", { name: "Samples" }).fill(String(samples));
  await page.getByRole("spinbutton", { name: "Warmup (s)" }).fill(warmup);
  await page.getByRole("spinbutton", { name: "Time budget (s)" }).fill(budget);
}

const startButton = (page) => page.getByRole("button", { name: "Start", exact: true });
const results = (page) => page.evaluate(() => window.pyplay.bench.results());
const finished = (page, timeout = 120000) => page.waitForFunction(() => !window.pyplay.bench.isRunning, null, { timeout });

async function api(base, path) {
  const res = await fetch(base + path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

/** Asserts that the stored run has exactly the samples the page measured, each once. */
async function assertStored(base, r) {
  const run = await api(base, `/api/bench/runs/${r.run}`);
  const seqs = run.samples.map((s) => s.seq);
  assert.equal(run.samples.length, r.warmup + r.measured, `${r.runtime}: stored samples`);
  assert.deepEqual(seqs, [...seqs.keys()], `${r.runtime}: sample seqs 0…n-1, each once`);
  assert.equal(run.samples.filter((s) => !s.warmup).length, r.measured);
  assert.ok(run.samples.every((s) => s.ns > 0 && s.iters >= 1));
  return run;
}

describe("benchmark with a live dashboard", () => {
  let server, context;

  before(async () => {
    server = await startServer();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    server?.cleanup();
  });

  test("both runs arrive live on the dashboard and are stored with every sample", async () => {
    const code = FIB("live dashboard");
    const { page, errors } = await editor(context, server.url, code);
    // The dashboard is open before the benchmark starts: everything it shows arrives over /ws.
    const created = await page.evaluate(async (code) => {
      const res = await fetch("/api/snippets", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code, runtime: "pyodide" }) });
      return res.json();
    }, code);
    const dash = await openPage(context, `${server.url}/bench/${created.id}`);
    await dash.page.waitForFunction(() => document.getElementById("dashboard-status")?.dataset.state === "live");
    assert.match(await dash.page.getByRole("status").textContent(), /Live · 0 runs/);

    await configure(page, { samples: 8 });
    // When the dashboard first shows a running run, and when the benchmark
    // ends, on the browser's one clock.
    await dash.page.evaluate(() => {
      new MutationObserver((_, obs) => {
        if (document.querySelector('tr[data-run][data-status="running"]')) {
          window.__runningSeenAt = Date.now();
          obs.disconnect();
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await startButton(page).click();
    const ended = page.evaluate(
      () =>
        new Promise((resolve) => {
          let started = false;
          const t = setInterval(() => {
            started ||= window.pyplay.bench.isRunning;
            if (started && !window.pyplay.bench.isRunning) {
              clearInterval(t);
              resolve(Date.now());
            }
          }, 5);
        }),
    );
    const link = page.getByRole("link", { name: "Open the live dashboard" });
    await link.waitFor();
    assert.equal(await link.getAttribute("href"), `/bench/${created.id}`, "the editor's code is the snippet already stored");
    // Live: the dashboard shows a running run before the benchmark is over.
    await dash.page.locator('tr[data-run][data-status="running"]').first().waitFor({ timeout: 60000 });
    const runningSeenAt = await dash.page.evaluate(() => window.__runningSeenAt);
    assert.ok(runningSeenAt < (await ended), "the dashboard showed a running run before the benchmark ended");

    await finished(page);
    const rs = await results(page);
    assert.deepEqual(rs.map((r) => [r.runtime, r.state, r.measured]), [["pyodide", "done", 8], ["micropython", "done", 8]]);
    for (const r of rs) {
      assert.ok(r.warmup >= 5, `${r.runtime}: at least 5 warmup samples`);
      assert.equal(r.stored, r.warmup + r.measured, `${r.runtime}: every sample acknowledged`);
    }
    assert.match(await page.locator("#bench-panel").textContent(), /Every sample is stored/);
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "done");
    assert.equal(await page.getByRole("button", { name: "Run", exact: true }).isEnabled(), true);

    // Both runs arrived live, complete.
    for (const r of rs) {
      const row = dash.page.locator(`tr[data-run="${r.run}"]`);
      await dash.page.waitForFunction(
        ([id, n]) => {
          const tr = document.querySelector(`tr[data-run="${id}"]`);
          return tr?.dataset.status === "done" && tr.dataset.samples === String(n);
        },
        [r.run, r.measured],
        { timeout: 10000 },
      );
      assert.equal(Number(await row.getAttribute("data-live")), r.warmup + r.measured, `${r.runtime}: every sample came over /ws`);
    }
    const live = await dash.page.evaluate(() => window.pyplayDashboard.live);
    assert.equal(live.samples, rs.reduce((n, r) => n + r.warmup + r.measured, 0));

    // The comparison table has a row per runtime (same browser and machine), one of them the baseline.
    const table = dash.page.getByRole("table", { name: /Comparison with the baseline/ });
    await dash.page.waitForFunction(() => document.querySelectorAll("table.compare tbody tr[data-runtime]").length === 2);
    assert.equal(await table.locator("tr.baseline").count(), 1);
    assert.match(await table.textContent(), /faster|slower|same|undecided/);
    // Charts have accessible names and text alternatives.
    for (const name of [/Time per iteration of every sample/, /Histogram of the time per iteration/, /Start-up waterfall of 2 runs/])
      assert.equal(await dash.page.getByRole("img", { name }).count(), 1, String(name));
    assert.equal(await dash.page.locator("figure.chart canvas").count() >= 3, true);

    // The stored runs (REST) hold every sample once, with env and start-up phases.
    const list = await api(server.url, `/api/bench/runs?snippet=${created.id}`);
    assert.deepEqual(list.runs.map((r) => r.runtime).sort(), ["micropython", "pyodide"]);
    for (const r of rs) {
      const run = await assertStored(server.url, r);
      assert.equal(run.status, "done");
      assert.equal(run.env.crossOriginIsolated, true);
      assert.ok(run.env.timerResolutionNs > 0 && run.env.timerResolutionNs <= 100000, `timer ${run.env.timerResolutionNs} ns`);
      assert.ok(run.env.cores >= 1);
      assert.match(run.env.browser, /Chrome/);
      for (const k of ["fetch", "compile", "init", "firstRun", "total"]) assert.equal(typeof run.phases[k], "number", `phases.${k}`);
      assert.ok(run.phases.init > 0 && run.phases.firstRun > 0);
      assert.equal(run.config.samples, 8);
      assert.equal(run.config.interleaved, true);
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(dash.errors, []);
    await dash.page.close();
    await page.close();
  });

  test("the overview shows the snippet with a ratio between the runtimes", async () => {
    const { page, errors } = await openPage(context, `${server.url}/bench`);
    const table = page.getByRole("table", { name: /Geometric mean across snippets, per runtime,/ });
    await table.locator("tbody tr th").first().waitFor();
    // No native CPython runs here: the overview falls back to a browser runtime as the baseline.
    assert.match(await page.getByRole("combobox", { name: "Baseline" }).inputValue(), /pyodide|micropython/);
    assert.match(await table.textContent(), /\d+(\.\d+)?×/);
    // Snippets are listed by name (the code's first comment, "# …") with their ID beside it.
    const snippets = page.getByRole("table", { name: /Benchmarked snippets/ });
    assert.ok((await snippets.locator('a[href^="/bench/"]').count()) >= 1);
    assert.match(await snippets.locator("tbody th").first().textContent(), / [A-Za-z0-9_-]{11,}$/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("Stop aborts a benchmark and its runs end as stopped", async () => {
    const { page, errors } = await editor(context, server.url, FIB("stop"));
    await configure(page, { samples: 1000, warmup: "0.2", budget: "600" });
    await startButton(page).click();
    await page.waitForFunction(() => window.pyplay.bench.results().some((r) => r.state === "sampling" && r.measured >= 2), null, { timeout: 60000 });
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await finished(page, 30000);
    const rs = await results(page);
    assert.deepEqual(rs.map((r) => r.state), ["stopped", "stopped"]);
    assert.ok(rs.every((r) => r.measured < 1000));
    assert.match(await page.locator("#bench-panel").textContent(), /Stopped\./);
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "stopped");
    for (const r of rs) {
      const run = await assertStored(server.url, r);
      assert.equal(run.status, "stopped");
    }
    // The editor works normally afterwards.
    await setCode(page, "print('after')\n");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.getByRole("log", { name: "Output" }).getByText("after").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("samples taken while the tab is hidden are flagged", async () => {
    // Enough samples that the run cannot end between hiding the tab and
    // seeing two more samples arrive, however fast this machine is.
    const { page } = await editor(context, server.url, FIB("hidden").replace("fib(15)", "fib(20)"));
    await configure(page, { samples: 50, runtimes: ["MicroPython"] });
    await startButton(page).click();
    await page.waitForFunction(() => window.pyplay.bench.results().some((r) => r.measured >= 3), null, { timeout: 60000 });
    // Headless pages are never hidden: say so the way a browser does.
    const setHidden = (hidden) =>
      page.evaluate((hidden) => {
        Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
        Object.defineProperty(document, "visibilityState", { value: hidden ? "hidden" : "visible", configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);
    await setHidden(true);
    const seen = await page.evaluate(() => window.pyplay.bench.results()[0].measured);
    await page.waitForFunction((n) => window.pyplay.bench.results()[0].measured >= n + 2, seen, { timeout: 30000 });
    await setHidden(false);
    await finished(page);
    const [r] = await results(page);
    const run = await assertStored(server.url, r);
    const hidden = run.samples.filter((s) => s.hidden).map((s) => s.seq);
    assert.ok(hidden.length >= 2, `hidden samples: ${hidden}`);
    assert.ok(run.samples.some((s) => !s.warmup && !s.hidden), "samples after the tab came back are not flagged");
    assert.ok(run.warnings.some((w) => /hidden tab/.test(w)), run.warnings.join("; "));
    await page.close();
  });

  test("a program that raises fails its run with the traceback", async () => {
    const { page } = await editor(context, server.url, "x = 1\nraise ValueError('bench me not')\n");
    await configure(page, { samples: 5, runtimes: ["Pyodide"] });
    await startButton(page).click();
    await finished(page);
    const [r] = await results(page);
    assert.equal(r.state, "failed");
    assert.match(await page.locator(".bench-error").textContent(), /ValueError: bench me not/);
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "error");
    const run = await api(server.url, `/api/bench/runs/${r.run}`);
    assert.equal(run.status, "failed");
    assert.match(run.error, /ValueError: bench me not/);
    await page.close();
  });
});

describe("a server killed during a benchmark", () => {
  let first, second, context;

  after(async () => {
    await context?.close();
    // stop() waits for an exit that a SIGKILLed process has already made.
    if (first && first.proc.exitCode === null && first.proc.signalCode === null) await first.stop();
    await second?.stop();
    first?.cleanup();
    second?.cleanup();
  });

  test("the page resends what was not acknowledged; every sample is stored once", async () => {
    first = await startServer();
    context = await browser.newContext();
    const { page } = await editor(context, first.url, FIB("kill").replace("fib(15)", "fib(20)"));
    await configure(page, { samples: 150, runtimes: ["MicroPython"] });
    await startButton(page).click();
    await page.waitForFunction(() => window.pyplay.bench.results().some((r) => r.stored >= 8 && r.measured >= 1), null, { timeout: 60000 });
    await first.stop("SIGKILL");
    assert.equal(await page.evaluate(() => window.pyplay.bench.isRunning), true, "killed during the run");
    const { port } = new URL(first.url);
    // The same address (the page reconnects to it); previews on any free port, not port + 1, which may be taken.
    second = await startServer(["-addr", `127.0.0.1:${port}`, "-preview-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-db", `sqlite:${join(first.dir, "db.sqlite")}`]);
    await finished(page);
    const [r] = await results(page);
    assert.equal(r.state, "done");
    assert.equal(r.measured, 150);
    assert.match(await page.locator("#bench-panel").textContent(), /Every sample is stored/);
    const run = await assertStored(second.url, r);
    assert.equal(run.status, "done");
  });
});

describe("a dashboard whose comparison fails", () => {
  let server, context;

  before(async () => {
    server = await startServer();
    context = await browser.newContext();
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    server?.cleanup();
  });

  /** Stores a finished run of 12 measured samples for the snippet, as a producer does over /ws. */
  const storeRunOf = (page, snippet) =>
    storeRun(page, snippet, { runtime: "pyodide", env: { browser: "Chrome", browserVersion: "156", platform: "Linux", cores: 2 } });

  test("says the comparison is unavailable, asks again, and shows it once the server answers", async () => {
    const res = await fetch(`${server.url}/api/snippets`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: "print('compare me')\n", runtime: "pyodide" }),
    });
    const { id } = await res.json();
    const page = await context.newPage();
    await page.goto(`${server.url}/bench`);
    await storeRunOf(page, id);

    // The server's comparison fails until the route is taken away.
    let failures = 0;
    let failedTwice;
    const twice = new Promise((r) => (failedTwice = r));
    const pattern = "**/api/bench/compare?*";
    await page.route(pattern, (route) => {
      if (++failures === 2) failedTwice();
      return route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "unavailable", message: "comparison down for the test" } }),
      });
    });
    await page.goto(`${server.url}/bench/${id}`);
    const status = page.getByRole("status");
    const table = page.getByRole("table", { name: /Comparison with the baseline/ });
    await page.waitForFunction(() => /comparison is unavailable/.test(document.getElementById("dashboard-status")?.textContent ?? ""));
    assert.match(await status.textContent(), /The comparison is unavailable \(comparison down for the test\); asking the server again in \d+ s\./);
    assert.match(await table.textContent(), /comparison is unavailable/);
    assert.equal(await table.locator("tbody tr[data-runtime]").count(), 0, "no comparison made up by the page");
    // The runs table has the stored run, with the server's statistics.
    await page.locator("tr[data-run]").first().waitFor();
    assert.equal(await page.locator("tr[data-run]").count(), 1);
    assert.match(await page.locator("tr[data-run]").first().textContent(), /1\.01 ms/, "the median of 1.000 … 1.011 ms");

    await twice; // it asked again
    await page.unroute(pattern);
    await table.locator("tbody tr[data-runtime]").first().waitFor({ timeout: 60000 });
    assert.equal(await table.locator("tbody tr[data-runtime]").count(), 1);
    assert.equal(await table.locator("tr.baseline").count(), 1);
    assert.doesNotMatch(await status.textContent(), /unavailable/);
    assert.doesNotMatch(await page.locator(".note").first().textContent(), /Not current/);
    await page.close();
  });
});
