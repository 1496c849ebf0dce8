// Browser tests of PyScript benchmarks (issue 6): in PyScript mode the
// Benchmark button runs the page's code repeatedly in the preview's PyScript
// worker, on each chosen interpreter, with the page body reset before every
// iteration, and streams the samples to the dashboard as runtime pyscript
// with the interpreter in the run's env. Real binary, real Chromium.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser, openPage, setCode, startServer, waitReady } from "./helpers.mjs";

let server, browser, context;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

// Fails unless every iteration finds the page as the page body has it: the
// harness resets the body (and display()'s target) before each one.
const COUNTER = `from pyscript import display, document

count = document.querySelector("#count")
if count.innerText != "0":
    raise RuntimeError("the page was not reset: count is " + count.innerText)
count.innerText = "1"
display("shown")
total = 0
for i in range(300):
    total += i * i
print(total)
`;
const COUNTER_HTML = '<p id="count">0</p>\n';

/** An editor in PyScript mode on the given interpreter, with the page in it. */
async function pyscriptEditor({ code, html, interpreter }) {
  const { page, errors } = await openPage(context, server.url + "/");
  await page.getByRole("combobox", { name: "Runtime" }).selectOption({ label: "PyScript" });
  await waitReady(page);
  await page.getByRole("combobox", { name: "Interpreter" }).selectOption({ label: interpreter });
  await setCode(page, code);
  await page.getByRole("tab", { name: "page.html" }).click();
  await page.getByRole("textbox", { name: "Page HTML" }).fill(html);
  await page.getByRole("tab", { name: "main.py" }).click();
  return { page, errors };
}

/** Opens the benchmark panel with the given PyScript interpreters chosen. */
async function configure(page, { samples, warmup = "0.2", budget = "60", interpreters }) {
  const open = page.getByRole("button", { name: "Benchmark", exact: true });
  if ((await open.getAttribute("aria-expanded")) !== "true") await open.click();
  // In PyScript mode the choices are PyScript's interpreters, not the console runtimes.
  assert.equal(await page.getByRole("checkbox", { name: "Pyodide", exact: true }).count(), 0);
  for (const i of ["Pyodide", "MicroPython"]) {
    const box = page.getByRole("checkbox", { name: `PyScript · ${i}`, exact: true });
    if (interpreters.includes(i)) await box.check();
    else await box.uncheck();
  }
  await page.getByRole("spinbutton", { name: "Samples" }).fill(String(samples));
  await page.getByRole("spinbutton", { name: "Warmup (s)" }).fill(warmup);
  await page.getByRole("spinbutton", { name: "Time budget (s)" }).fill(budget);
}

const results = (page) => page.evaluate(() => window.pyplay.bench.results());
const finished = (page, timeout = 180000) => page.waitForFunction(() => !window.pyplay.bench.isRunning, null, { timeout });

async function api(path) {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

describe("benchmarking a PyScript page", () => {
  test("both interpreters' samples arrive on the dashboard and are stored as runtime pyscript", async () => {
    const { page, errors } = await pyscriptEditor({ code: COUNTER, html: COUNTER_HTML, interpreter: "MicroPython" });
    // The snippet the benchmark stores (same content, same ID), with its dashboard open first.
    // The benchmark chooses its interpreters, so the page is stored on the default one,
    // whatever the Interpreter select says (MicroPython here).
    const created = await page.evaluate(async ([code, html]) => {
      const body = { code, runtime: "pyscript", html };
      const res = await fetch("/api/snippets", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return res.json();
    }, [COUNTER, COUNTER_HTML]);
    const dash = await openPage(context, `${server.url}/bench/${created.id}`);
    await dash.page.waitForFunction(() => document.getElementById("dashboard-status")?.dataset.state === "live");

    await configure(page, { samples: 6, interpreters: ["Pyodide", "MicroPython"] });
    await page.getByRole("button", { name: "Start", exact: true }).click();
    const link = page.getByRole("link", { name: "Open the live dashboard" });
    await link.waitFor();
    assert.equal(await link.getAttribute("href"), `/bench/${created.id}`);
    // The pages load in the preview pane, one frame per interpreter.
    await page.locator('iframe[title="PyScript benchmark: PyScript · Pyodide"]').waitFor();
    // Nothing may switch the mode or re-render the pane under the benchmark.
    const runtimeSelect = page.getByRole("combobox", { name: "Runtime" });
    const interpreterSelect = page.getByRole("combobox", { name: "Interpreter" });
    assert.equal(await interpreterSelect.isDisabled(), true, "the Interpreter select is off during a benchmark");
    assert.equal(await runtimeSelect.isDisabled(), true, "the Runtime select is off during a benchmark");
    await finished(page);
    assert.equal(await interpreterSelect.isDisabled(), false);
    assert.equal(await runtimeSelect.isDisabled(), false);

    const rs = await results(page);
    assert.deepEqual(
      rs.map((r) => [r.runtime, r.interpreter, r.state, r.measured]),
      [["pyscript", "pyodide", "done", 6], ["pyscript", "micropython", "done", 6]],
      `panel: ${await page.locator("#bench-panel").textContent()}`,
    );
    for (const r of rs) assert.equal(r.stored, r.warmup + r.measured, `${r.interpreter}: every sample acknowledged`);
    assert.match(await page.locator("#bench-panel").textContent(), /Every sample is stored/);
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "done");
    assert.equal(await page.locator('iframe[title^="PyScript benchmark"]').count(), 0, "the benchmark's pages are unloaded");

    // Live on the dashboard, as their own series.
    for (const r of rs) {
      await dash.page.waitForFunction(
        ([id, n]) => {
          const tr = document.querySelector(`tr[data-run="${id}"]`);
          return tr?.dataset.status === "done" && tr.dataset.samples === String(n);
        },
        [r.run, r.measured],
        { timeout: 10000 },
      );
      const row = dash.page.locator(`tr[data-run="${r.run}"]`);
      assert.equal(await row.getAttribute("data-runtime"), `pyscript/${r.interpreter}`);
      assert.equal(Number(await row.getAttribute("data-live")), r.warmup + r.measured, `${r.interpreter}: every sample came over /ws`);
    }
    await dash.page.waitForFunction(() => document.querySelectorAll("table.compare tbody tr[data-runtime]").length === 2);
    const compare = await dash.page.getByRole("table", { name: /Comparison with the baseline/ }).textContent();
    assert.match(compare, /PyScript · Pyodide/);
    assert.match(compare, /PyScript · MicroPython/);

    // Stored: runtime pyscript, the interpreter in env, PyScript's start-up as phases.
    const list = await api(`/api/bench/runs?snippet=${created.id}`);
    assert.deepEqual(list.runs.map((r) => [r.runtime, r.env.interpreter, r.group.runtime]).sort(), [
      ["pyscript", "micropython", "pyscript/micropython"],
      ["pyscript", "pyodide", "pyscript/pyodide"],
    ]);
    for (const run of list.runs) {
      assert.equal(run.status, "done");
      assert.equal(run.runtimeVersion, "0.7.31");
      assert.match(run.env.interpreterVersion, /^\d+\.\d+/);
      assert.equal(run.env.crossOriginIsolated, true);
      assert.ok(run.phases.init > 0 && run.phases.firstRun > 0 && run.phases.harnessFirstRun > 0, JSON.stringify(run.phases));
      assert.equal(run.config.timedEachIteration, true);
      assert.equal(run.summary.n, 6);
    }

    // The same page with the other interpreter in the select lands on the same snippet and dashboard.
    await page.getByRole("combobox", { name: "Interpreter" }).selectOption({ label: "Pyodide" });
    await configure(page, { samples: 3, warmup: "0", interpreters: ["MicroPython"] });
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await finished(page);
    assert.equal(await link.getAttribute("href"), `/bench/${created.id}`);
    assert.equal((await api(`/api/bench/runs?snippet=${created.id}`)).runs.length, 3);

    assert.deepEqual(errors, []);
    assert.deepEqual(dash.errors, []);
    await dash.page.close();
    await page.close();
  });

  test("Stop stops a PyScript benchmark and its run ends as stopped", async () => {
    const { page, errors } = await pyscriptEditor({ code: COUNTER, html: COUNTER_HTML, interpreter: "MicroPython" });
    await configure(page, { samples: 1000, budget: "600", interpreters: ["MicroPython"] });
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForFunction(() => window.pyplay.bench.results().some((r) => r.state === "sampling" && r.measured >= 2), null, { timeout: 60000 });
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await finished(page, 30000);
    const [r] = await results(page);
    assert.equal(r.state, "stopped");
    assert.ok(r.measured < 1000);
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "stopped");
    assert.equal(await page.locator('iframe[title^="PyScript benchmark"]').count(), 0);
    const run = await api(`/api/bench/runs/${r.run}`);
    assert.equal(run.status, "stopped");
    assert.equal(run.samples.length, r.warmup + r.measured);
    // The page renders normally afterwards.
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.getByRole("log", { name: "Output" }).getByText("8955050").waitFor({ timeout: 60000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("a page that does not reset cleanly fails its run with the traceback", async () => {
    // The page body is reset, but nothing else is (here the document's title): the second run raises.
    const code = "from pyscript import document\nif document.title == 'ran':\n    raise ValueError('ran before')\ndocument.title = 'ran'\n";
    const { page, errors } = await pyscriptEditor({ code, html: "<p>x</p>", interpreter: "MicroPython" });
    await configure(page, { samples: 3, interpreters: ["MicroPython"] });
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await finished(page, 60000);
    const [r] = await results(page);
    assert.equal(r.state, "failed");
    assert.match(await page.locator("#bench-panel .bench-error").textContent(), /ValueError: ran before/);
    const run = await api(`/api/bench/runs/${r.run}`);
    assert.equal(run.status, "failed");
    assert.match(run.error, /ran before/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  // A lane that can no longer finish its step fails its run instead of
  // waiting for it: the waits below are bounded so that a hang fails the test.
  for (const [name, code] of [
    // The worker reports an uncaught error (xworker.onerror) in the harness's first run.
    ["its worker reports an uncaught error during a step", "import js\nfrom pyscript import document\nif document.title == 'ran':\n    js.reportError(js.Error.new('the worker broke'))\ndocument.title = 'ran'\n"],
    // The page reloads itself in the harness's first run: its worker ends with the old document.
    ["the page reloads itself during a step", "from pyscript import document, window\nif document.title == 'ran':\n    window.location.reload()\ndocument.title = 'ran'\n"],
  ]) {
    test(`a run fails when ${name}`, async () => {
      const { page, errors } = await pyscriptEditor({ code, html: "<p>x</p>", interpreter: "MicroPython" });
      await configure(page, { samples: 30, warmup: "0", interpreters: ["MicroPython"] });
      await page.getByRole("button", { name: "Start", exact: true }).click();
      await finished(page, 60000);
      const [r] = await results(page);
      assert.equal(r.state, "failed");
      assert.match(await page.locator("#bench-panel .bench-error").textContent(), /the worker broke|loaded again/);
      assert.equal((await api(`/api/bench/runs/${r.run}`)).status, "failed");
      assert.equal(await page.getByRole("status").getAttribute("data-state"), "error");
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test("a run fails when its frame leaves the page", async () => {
    const { page, errors } = await pyscriptEditor({ code: COUNTER, html: COUNTER_HTML, interpreter: "MicroPython" });
    await configure(page, { samples: 1000, budget: "600", interpreters: ["MicroPython"] });
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForFunction(() => window.pyplay.bench.results().some((r) => r.state === "sampling" && r.measured >= 2), null, { timeout: 60000 });
    await page.locator('iframe[title^="PyScript benchmark"]').evaluate((f) => f.remove());
    await finished(page, 30000);
    const [r] = await results(page);
    assert.equal(r.state, "failed");
    assert.match(await page.locator("#bench-panel .bench-error").textContent(), /preview frame was removed/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
