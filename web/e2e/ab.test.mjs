// Browser tests of A/B benchmarks (issue 11): the editor compares the
// snippet it was opened on (A) with its edited code (B) through the
// Benchmark panel's "Compare with" field; the live page /bench/ab/{id}
// follows it and leads with the verdict; the snippet's dashboard lists it.
// Real binary, real Chromium, real runtimes (MicroPython for most tests:
// it starts in a fraction of a second; one test on Pyodide). The programs
// differ by 3× the work, so the verdict is clear however busy the machine.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openPage, setCode, waitReady, withServerAndBrowser } from "./helpers.mjs";

/** A loop of n steps: the work each arm does. */
const LOOP = (n, tag = "") => `${tag ? `# ${tag}\n` : ""}def work(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n    return s\n\nwork(${n})\n`;

let browser, server;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

async function api(path) {
  const res = await fetch(server.url + path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

async function share(code, runtime) {
  const res = await fetch(server.url + "/api/snippets", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code, runtime }) });
  assert.ok(res.ok, `POST /api/snippets: ${res.status}`);
  return (await res.json()).id;
}

/** Opens snippet id in the editor, ready, and replaces its code (so that it differs from the shared version). */
async function editSnippet(context, id, code) {
  const { page, errors } = await openPage(context, `${server.url}/s/${id}`);
  await waitReady(page, 90000);
  await setCode(page, code);
  return { page, errors };
}

/** Opens the Benchmark panel and sets it up for an A/B benchmark on one runtime. */
async function configure(page, { runtime, budget, interpreters, warmup = "0.2" }) {
  const button = page.getByRole("button", { name: "Benchmark", exact: true });
  if ((await button.getAttribute("aria-expanded")) !== "true") await button.click();
  for (const rt of ["Pyodide", "MicroPython"]) {
    const box = page.getByRole("checkbox", { name: rt, exact: true });
    if (rt === runtime) await box.check();
    else await box.uncheck();
  }
  await page.getByRole("spinbutton", { name: "Warmup (s)" }).fill(warmup);
  await page.getByRole("spinbutton", { name: "A/B budget (s)" }).fill(String(budget));
  await page.getByRole("spinbutton", { name: "Interpreters" }).fill(String(interpreters));
}

const compareWith = (page) => page.getByRole("textbox", { name: "Compare with", exact: true });
const startButton = (page) => page.getByRole("button", { name: "Start", exact: true });
const abStatus = (page) => page.evaluate(() => window.pyplay.bench.abStatus());
const finished = (page, timeout = 240000) => page.waitForFunction(() => !window.pyplay.bench.isRunning, null, { timeout });

/**
 * Checks what the server stored: one run per interpreter and arm, all ended
 * with the given status, and within each interpreter the arms have the same
 * number of measured samples (one each per round).
 */
async function assertRuns(abID, { interpreters, status }) {
  const view = await api(`/api/bench/ab/${abID}`);
  const runs = view.runs;
  assert.equal(runs.length, 2 * interpreters, "a run per interpreter and arm");
  assert.ok(runs.every((r) => r.status === status), `every run ${status}: ${runs.map((r) => r.status)}`);
  for (let k = 0; k < interpreters; k++) {
    const pair = runs.filter((r) => r.interpreter === k);
    assert.deepEqual(pair.map((r) => r.arm).sort(), ["a", "b"], `interpreter ${k}: both arms`);
    const counts = [];
    for (const r of pair) {
      const full = await api(`/api/bench/runs/${r.id}`);
      assert.equal(full.ab?.id ?? abID, abID);
      counts.push(full.samples.filter((s) => !s.warmup).length);
    }
    assert.ok(Math.abs(counts[0] - counts[1]) <= 1, `interpreter ${k}: one sample per arm per round (${counts})`);
  }
  return view;
}

describe("A/B benchmarks", () => {
  test("a 3× slower B is called slower, live on /bench/ab/{id}, and listed on the snippet's dashboard", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const a = await share(LOOP(1000), "micropython");
      const { page, errors } = await editSnippet(context, a, LOOP(3000));
      await configure(page, { runtime: "MicroPython", budget: 45, interpreters: 5 });
      // The page was opened on a snippet and edited: the panel offers the shared version.
      await page.getByRole("button", { name: "Compare with the shared version" }).click();
      assert.equal(await compareWith(page).inputValue(), `/s/${a}`);
      await page.screenshot({ path: "test-results/ab-panel.png" }).catch(() => {});
      await startButton(page).click();

      const link = page.getByRole("link", { name: "Open live comparison" });
      await link.waitFor({ timeout: 30000 });
      const href = await link.getAttribute("href");
      assert.match(href, /^\/bench\/ab\/[A-Za-z0-9_-]{16}$/);
      const abID = href.split("/").pop();
      // The live page, opened while the benchmark runs, follows it to the end.
      const live = await openPage(context, server.url + href);
      await live.page.waitForFunction(() => document.getElementById("dashboard-status")?.dataset.state === "live", null, { timeout: 30000 });

      await finished(page);
      const st = await abStatus(page);
      assert.equal(st.id, abID);
      assert.ok(["decided", "budget"].includes(st.outcome), `outcome ${st.outcome}: ${st.error}`);
      assert.equal(st.results.length, 1);
      const [res] = st.results;
      assert.equal(res.runtime, "micropython");
      assert.equal(res.verdict, "slower", res.summary);
      assert.ok(res.ratio > 1.5, `ratio ${res.ratio}`);
      // The panel says the verdict in the server's words.
      assert.match(await page.locator(".bench-verdict").textContent(), /slower/);
      assert.equal(await page.getByRole("status").getAttribute("data-state"), "done");
      assert.equal(await page.getByRole("button", { name: "Run", exact: true }).isEnabled(), true);

      const view = await assertRuns(abID, { interpreters: 5, status: "done" });
      assert.equal(view.a, a);
      assert.equal(view.threshold, 0.02);
      assert.ok(view.done, "the server says the benchmark is done");

      // The live page got there by itself: the verdict first, then the chart and the table.
      const lp = live.page;
      await lp.waitForFunction(() => document.getElementById("dashboard-status")?.dataset.state === "done", null, { timeout: 30000 });
      assert.ok((await lp.evaluate(() => window.pyplayDashboard.live.fetches)) > 1, "fetched again as the rounds came in");
      const sentence = lp.locator(".ab-sentences .sentence").first();
      assert.equal(await sentence.getAttribute("data-verdict"), "slower");
      assert.match(await sentence.textContent(), /slower/);
      const chart = lp.getByRole("img", { name: /Per-round time ratios to A, \d+ rounds/ });
      assert.equal(await chart.count(), 1);
      assert.ok((await lp.locator("figure.chart canvas").count()) >= 1);
      const table = lp.getByRole("table", { name: /Each arm against A/ });
      const row = table.locator('tbody tr[data-runtime="micropython"]');
      assert.equal(await row.getAttribute("data-verdict"), "slower");
      assert.match(await row.textContent(), /MicroPython/);
      // The sentence comes before the chart and the table.
      const order = await lp.evaluate(() => {
        const pos = (sel) => [...document.querySelectorAll("main *")].indexOf(document.querySelector(sel));
        return [pos(".ab-sentences"), pos("figure.chart"), pos("table.ab")];
      });
      assert.deepEqual([...order].sort((x, y) => x - y), order, `sentence, chart, table in that order: ${order}`);
      await lp.screenshot({ path: "test-results/ab-live-1280.png", fullPage: true }).catch(() => {});

      // At a phone's width nothing scrolls sideways.
      await lp.setViewportSize({ width: 390, height: 844 });
      await lp.waitForFunction(() => document.documentElement.scrollWidth <= 390, null, { timeout: 5000 });
      await lp.screenshot({ path: "test-results/ab-live-390.png", fullPage: true }).catch(() => {});
      // The chart's text alternative holds every round.
      await lp.getByText("Per-round ratios: the data as a table").click();
      // Filled on the details' toggle event, which comes after the click.
      const roundRows = lp.getByRole("table", { name: "Every round's time ratio to A" }).locator("tbody tr");
      await roundRows.first().waitFor({ timeout: 10000 });
      assert.ok((await roundRows.count()) >= 5 * 2, `${await roundRows.count()} rows`);

      // A's dashboard lists the benchmark, with its verdict and a link to it.
      const dash = await openPage(context, `${server.url}/bench/${a}`);
      const item = dash.page.locator(`table.ab-list tr[data-ab="${abID}"]`);
      await item.waitFor({ timeout: 30000 });
      assert.equal(await item.getByRole("link", { name: /^A\/B / }).getAttribute("href"), href);
      assert.match(await item.textContent(), /slower/);
      assert.deepEqual(errors, []);
      assert.deepEqual(live.errors, []);
    } finally {
      await context.close();
    }
  });

  test("Compare with explains what is wrong with a bad link, and nothing starts", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const a = await share(LOOP(500, "validation"), "micropython");
      const { page } = await editSnippet(context, a, LOOP(600, "validation"));
      await configure(page, { runtime: "MicroPython", budget: 10, interpreters: 1 });
      const posts = [];
      page.on("request", (r) => {
        if (r.method() === "POST") posts.push(new URL(r.url()).pathname);
      });
      const field = compareWith(page);
      const message = page.locator("#bench-compare-msg");

      await field.fill("see my other version!");
      await startButton(page).click();
      await message.waitFor();
      assert.match(await message.textContent(), /is not a snippet link or ID: use a link like \/s\/\S+ or the ID alone/);
      assert.equal(await field.getAttribute("aria-invalid"), "true");
      assert.match(await field.getAttribute("aria-describedby"), /bench-compare-msg/);
      assert.equal(await abStatus(page), null);

      await field.fill("http://example.org/about");
      await startButton(page).click();
      await page.waitForFunction(() => /does not link to a snippet/.test(document.getElementById("bench-compare-msg")?.textContent ?? ""));

      // Well formed, but no such snippet here.
      await field.fill(`${server.url}/s/AAAAAAAAAAAA`);
      await startButton(page).click();
      await page.waitForFunction(() => /There is no snippet AAAAAAAAAAAA on this server/.test(document.getElementById("bench-compare-msg")?.textContent ?? ""));
      await finished(page);
      assert.equal(await abStatus(page), null);
      assert.deepEqual(posts, [], "neither a snippet nor a benchmark was created");

      // Typing clears the message.
      await field.fill(a);
      assert.equal(await message.isVisible(), false);
      assert.equal(await field.getAttribute("aria-invalid"), null);
    } finally {
      await context.close();
    }
  });

  test("Stop during an A/B benchmark ends its runs as stopped", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const a = await share(LOOP(2000, "stop"), "micropython");
      const { page, errors } = await editSnippet(context, a, LOOP(2200, "stop"));
      await configure(page, { runtime: "MicroPython", budget: 120, interpreters: 5 });
      await compareWith(page).fill(a);
      await startButton(page).click();
      await page.waitForFunction(() => (window.pyplay.bench.abStatus()?.rounds ?? 0) >= 3, null, { timeout: 60000 });
      await page.getByRole("button", { name: "Stop", exact: true }).click();
      await finished(page, 60000);
      const st = await abStatus(page);
      assert.equal(st.outcome, "stopped");
      assert.ok(st.runs.length >= 2 && st.runs.every((r) => r.state === "stopped"), JSON.stringify(st.runs.map((r) => r.state)));
      assert.match(await page.locator("#bench-panel").textContent(), /Stopped after (\d+ rounds? in each of 5 interpreters|no complete round)/);
      assert.equal(await page.getByRole("status").getAttribute("data-state"), "stopped");
      assert.equal(await page.getByRole("button", { name: "Run", exact: true }).isEnabled(), true);
      // The server has every run ended as stopped, and the benchmark done.
      await page.waitForFunction(() => window.pyplay.bench.stream.isDrained(), null, { timeout: 30000 });
      const view = await api(`/api/bench/ab/${st.id}`);
      assert.ok(view.runs.length >= 2 && view.runs.every((r) => r.status === "stopped"), JSON.stringify(view.runs));
      assert.equal(view.done, true);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("Pyodide: a 3× slower B is called slower", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const a = await share(LOOP(20000, "pyodide"), "pyodide");
      const { page, errors } = await editSnippet(context, a, LOOP(60000, "pyodide"));
      await configure(page, { runtime: "Pyodide", budget: 150, interpreters: 3, warmup: "0.5" });
      await compareWith(page).fill(`/s/${a}`);
      await startButton(page).click();
      await finished(page, 300000);
      const st = await abStatus(page);
      assert.ok(["decided", "budget"].includes(st.outcome), `outcome ${st.outcome}: ${st.error}`);
      assert.equal(st.results[0]?.runtime, "pyodide");
      assert.equal(st.results[0].verdict, "slower", st.results[0].summary);
      await assertRuns(st.id, { interpreters: 3, status: "done" });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
