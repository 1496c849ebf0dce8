// Start-up benchmark (`make bench`): time from navigation to the first
// output of a one-line program, for pyplay (Pyodide with its fast start,
// MicroPython) and for plain self-hosted Pyodide (/baseline/pyodide: same
// files, same server, same browser), cold (new profile) and on a return
// visit (second page in the same profile); plus Stop-to-prompt latency.
// Prints medians over ROUNDS runs and the ratio to the baseline, as
// Markdown. Loopback only; bounded by ROUNDS.
import { launchBrowser, startServer } from "./helpers.mjs";
import { median, pyplayFirstOutput, snapshotSaved } from "./startup.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RETURNS = Number(process.env.RETURNS ?? 2); // return visits per round (each a new page in the same profile)
async function baselineFirstOutput(context, url) {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "commit" });
  const t = await page.waitForFunction(() => window.baseline?.firstOutput, null, { polling: 10, timeout: 60000 });
  return { page, ms: await t.jsonValue() };
}

async function stopLatency(page) {
  await page.waitForFunction(() => !window.pyplay.runner.isRunning, null, { polling: 10 });
  await page.evaluate(() => {
    window.pyplay.editor.code = "while True:\n    pass\n";
    window.pyplay.run();
  });
  await page.waitForTimeout(300);
  await page.evaluate(() => window.pyplay.stop());
  const t = await page.waitForFunction(
    () => window.pyplay.marks.stopped && window.pyplay.marks.stopped - window.pyplay.marks.stopRequested,
    null,
    { polling: 10, timeout: 10000 },
  );
  return t.jsonValue();
}

const server = await startServer();
const browser = await launchBrowser();
const results = {};
const add = (k, v) => (results[k] ??= []).push(v);
try {
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, url, fn] of [
      ["baseline", server.url + "/baseline/pyodide", baselineFirstOutput],
      ["pyodide", server.url + "/", pyplayFirstOutput],
      ["micropython", server.url + "/?runtime=micropython", pyplayFirstOutput],
    ]) {
      const context = await browser.newContext(); // a new, empty profile
      const cold = await fn(context, url);
      add(`${name} cold`, cold.ms);
      if (name === "pyodide") await snapshotSaved(cold.page); // the first visit leaves a snapshot behind
      else await cold.page.waitForTimeout(500);
      await cold.page.close();
      for (let r = 0; r < RETURNS; r++) {
        const warm = await fn(context, url);
        add(`${name} return`, warm.ms);
        if (name === "pyodide") {
          if (warm.path !== "snapshot") console.error(`round ${i}: return visit used path ${warm.path}`);
          if (r === 0) add("pyodide stop", await stopLatency(warm.page));
        }
        await warm.page.close();
      }
      await context.close();
    }
    console.error(`round ${i + 1}/${ROUNDS} done`);
  }
} finally {
  await browser.close();
  await server.stop();
  server.cleanup();
}

const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
const fmt = (x) => `${Math.round(x)} ms`;
console.log(`Medians of ${ROUNDS} cold and ${ROUNDS * RETURNS} return visits each (headless Chromium, loopback):\n`);
console.log("| measurement | cold (new profile) | return visit |");
console.log("| --- | --- | --- |");
console.log(`| plain self-hosted Pyodide, navigation → first output | ${fmt(m["baseline cold"])} | ${fmt(m["baseline return"])} |`);
console.log(`| pyplay Pyodide, navigation → first output | ${fmt(m["pyodide cold"])} | ${fmt(m["pyodide return"])} |`);
console.log(`| ratio pyplay / plain | ${(m["pyodide cold"] / m["baseline cold"]).toFixed(2)}× | ${(m["pyodide return"] / m["baseline return"]).toFixed(2)}× |`);
console.log(`| pyplay MicroPython, navigation → first output | ${fmt(m["micropython cold"])} | ${fmt(m["micropython return"])} |`);
console.log(`\nStop → KeyboardInterrupt shown (Pyodide, \`while True: pass\`): median ${fmt(m["pyodide stop"])}.`);
console.log(`\nAll samples (ms): ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map(Math.round)])))}`);
