// Browser tests at a phone's size, 390×844 (issue 12, item 6): the
// editor's toolbar packs into two rows, code lines wrap, the benchmark
// panel is part of the page instead of a small scroll box, no page scrolls
// sideways, and on the dashboard the Baseline choice fits, the comparison's
// median, ratio and verdict are in view and the start-up waterfall draws
// its bars. PYPLAY_SHOTS=dir saves screenshots of what it checks.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { appReady, launchBrowser, setCode, startServer, storeRun } from "./helpers.mjs";

const WIDTH = 390;
const SHOTS = process.env.PYPLAY_SHOTS;

let server, browser, context, id;

/** Stores a finished run of the snippet as a producer does over /ws: 12 samples around ms, start-up phases. */
function storeRunOf(page, snippet, runtime, ms) {
  const env = { browser: "HeadlessChrome", browserVersion: "156", platform: "Linux x86_64", cores: 2, crossOriginIsolated: true, timerResolutionNs: 5000 };
  const phases = { fetch: 300, compile: 900, init: 1200, firstRun: 40, total: 2300, start: { fetch: 0, compile: 100, init: 1000, firstRun: 2200 } };
  return storeRun(page, snippet, { runtime, runtimeVersion: "1.0", env, phases }, ms);
}

/** How far the page scrolls sideways: 0 when it fits the screen. */
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - innerWidth);

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: WIDTH, height: 844 }, hasTouch: true });
  const res = await fetch(`${server.url}/api/snippets`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: "# Fibonacci, the slow way\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nprint(fib(20))\n", runtime: "pyodide" }),
  });
  ({ id } = await res.json());
  const page = await context.newPage();
  await page.goto(`${server.url}/bench`);
  await storeRunOf(page, id, "pyodide", 2);
  await storeRunOf(page, id, "micropython", 9);
  await page.close();
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

test("editor: a two-row toolbar, wrapped code lines, no sideways scrolling", async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/?runtime=micropython`);
  await setCode(page, `print("${"a very long line of text ".repeat(8)}")\nx = 1\n`);
  // Rows: the vertical centres of the toolbar's controls, those within a few px being one row.
  const centres = await page.evaluate(() =>
    [...document.querySelector(".toolbar").children]
      .map((c) => c.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0)
      .map((r) => r.top + r.height / 2),
  );
  const rows = centres.sort((a, b) => a - b).filter((c, i, all) => i === 0 || c - all[i - 1] > 8).length;
  assert.ok(rows <= 2, `the toolbar has ${rows} rows (control centres ${centres.map(Math.round)})`);
  const wrap = await page.evaluate(() => {
    const s = document.querySelector(".cm-scroller");
    const first = document.querySelector(".cm-line");
    return { wraps: document.querySelector(".cm-content").classList.contains("cm-lineWrapping"), sideways: s.scrollWidth - s.clientWidth, lineHeight: first.getBoundingClientRect().height };
  });
  assert.equal(wrap.wraps, true);
  assert.ok(wrap.sideways <= 1, `the code scrolls sideways by ${wrap.sideways}px`);
  assert.ok(wrap.lineHeight > 40, "the long line takes several rows");
  assert.equal(await overflow(page), 0);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/editor-390.png`, fullPage: true });
  await page.close();
});

test("editor: the benchmark panel is part of the page, not a small scroll box", async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/s/${id}`);
  await appReady(page);
  await page.getByRole("button", { name: "Benchmark" }).click();
  const panel = page.locator("#bench-panel");
  await panel.waitFor();
  const box = await panel.evaluate((p) => ({ scroll: p.scrollHeight, client: p.clientHeight, width: p.getBoundingClientRect().width }));
  assert.ok(box.scroll <= box.client + 1, `the panel scrolls within itself (${box.scroll} in ${box.client}px)`);
  assert.ok(box.width >= WIDTH - 2, `the panel is ${box.width}px wide`);
  const start = page.getByRole("button", { name: "Start", exact: true });
  await start.scrollIntoViewIfNeeded();
  assert.equal(await start.isVisible(), true);
  assert.equal(await overflow(page), 0);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/editor-390-benchmark.png`, fullPage: true });
  await page.close();
});

test("no page scrolls sideways", async () => {
  const page = await context.newPage();
  const unknown = "AAAAAAAAAAA";
  for (const path of ["/", `/s/${id}`, "/bench", `/bench/${id}`, `/s/${unknown}`, `/s/${"x".repeat(60)}`, `/embed/${id}`]) {
    await page.goto(server.url + path);
    // Let the page's script render what it loads (the dashboards fill in from the API).
    await page.waitForLoadState("networkidle").catch(() => {});
    assert.equal(await overflow(page), 0, `${path} scrolls sideways`);
  }
  await page.close();
});

test("dashboard: the Baseline choice fits, median, ratio and verdict are in view, the waterfall has bars", async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/bench/${id}`);
  const table = page.getByRole("table", { name: /Comparison with the baseline/ });
  await table.locator("tbody tr[data-runtime]").nth(1).waitFor();
  assert.equal(await overflow(page), 0, "the Baseline select does not widen the page");
  const select = await page.locator("#baseline").boundingBox();
  assert.ok(select.x + select.width <= WIDTH, "the Baseline select is on screen");
  for (const label of ["Median", "Ratio to baseline (95% CI)", "Verdict"]) {
    for (const row of [0, 1]) {
      const cell = table.locator("tbody tr[data-runtime]").nth(row).locator(`[data-label="${label}"]`);
      const b = await cell.boundingBox();
      assert.ok(b && b.x >= 0 && b.x + b.width <= WIDTH, `${label} of row ${row} is in view (${JSON.stringify(b)})`);
      assert.notEqual((await cell.textContent()).trim(), "");
    }
  }
  // The waterfall: count the canvas pixels painted in the phases' colours.
  const figure = page.locator("figure.chart").filter({ has: page.locator(".phase-legend") });
  await figure.locator("canvas").waitFor();
  await figure.scrollIntoViewIfNeeded();
  const painted = await figure.evaluate((fig) => {
    const swatches = [...fig.querySelectorAll(".phase-legend .swatch")].map((s) => getComputedStyle(s).backgroundColor.match(/\d+/g).map(Number));
    const canvas = fig.querySelector("canvas");
    const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = swatches.map(() => 0);
    for (let i = 0; i < px.length; i += 4) {
      swatches.forEach(([r, g, b], k) => {
        if (Math.abs(px[i] - r) <= 3 && Math.abs(px[i + 1] - g) <= 3 && Math.abs(px[i + 2] - b) <= 3) counts[k]++;
      });
    }
    return counts;
  });
  assert.ok(painted.every((n) => n > 50), `pixels painted per phase: ${painted}`);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/dashboard-390.png`, fullPage: true });
  await page.goto(`${server.url}/bench`);
  await page.getByRole("link", { name: "Fibonacci, the slow way" }).waitFor();
  assert.equal(await overflow(page), 0);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/bench-390.png`, fullPage: true });
  await page.close();
});
