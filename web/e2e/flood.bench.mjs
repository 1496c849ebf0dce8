// Output benchmark (`make bench-output`, part of `make bench`): how fast a
// print loop's output reaches the page, and how the page answers while it
// floods and after Stop, in each runtime (Pyodide, MicroPython, PyScript
// with Pyodide). Per round and runtime:
// - throughput: `for i in range(N): print(i)`, N lines over the time from
//   the first output on the page to the whole output shown (the run's end),
//   and the longest stall of the page's main thread meanwhile;
// - Stop: `while True: print(i)` for a second, then Esc; the time until the
//   page answers a script (round trip of page.evaluate, key delivery
//   included), and the longest stall of the page's main thread (a 10 ms
//   timer's lateness) during the flood and in the second after Esc;
// - for scale, the longest stall of the same page over two seconds with
//   nothing running (on a shared, loaded machine that is not zero).
// Prints medians over ROUNDS rounds as Markdown. Loopback only.
import { appReady, launchBrowser, openPage, startServer, waitReady, waitState } from "./helpers.mjs";
import { median } from "./startup.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const LINES = Number(process.env.LINES ?? 100000);
const RUNTIMES = ["Pyodide", "MicroPython", "PyScript"];

/** Starts the lag probe and a first-output clock in the page. */
async function instrument(page) {
  await page.evaluate(() => {
    const probe = { max: 0, last: performance.now(), first: 0 };
    probe.timer = setInterval(() => {
      const now = performance.now();
      // Counted from the first output on (a PyScript page loads first).
      if (probe.first) probe.max = Math.max(probe.max, now - probe.last - 10);
      probe.last = now;
    }, 10);
    const out = window.pyplay.output;
    const append = out.append.bind(out);
    out.append = (kind, text) => {
      if (!probe.first && kind !== "info") probe.first = performance.now();
      append(kind, text);
    };
    window.benchProbe = probe;
  });
}

/** Ends the probe: the longest stall since it started, and when output first came. */
async function finish(page) {
  return page.evaluate(() => {
    const p = window.benchProbe;
    clearInterval(p.timer);
    return { stall: Math.max(p.max, performance.now() - p.last - 10), first: p.first, now: performance.now() };
  });
}

async function idle(page) {
  await instrument(page);
  await page.evaluate(() => (window.benchProbe.first = performance.now()));
  await page.waitForTimeout(2000);
  return (await finish(page)).stall;
}

async function throughput(page) {
  await page.evaluate((n) => (window.pyplay.editor.code = `for i in range(${n}):\n    print(i)\n`), LINES);
  await instrument(page);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await waitState(page, ["done"], 300000);
  const r = await finish(page);
  const got = await page.evaluate(() => window.pyplay.output.text().length);
  if (got < LINES) throw new Error(`only ${got} characters of output arrived`);
  return { linesPerSecond: LINES / ((r.now - r.first) / 1000), stall: r.stall };
}

async function stop(page) {
  await page.evaluate(() => (window.pyplay.editor.code = "i = 0\nwhile True:\n    print(i)\n    i += 1\n"));
  await instrument(page);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.waitForFunction(() => window.benchProbe.first > 0, null, { timeout: 120000, polling: 50 });
  await page.waitForTimeout(1000);
  const flood = await finish(page);
  await instrument(page);
  await page.evaluate(() => (window.benchProbe.first = performance.now()));
  const t0 = Date.now();
  await page.keyboard.press("Escape");
  await page.evaluate(() => 1);
  const answer = Date.now() - t0;
  await page.waitForTimeout(1000);
  const after = await finish(page);
  await waitState(page, ["stopped", "ready"], 10000);
  return { answer, floodStall: flood.stall, afterStall: after.stall };
}

const server = await startServer();
const browser = await launchBrowser();
const results = {};
const add = (k, v) => (results[k] ??= []).push(v);
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const runtime of RUNTIMES) {
      const context = await browser.newContext();
      const { page } = await openPage(context, server.url + "/");
      await waitReady(page);
      await appReady(page);
      if (runtime !== "Pyodide") {
        await page.getByRole("combobox", { name: "Runtime" }).selectOption({ label: runtime });
        await waitReady(page);
      }
      add(`${runtime} idle stall`, await idle(page));
      const t = await throughput(page);
      add(`${runtime} lines/s`, t.linesPerSecond);
      add(`${runtime} finite stall`, t.stall);
      const s = await stop(page);
      add(`${runtime} answer`, s.answer);
      add(`${runtime} flood stall`, s.floodStall);
      add(`${runtime} after stall`, s.afterStall);
      await context.close();
    }
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
} finally {
  await browser.close();
  await server.stop();
  server.cleanup();
}

const m = (k) => median(results[k]);
const ms = (x) => `${Math.round(x)} ms`;
console.log(`Medians of ${ROUNDS} rounds (headless Chromium, loopback; ${LINES.toLocaleString("en-US")} lines for throughput):\n`);
console.log(
  "| runtime | throughput | longest stall: finite flood | Esc → page answers | longest stall: endless flood | " +
    "longest stall: second after Esc | longest stall: idle page, 2 s |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const r of RUNTIMES) {
  const label = r === "PyScript" ? "PyScript (Pyodide)" : r;
  console.log(
    `| ${label} | ${Math.round(m(`${r} lines/s`)).toLocaleString("en-US")} lines/s | ${ms(m(`${r} finite stall`))} | ` +
      `${ms(m(`${r} answer`))} | ${ms(m(`${r} flood stall`))} | ${ms(m(`${r} after stall`))} | ${ms(m(`${r} idle stall`))} |`,
  );
}
console.log(`\nAll samples: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map(Math.round)])))}`);
