// Package loading benchmark (-packages): how long a Run of
// `import pyplaydemo_b` takes when its two wheels (one padded to PAD_MB of
// incompressible data) come from the server for the first time (cold: a new
// browser profile), from the browser's HTTP cache (cached: a new page in the
// same profile; the files are immutable), and when they are loaded already
// (warm: a second Run in the same interpreter), against a Run of a
// standard-library import. Times are from the Run click to the status
// saying the run finished, in the page, SETTLE_MS after start-up.
// FAST_START=off turns the memory snapshot off (Settings). Prints medians over ROUNDS as
// Markdown. Loopback only.
import { rmSync } from "node:fs";
import { launchBrowser, openPage, startServer, waitReady } from "./helpers.mjs";
import { makeDistribution } from "./packages-dist.mjs";
import { median } from "./startup.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const PAD_MB = Number(process.env.PAD_MB ?? 5);
// A fresh page starts its spare interpreter and loads the editor after
// start-up: measure once that has settled, so cold and cached compare alike.
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 4000);

/**
 * Runs code in the page; returns ms from the click to the end of the run,
 * and how long the status line said packages were loading.
 */
async function timedRun(page, code) {
  await page.waitForFunction(() => window.pyplay?.marks.editor !== undefined && !window.pyplay.runner.isRunning, null, {
    timeout: 60000,
  });
  return page.evaluate(async (c) => {
    const p = window.pyplay;
    p.editor.code = c;
    const status = document.querySelector('[role="status"]');
    let loadStart = 0;
    let loadEnd = 0;
    const obs = new MutationObserver(() => {
      if (/^Loading pyplaydemo/.test(status.textContent)) loadStart ||= performance.now();
      else if (loadStart && !loadEnd) loadEnd = performance.now();
    });
    obs.observe(status, { childList: true, characterData: true, subtree: true });
    const t0 = performance.now();
    p.run();
    await new Promise((resolve) => {
      const check = () => (["done", "error"].includes(status.dataset.state) ? resolve() : requestAnimationFrame(check));
      check();
    });
    obs.disconnect();
    if (status.dataset.state !== "done") throw new Error(document.querySelector('[role="log"]').textContent);
    return { total: performance.now() - t0, loading: loadStart ? loadEnd - loadStart : 0 };
  }, code);
}

const dist = makeDistribution({ padBytes: PAD_MB * 1e6 });
const server = await startServer(["-packages", dist]);
const browser = await launchBrowser();
const results = {};
const add = (k, { total, loading }) => {
  (results[k] ??= { total: [], loading: [] }).total.push(total);
  results[k].loading.push(loading);
};
const IMPORT = "import pyplaydemo_b\nprint(pyplaydemo_b.f())\n";
try {
  for (let r = 0; r < ROUNDS; r++) {
    const context = await browser.newContext();
    if (process.env.FAST_START === "off") {
      await context.addInitScript(() => localStorage.setItem("pyplay.fastStart", "off"));
    }
    let { page } = await openPage(context, server.url + "/");
    await waitReady(page, 120000);
    await page.waitForTimeout(SETTLE_MS);
    add("stdlib import (json)", await timedRun(page, "import json\nprint(json.dumps(1))\n"));
    add("cold: wheels from the server", await timedRun(page, IMPORT));
    add("warm: loaded already (second Run)", await timedRun(page, IMPORT));
    await page.close();
    ({ page } = await openPage(context, server.url + "/"));
    await waitReady(page, 120000);
    await page.waitForTimeout(SETTLE_MS);
    add("cached: wheels from the HTTP cache (new page)", await timedRun(page, IMPORT));
    await context.close();
  }
  console.log(`| Run of (median of ${ROUNDS}) | Run to finished, ms | of which "Loading…" in the status, ms |`);
  console.log("| --- | ---: | ---: |");
  for (const [k, v] of Object.entries(results)) {
    console.log(`| ${k} | ${median(v.total).toFixed(0)} | ${median(v.loading).toFixed(0)} |`);
  }
} finally {
  await browser.close();
  await server.stop();
  server.cleanup();
  rmSync(dist, { recursive: true, force: true });
}
