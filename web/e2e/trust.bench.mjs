// Benchmark trust (`make bench-trust`, issue 11): can the lab's A/B
// verdicts be believed on this machine? Runs the real binary and, in headless
// Chromium, through the editor's Benchmark panel with its default settings
// (threshold 2 %, budget 60 s, 5 interpreters, warmup 1 s), repeated
//   A/A: the same program as both arms (two snippets that differ only by a
//        comment), where every "faster" or "slower" is a false alarm, and
//   A/B: B does 10 % more work (an n-body simulation of 1100 instead of
//        1000 steps), where "slower" is a detection,
// alternating A/A and A/B so that both see the same machine. Prints a
// Markdown table (scenario, count, faster/same/slower/undecided, false-alarm
// and detection rates, median rounds and time per benchmark) and, with
// WRITE=BENCHMARKS.md (as make bench-trust does), replaces that file's
// "Benchmark trust" section with it.
//
// Environment: N benchmarks of each scenario per runtime (default 6, about
// 12 minutes on Pyodide on a busy 2-core machine), RUNTIMES (default
// "pyodide"; "pyodide,micropython" adds MicroPython, whose programs do a
// tenth of the steps), WRITE (a Markdown file to update), POLLS=1 (print each
// benchmark's polls of the server: [ms after Start, ms the poll took, rounds
// measured, rounds stored, decided]).
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg, cpus } from "node:os";
import { launchBrowser, startServer, waitReady } from "./helpers.mjs";
import { median } from "./startup.mjs";

const N = Number(process.env.N ?? 6);
const RUNTIMES = (process.env.RUNTIMES ?? "pyodide").split(",").map((s) => s.trim()).filter(Boolean);
const WRITE = process.env.WRITE ?? "";
const HEADING = "## Benchmark trust";
const LABEL = { pyodide: "Pyodide", micropython: "MicroPython" };
/** Steps of the simulation in arm A; B does 10 % more in the A/B scenario. */
const STEPS = { pyodide: 1000, micropython: 100 };

/** The fixed program: an n-body simulation (the Benchmarks Game's, five bodies) of `steps` steps. */
export function nbody(steps, tag = "") {
  return `# n-body, ${steps} steps${tag ? ` (${tag})` : ""}
PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24

def bodies():
    return [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, SOLAR_MASS],
        [4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
         -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS],
        [8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
         2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS],
        [1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
         -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS],
        [1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
         -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS],
    ]

def advance(bs, pairs, dt, steps):
    for _ in range(steps):
        for b1, b2 in pairs:
            dx = b1[0] - b2[0]
            dy = b1[1] - b2[1]
            dz = b1[2] - b2[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * d2 ** 0.5)
            m1 = b1[6] * mag
            m2 = b2[6] * mag
            b1[3] -= dx * m2
            b1[4] -= dy * m2
            b1[5] -= dz * m2
            b2[3] += dx * m1
            b2[4] += dy * m1
            b2[5] += dz * m1
        for b in bs:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]

bs = bodies()
pairs = [(bs[i], bs[j]) for i in range(len(bs)) for j in range(i + 1, len(bs))]
advance(bs, pairs, 0.01, ${steps})
`;
}

async function share(base, code, runtime) {
  const res = await fetch(base + "/api/snippets", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code, runtime }) });
  if (!res.ok) throw new Error(`POST /api/snippets: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

/** Runs one A/B benchmark through the panel: B's code in the editor, A named in Compare with. */
async function compare(page, runtime, a, bCode) {
  await page.evaluate((c) => {
    window.pyplay.editor.code = c;
  }, bCode);
  for (const rt of ["pyodide", "micropython"]) {
    const box = page.getByRole("checkbox", { name: LABEL[rt], exact: true });
    if (rt === runtime) await box.check();
    else await box.uncheck();
  }
  await page.getByRole("textbox", { name: "Compare with", exact: true }).fill(a);
  const before = await page.evaluate(() => window.pyplay.bench.abStatus()?.id ?? null);
  const t0 = Date.now();
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await page.waitForFunction((prev) => !window.pyplay.bench.isRunning && (window.pyplay.bench.abStatus()?.id ?? null) !== prev, before, { timeout: 600000, polling: 500 });
  const ms = Date.now() - t0;
  const st = await page.evaluate(() => window.pyplay.bench.abStatus());
  if (!st) throw new Error(`the A/B benchmark did not start: ${await page.locator("#bench-panel .bench-error").textContent()}`);
  if (st.error) throw new Error(`A/B benchmark ${st.id} failed: ${st.error}`);
  const res = await (await fetch(new URL(`/api/bench/ab/${st.id}`, page.url()))).json();
  const r = res.results.find((x) => x.runtime === runtime) ?? {};
  if (process.env.POLLS) console.error(JSON.stringify(st.polls.map((p) => [Math.round(p.at), Math.round(p.ms), p.measured, p.stored, p.decided ? 1 : 0])));
  return { spread: interpreterSpread(res.diffs.filter((d) => d.runtime === runtime)), id: st.id, ms, outcome: st.outcome, verdict: r.verdict ?? "undecided", ratio: r.ratio, ciLow: r.ciLow, ciHigh: r.ciHigh, rounds: r.rounds ?? 0, measured: res.rounds, summary: r.summary ?? "" };
}

/**
 * How much the interpreters disagree about B/A beyond what their own rounds
 * explain (the simulation's interpreter × arm spread, in log units ≈
 * relative): the spread of the per-interpreter median log ratios, less
 * each median's own noise (1.25 · sd / √n for a median of n rounds, the sd
 * from the MAD).
 */
function interpreterSpread(diffs) {
  const by = new Map();
  for (const d of diffs) if (d.ratio > 0) by.set(d.interpreter, [...(by.get(d.interpreter) ?? []), Math.log(d.ratio)]);
  const meds = [];
  let within = 0;
  for (const xs of by.values()) {
    if (xs.length < 5) continue;
    const m = median(xs);
    const sd = 1.4826 * median(xs.map((x) => Math.abs(x - m)));
    meds.push(m);
    within += (1.25 * sd) ** 2 / xs.length;
  }
  if (meds.length < 3) return undefined;
  within /= meds.length;
  const mean = meds.reduce((a, b) => a + b, 0) / meds.length;
  const between = meds.reduce((a, b) => a + (b - mean) ** 2, 0) / (meds.length - 1);
  return Math.sqrt(Math.max(0, between - within));
}

const load0 = loadavg()[0];
const started = new Date();
const server = await startServer();
const browser = await launchBrowser();
const trials = [];
let chromium = "";
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // The editor on Pyodide: its background interpreter leaves this profile a
  // memory snapshot, which the benchmark's fresh interpreters start from, as
  // in any browser that has visited before.
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", String(e)));
  await page.goto(server.url + "/");
  await waitReady(page, 120000);
  await page.waitForFunction(() => window.pyplay?.marks.editor !== undefined, null, { timeout: 60000 });
  chromium = browser.version();
  for (let t = 0; t < 120 && RUNTIMES.includes("pyodide"); t++) {
    const saved = await page.evaluate(async () => (await (await caches.open("pyplay-snapshots")).keys()).length > 0);
    if (saved) break;
    await page.waitForTimeout(1000);
  }
  await page.getByRole("button", { name: "Benchmark", exact: true }).click();
  for (const runtime of RUNTIMES) {
    const steps = STEPS[runtime];
    const a = await share(server.url, nbody(steps), runtime);
    const twin = nbody(steps, "A/A twin");
    const more = nbody(Math.round(steps * 1.1));
    for (let i = 0; i < N; i++) {
      // Alternate which scenario goes first, so neither always follows the other.
      const order = i % 2 ? ["A/B", "A/A"] : ["A/A", "A/B"];
      for (const scenario of order) {
        const r = await compare(page, runtime, a, scenario === "A/A" ? twin : more);
        trials.push({ runtime, scenario, ...r });
        console.error(
          `${LABEL[runtime]} ${scenario} ${i + 1}/${N}: ${r.verdict} ${r.ratio?.toFixed(3)} [${r.ciLow?.toFixed(3)}–${r.ciHigh?.toFixed(3)}] ` +
            `after ${r.rounds} rounds (${r.measured} measured), ${(r.ms / 1000).toFixed(0)} s, ${r.outcome}, interpreter spread ${r.spread === undefined ? "–" : (100 * r.spread).toFixed(1) + " %"}`,
        );
      }
    }
  }
  await context.close();
} finally {
  await browser.close();
  await server.stop();
  server.cleanup();
}

// ---- the report ----------------------------------------------------------------

const load1 = loadavg()[0];
const pct = (k, n) => (n ? `${Math.round((100 * k) / n)} % (${k} of ${n})` : "–");
/** The median half-width of the 95 % intervals, in % of the ratio: how precise the verdicts were. */
const halfWidth = (ts) => {
  const w = ts.filter((t) => t.ciHigh > 0).map((t) => ((t.ciHigh - t.ciLow) / 2) * 100);
  return w.length ? `±${median(w).toFixed(1)} %` : "–";
};
const spreadOf = (ts) => {
  const xs = ts.map((t) => t.spread).filter((x) => x !== undefined);
  return xs.length ? `${(100 * median(xs)).toFixed(1)} %` : "–";
};
const rows = [];
for (const runtime of RUNTIMES)
  for (const scenario of ["A/A", "A/B"]) {
    const ts = trials.filter((t) => t.runtime === runtime && t.scenario === scenario);
    const count = (v) => ts.filter((t) => t.verdict === v).length;
    const [faster, same, slower, undecided] = ["faster", "same", "slower", "undecided"].map(count);
    const rate = scenario === "A/A" ? `false alarms: ${pct(faster + slower, ts.length)}` : `detected (slower): ${pct(slower, ts.length)}`;
    rows.push(
      `| ${scenario === "A/A" ? "A/A (same program twice)" : "A/B (B does 10 % more work)"} | ${LABEL[runtime]} | ${ts.length} | ${faster} | ${same} | ${slower} | ${undecided} | ${rate} | ` +
        `${halfWidth(ts)} | ${ts.length ? median(ts.map((t) => t.rounds)) : "–"} (${ts.length ? median(ts.map((t) => t.measured)) : "–"}) | ${ts.length ? (median(ts.map((t) => t.ms)) / 1000).toFixed(0) + " s" : "–"} | ${spreadOf(ts)} |`,
    );
  }
const detail = trials
  .map((t) => `${LABEL[t.runtime]} ${t.scenario}: ${t.verdict} ${t.ratio?.toFixed(3) ?? "–"} [${t.ciLow?.toFixed(3) ?? "–"}–${t.ciHigh?.toFixed(3) ?? "–"}], ${t.rounds}/${t.measured} rounds, ${(t.ms / 1000).toFixed(0)} s`)
  .join("; ");
const command = `make bench-trust${process.env.N ? ` N=${N}` : ""}${process.env.RUNTIMES ? ` RUNTIMES=${RUNTIMES.join(",")}` : ""}`;
const section = `${HEADING}

Command: \`${command}\` (i.e. \`N=${N} RUNTIMES=${RUNTIMES.join(",")} WRITE=BENCHMARKS.md node web/e2e/trust.bench.mjs\`, after \`make build\`).

Can the lab's A/B verdicts be believed? The real binary and headless Chromium ${chromium}; each benchmark goes through the editor's
Benchmark panel with its default settings, as a user would run it: *Compare with* names snippet A, the editor holds B,
threshold 2 %, budget 60 s, 5 fresh interpreters, warmup 1 s. The program is an n-body simulation (five bodies) of
${RUNTIMES.map((r) => `${STEPS[r]} steps on ${LABEL[r]}`).join(", ")}. In **A/A** both arms run that program (B is a
second snippet differing only by a comment), so any *faster* or *slower* is a false alarm; in **A/B** B simulates 10 %
more steps (natively 1.1× the work), so *slower* is a detection and *faster* a wrong call. A/A and A/B alternate.

| scenario | runtime | benchmarks | faster | same | slower | undecided | rate | median interval | median rounds: verdict (measured) | median time per benchmark | median interpreter spread |
| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |
${rows.join("\n")}

*same* means the 95 % interval of the ratio lies within ±2 % (so it needs an interval narrower than that; the median
interval column gives its half-width); *undecided* that it straddles a threshold when the budget
or the last look of the stop rule is reached. Rounds: those the verdict rests on (the server's stop rule looks at the
first rounds of every interpreter), and in brackets all complete rounds measured. Time: from Start to the end,
including five interpreter start-ups (from scratch: interpreters restored from one memory snapshot are clones, see docs/harness.md). Interpreter spread: how much the fresh
interpreters disagree about B/A beyond their own rounds' noise (the standard deviation of the per-interpreter median log
ratios, less their sampling noise) — the simulation's interpreter × arm spread, which sets how precise a verdict can be.
Verdicts are reached at the stop rule's looks (rounds per interpreter 10, 15, 22, …); the benchmark stops when a poll
of the server sees it, a second or more later, so it measures more rounds than the verdict uses.

Before December 2026 the panel ran its interpreters one after another, restored from the memory snapshot, with a fixed
plan of 60 rounds each: at a load average of 6–15, A/A gave 0 false alarms of 6 but every one undecided (±8.7 %), and
A/B (+10 %) was detected 3 times in 6. Running the interpreters together with looks planned from the budget (more rounds,
earlier decisions) but still restored from the snapshot, two A/A benchmarks came out *slower* 1.040 [1.015–1.066] and
*faster* 0.987 [0.975–1.000] with every interpreter agreeing: clones share whatever favours one arm, so their agreement
is no evidence. Cold starts and a random heap offset per arm fixed that (the table above).

Every benchmark: ${detail}.

Run on ${started.toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores); load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after
(the machine is shared with other work, which is the noise the design has to survive).
`;
console.log(section);
if (WRITE) {
  const old = readFileSync(WRITE, "utf8");
  const start = old.indexOf(`\n${HEADING}\n`);
  let out;
  if (start < 0) out = old.replace(/\n*$/, "\n\n") + section;
  else {
    const next = old.indexOf("\n## ", start + HEADING.length + 1);
    out = old.slice(0, start + 1) + section + (next < 0 ? "" : "\n" + old.slice(next + 1));
  }
  writeFileSync(WRITE, out);
  console.error(`wrote the "${HEADING.slice(3)}" section of ${WRITE}`);
}
