// The reference suite, measured reproducibly (`make bench-suite`, issue 15):
// starts the real binary on a fresh SQLite database and, for ROUNDS rounds,
//   1. opens /bench/suite in headless Chromium and presses Run suite with the
//      page's defaults (every workload on Pyodide, MicroPython, Go→WASM and
//      Rust→WASM), waiting for the page's own "finished" state, then
//   2. runs `bin/pyplay bench-native -server URL -snippet ID` (native CPython)
//      and `… -go` (native Go) for each workload's snippet,
// alternating, so that every cell of the table has ROUNDS runs taken at
// different times (runs are the unit of the intervals). Then it fetches GET
// /api/bench/suite and prints a Markdown table (median time of one execution
// · ratio to native CPython [95 % interval], geometric mean), the command,
// Chromium, CPython and CPU, and the load average before and after. With
// WRITE=BENCHMARKS.md (as make bench-suite does) it replaces that file's
// reference-suite section, keeping its comparison with the article (whose
// figures are rewritten from the new table).
//
// Environment: ROUNDS (default 3), PYTHON (the native interpreter, default
// python3 on PATH, as bench-native's -python), WRITE (a Markdown file to
// update), QUERY (a smoke test's smaller suite, the page's own settings, e.g.
// "workloads=fib&samples=3&budget=3000&warmup=100"; natives then take
// "-samples 5"), PYTHONS (more native interpreters for the plain-loop
// cross-check, comma-separated; default /usr/bin/python3), FROM (a results file an earlier run saved: print, and write,
// from it without measuring again).
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BINARY, ROOT, launchBrowser, openPage, startServer } from "./helpers.mjs";

const run = promisify(execFile);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PYTHON = process.env.PYTHON ?? "python3";
const WRITE = process.env.WRITE ?? "";
const QUERY = process.env.QUERY ?? "";
const FROM = process.env.FROM ?? "";
const PYTHONS = (process.env.PYTHONS ?? "/usr/bin/python3").split(",").map((p) => p.trim()).filter(Boolean);
const HEADING = "## The reference suite: Python, Go→WASM and Rust→WASM side by side";
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1 && ROUNDS <= 50)) throw new Error(`ROUNDS must be a whole number from 1 to 50, got ${process.env.ROUNDS}`);

async function api(base, path) {
  const res = await fetch(base + path);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** One browser suite: /bench/suite with its defaults, Run suite, until the page says it has finished. */
async function browserSuite(browser, base) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const { page, errors } = await openPage(context, `${base}/bench/suite${QUERY ? "?" + QUERY : ""}`);
    await page.waitForFunction(() => document.getElementById("suite-status")?.dataset.state === "ready", null, { timeout: 120000 });
    await page.getByRole("button", { name: "Run suite" }).click();
    await page.waitForFunction(() => ["finished", "stopped"].includes(document.getElementById("suite-status")?.dataset.state), null, { timeout: 1800000, polling: 1000 });
    const status = (await page.locator("#suite-status").textContent()).trim();
    if (!status.startsWith("Finished.")) throw new Error(`the suite did not finish cleanly: ${status}\n${await page.locator("#suite-log").textContent()}`);
    if (errors.length) console.error(`page errors: ${errors.join("; ")}`);
    return status;
  } finally {
    await context.close();
  }
}

/** One bench-native run; resolves to its last output line. */
async function native(base, snippet, go) {
  const args = ["bench-native", "-server", base, "-snippet", snippet, "-python", PYTHON, ...(go ? ["-go"] : []), ...(QUERY ? ["-samples", "5"] : [])];
  const { stdout } = await run(BINARY, args, { timeout: 300000, maxBuffer: 1 << 24 });
  const line = stdout.split("\n").find((l) => /samples, median/.test(l));
  if (!line) throw new Error(`bench-native ${args.join(" ")} did not measure:\n${stdout}`);
  return line;
}

/**
 * The cross-check, outside pyplay's harness: every workload's Python example
 * timed by one plain loop (exec of the compiled example in a fresh namespace,
 * output dropped; 5 warm-up executions, then the median of 7 spells of
 * ≥ 150 ms), the same script in Pyodide on a page's main thread and in each
 * native interpreter. Prints one line per example: "suite-<id>.py <ms>".
 */
const PLAIN_LOOP = `import sys, time, os, io, contextlib
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if not f.startswith("suite-"):
        continue
    code = compile(open(os.path.join(d, f)).read(), "main.py", "exec")
    def once():
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, {"__name__": "__main__"})
    for _ in range(5):
        once()
    spells = []
    for _ in range(7):
        t = time.perf_counter_ns()
        n = 0
        while time.perf_counter_ns() - t < 150e6:
            once()
            n += 1
        spells.append((time.perf_counter_ns() - t) / n)
    spells.sort()
    print(f, spells[3] / 1e6)
`;
const EXAMPLES = join(ROOT, "snippets", "examples");
const parsePlain = (text) => Object.fromEntries([...text.matchAll(/^suite-(\w+)\.py ([\d.]+)$/gm)].map((m) => [m[1], Number(m[2]) * 1e6]));

function plainNative(python, ids) {
  const dir = mkdtempSync(join(tmpdir(), "pyplay-suite-plain-"));
  try {
    for (const id of ids) copyFileSync(join(EXAMPLES, `suite-${id}.py`), join(dir, `suite-${id}.py`));
    writeFileSync(join(dir, "plain.py"), PLAIN_LOOP);
    return parsePlain(execFileSync(python, [join(dir, "plain.py"), dir], { encoding: "utf8" }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function plainPyodide(browser, base, ids) {
  const version = readdirSync(join(ROOT, "static", "dist", "runtime", "pyodide"))[0];
  const files = Object.fromEntries(ids.map((id) => [`suite-${id}.py`, readFileSync(join(EXAMPLES, `suite-${id}.py`), "utf8")]));
  const page = await browser.newPage();
  try {
    await page.goto(base + "/");
    const out = await page.evaluate(
      async ({ version, files, script }) => {
        const { loadPyodide } = await import(`/runtime/pyodide/${version}/pyodide.mjs`);
        const py = await loadPyodide({ indexURL: `/runtime/pyodide/${version}/` });
        py.FS.mkdir("/ex");
        for (const [f, c] of Object.entries(files)) py.FS.writeFile(`/ex/${f}`, c);
        py.FS.writeFile("/plain.py", script);
        let text = "";
        py.setStdout({ batched: (s) => (text += s + "\n") });
        py.runPython("import sys\nsys.argv = ['plain.py', '/ex']\nexec(open('/plain.py').read())");
        return text;
      },
      { version, files, script: PLAIN_LOOP },
    );
    return parsePlain(out);
  } finally {
    await page.close();
  }
}

/** Measures: ROUNDS of (browser suite, then natives); returns the table and what the report says about the run. */
async function measure() {
  const load0 = loadavg();
  if (load0[0] > cpus().length / 2) console.error(`warning: load average ${load0[0].toFixed(2)} on ${cpus().length} cores: other work will widen the intervals and skew the ratios`);
  const started = new Date();
  const t0 = Date.now();
  const py = execFileSync(PYTHON, ["-c", "import sys, platform, sysconfig; a = sysconfig.get_config_var('CONFIG_ARGS') or ''; print(platform.python_version(), sys.executable, 'enable-optimizations' in a, 'with-lto' in a)"], { encoding: "utf8" }).trim().split(" ");
  const server = await startServer();
  const browser = await launchBrowser();
  const chromium = browser.version();
  let table;
  let ids = [];
  const plain = [];
  // The plain-loop cross-check's native interpreters: PYTHON, then PYTHONS (default: the system's python3 when it is another one).
  const pythons = [{ version: py[0], executable: py[1] }];
  for (const p of PYTHONS) {
    if (!existsSync(p) || pythons.some((q) => realpathSync(q.executable) === realpathSync(p))) continue;
    pythons.push({ version: execFileSync(p, ["-c", "import platform; print(platform.python_version())"], { encoding: "utf8" }).trim(), executable: p });
  }
  const only = new URLSearchParams(QUERY).get("workloads")?.split(",");
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      const b0 = Date.now();
      const status = await browserSuite(browser, server.url);
      console.error(`round ${r}/${ROUNDS}: browser suite ${((Date.now() - b0) / 1000).toFixed(0)} s: ${status}`);
      if (!ids.length) ids = (await api(server.url, "/api/bench/suite")).workloads.filter((w) => !only || only.includes(w.id)).map((w) => ({ id: w.id, snippet: w.snippet }));
      for (const w of ids)
        for (const go of [false, true]) {
          const line = await native(server.url, w.snippet, go);
          console.error(`round ${r}/${ROUNDS}: native ${go ? "Go" : "CPython"} ${w.id} (${w.snippet}): ${line}`);
        }
    }
    table = await api(server.url, "/api/bench/suite");
    const wl = table.workloads.map((w) => w.id).filter((id) => !only || only.includes(id));
    plain.push({ name: "Pyodide (a page's main thread)", times: await plainPyodide(browser, server.url, wl) });
    for (const p of pythons) plain.push({ name: `CPython ${p.version} (${p.executable})`, python: p.executable, times: plainNative(p.executable, wl) });
    console.error(`plain loop: ${JSON.stringify(plain)}`);
  } finally {
    await browser.close();
    await server.stop();
    server.cleanup();
  }
  return {
    table,
    ids,
    plain,
    rounds: ROUNDS,
    python: PYTHON,
    pythons: PYTHONS.join(","),
    pythonVersion: py,
    chromium,
    cpu: `${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores)`,
    started: started.toISOString(),
    minutes: (Date.now() - t0) / 60000,
    load0,
    load1: loadavg(),
  };
}

let res;
if (FROM) res = JSON.parse(readFileSync(FROM, "utf8"));
else {
  res = await measure();
  const saved = join(tmpdir(), `pyplay-suite-bench-${Date.now()}.json`);
  writeFileSync(saved, JSON.stringify(res, null, 1));
  console.error(`results saved in ${saved} (FROM=${saved} prints them again)`);
}
const { table, pythonVersion, chromium, minutes, load0, load1 } = res;
const started = new Date(res.started);

// ---- the report ----------------------------------------------------------------

/** Three significant digits, with the unit, as the page's formatNs. */
function ns(x) {
  if (!(x > 0)) return "–";
  for (const [scale, unit] of [
    [1e9, "s"],
    [1e6, "ms"],
    [1e3, "µs"],
  ])
    if (x >= scale * 0.9995) return `${Number((x / scale).toPrecision(3))} ${unit}`;
  return `${Number(x.toPrecision(3))} ns`;
}
/** A ratio: two decimals from 0.1 up, two significant digits below. */
function ratio(r) {
  if (!(r > 0)) return "–";
  if (r >= 100) return `${r.toFixed(0)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${Number(r.toPrecision(2))}×`;
}
const interval = (o) => (o.ciLow > 0 && o.ciHigh > 0 ? ` [${ratio(o.ciLow)}–${ratio(o.ciHigh)}]` : "");

const rows = [];
const runsPerCell = new Set();
for (const row of table.rows) {
  const label = `${row.label}${row.versions?.length ? " " + row.versions.join(", ") : ""}`;
  if (!row.available) {
    rows.push(`| ${row.label} | ${row.note ?? "not available"} |${" |".repeat(table.workloads.length)}`);
    continue;
  }
  if (!row.cells.some((c) => c.runs > 0)) {
    rows.push(`| ${label} | ${row.cells[0]?.hint ?? "no runs"} |${" |".repeat(table.workloads.length)}`);
    continue;
  }
  const cells = row.cells.map((c) => {
    if (!c.runs) return "–";
    runsPerCell.add(c.runs);
    if (row.baseline) return `${ns(c.medianNs)} (1×)`;
    return `${ns(c.medianNs)} · **${ratio(c.ratio)}**${interval(c)}`;
  });
  const g = row.geomean;
  const geo = row.baseline ? "1×" : g.ratio > 0 ? `**${ratio(g.ratio)}**${interval(g)}${g.complete ? "" : ` (${g.workloads} workloads)`}` : "–";
  rows.push(`| ${label} | ${cells.join(" | ")} | ${geo} |`);
}
const titles = table.workloads.map((w) => w.title);
const runs = [...runsPerCell].sort((a, b) => a - b);
const geoOf = (rt) => table.rows.find((r) => r.runtime === rt)?.geomean ?? {};
const cellOf = (rt, w) => table.rows.find((r) => r.runtime === rt)?.cells.find((c) => c.workload === w) ?? {};
const py = geoOf("pyodide");
const pys = geoOf("pyscript/pyodide");
const gw = geoOf("go-wasm");
const rw = geoOf("rust-wasm");
const over = (a, b) => (a.ratio > 0 && b.ratio > 0 ? a.ratio / b.ratio : NaN);
const x = (v) => (Number.isFinite(v) ? (v >= 10 ? v.toFixed(0) : v.toFixed(1)) : "–");
// Per workload, how many times faster than Pyodide the compiled runtimes are (their extremes).
const perWorkload = (rt) =>
  table.workloads
    .map((w) => ({ title: w.title, v: cellOf("pyodide", w.id).medianNs / cellOf(rt, w.id).medianNs }))
    .filter((o) => Number.isFinite(o.v))
    .sort((a, b) => a.v - b.v);
const range = (rt) => {
  const p = perWorkload(rt);
  return p.length ? `${x(p[0].v)}× (${p[0].title}) to ${x(p[p.length - 1].v)}× (${p[p.length - 1].title})` : "–";
};
const fibGoWasm = cellOf("go-wasm", "fib").medianNs;
const fibGo = cellOf("native-go", "fib").medianNs;
const fibRust = cellOf("rust-wasm", "fib").medianNs;
const pyVer = table.rows.find((r) => r.runtime === "pyodide")?.versions?.join(", ") ?? "";
const cpVer = table.rows.find((r) => r.runtime === "cpython-native")?.versions?.join(", ") ?? pythonVersion[0];
const pgo = pythonVersion[2] === "True";
// The plain-loop cross-check: each interpreter's times, and their geometric mean against PYTHON's.
const plain = res.plain ?? [];
const plainBase = plain.find((p) => p.python === pythonVersion[1]);
const plainIds = table.workloads.map((w) => w.id).filter((id) => plainBase?.times[id] > 0);
const plainGeo = (p) => (plainBase && plainIds.length ? Math.exp(plainIds.reduce((a, id) => a + Math.log(p.times[id] / plainBase.times[id]), 0) / plainIds.length) : NaN);
const plainTable = plainBase
  ? `| Interpreter (plain loop) | ${plainIds.map((id) => table.workloads.find((w) => w.id === id).title).join(" | ")} | geometric mean against ${pythonVersion[0]} |
|---|${plainIds.map(() => "---|").join("")}---|
${plain.map((p) => `| ${p.name} | ${plainIds.map((id) => ns(p.times[id])).join(" | ")} | ${p === plainBase ? "1×" : ratio(plainGeo(p))} |`).join("\n")}`
  : "";
const plainPy = plain.find((p) => !p.python);
const plainOthers = plain.filter((p) => p.python && p !== plainBase);

/** What the Pyodide-against-CPython ratio means, from the table and the cross-check. */
function pyodideParagraph() {
  const low = py.ratio < 2.5;
  let t = `**Pyodide against native CPython.** ${ratio(py.ratio)}${interval(py)} by the geometric mean through the harness`;
  if (!plainBase) return t + ".";
  t += `, ${ratio(plainGeo(plainPy))} in a plain loop without it (below). `;
  t += low
    ? "That is below the 2.5–3.5× usually quoted for Pyodide against native CPython, and since the plain loop agrees, it is not pyplay's harness. "
    : "That is within the 2.5–3.5× usually quoted for Pyodide against native CPython. ";
  t += `The two interpreters differ in more than WebAssembly: Pyodide ${pyVer} is CPython 3.14 (built by a current Clang, run by Chromium ${chromium.split(".")[0]}'s V8), the native one CPython ${cpVer}${pgo ? "" : " from pyenv, configured without --enable-optimizations (no PGO or LTO)"}`;
  const others = plainOthers.map((p) => `${p.name} takes ${ratio(plainGeo(p))} its time`);
  t += others.length ? `; natively, ${others.join(", ")} on these examples` : "";
  const sys = plainOthers.find((p) => p.python === "/usr/bin/python3");
  if (sys) t += ` (against ${sys.name}, Pyodide is ${ratio(plainGeo(plainPy) / plainGeo(sys))})`;
  t += `. The quoted figures come from older Pyodide releases and engines, whose versions we could not check.`;
  t += ` The hand-measured table this one replaced had Pyodide level with native CPython (1.09×) on a machine at load 16–24: that was the load, not the runtimes.`;
  t += `

Cross-check without the harness: each workload's Python example, compiled once and executed in a fresh namespace
with output dropped, 5 warm-up executions and then the median of 7 spells of at least 150 ms, in Pyodide on a page's
main thread (the same Chromium) and in each native interpreter (median time of one execution):

${plainTable}`;
  return t;
}

const command = `make bench-suite${res.rounds !== 3 ? ` ROUNDS=${res.rounds}` : ""}${res.python !== "python3" ? ` PYTHON=${res.python}` : ""}${res.pythons && res.pythons !== "/usr/bin/python3" ? ` PYTHONS=${res.pythons}` : ""}`;
const section = `${HEADING}

One full measurement of the reference suite (issue 15, [docs/bench.md](docs/bench.md#the-reference-suite)): six
workloads, each in Python (run by Pyodide, MicroPython, a PyScript page on Pyodide and native CPython), Go (compiled to WebAssembly, and natively)
and Rust (compiled to WebAssembly), every result checked. Command: \`${command}\` (i.e. \`ROUNDS=${res.rounds}
WRITE=BENCHMARKS.md node web/e2e/suite.bench.mjs\`, after \`make build\`), which starts the real binary on a fresh
SQLite database and, in each of ${res.rounds} rounds, opens \`/bench/suite\` in headless Chromium ${chromium}, presses **Run suite**
(the page's defaults: 20 samples per run, 1 s warmup, 15 s budget; the runtimes take turns sample by sample) and waits
for it to finish, then runs, for each workload's snippet,

\`\`\`sh
bin/pyplay bench-native -server URL -snippet ID          # native CPython (${res.python}: ${pythonVersion[1]})
bin/pyplay bench-native -server URL -snippet ID -go      # native Go, the binary's own kernel
\`\`\`

and finally reads \`GET /api/bench/suite\`. Browser suites and native runs alternate, so each cell has
${runs.join("–")} run${runs.join() === "1" ? "" : "s"} taken at different times, and runs are the unit of the intervals. ${minutes.toFixed(0)} minutes in all.

Median time of one execution of the workload, then the ratio to native CPython (× slower, below 1 is faster) with its
95 % interval:

| Runtime | ${titles.join(" | ")} | geometric mean |
|---|${titles.map(() => "---|").join("")}---|
${rows.join("\n")}

Run on ${started.toISOString().slice(0, 10)}, ${res.cpu}, Chromium ${chromium};
native CPython ${cpVer} (${pythonVersion[1]}, configured ${pgo ? "with" : "without"} --enable-optimizations), Pyodide ${pyVer} (CPython 3.14 compiled to
WebAssembly); load average ${load0.map((l) => l.toFixed(2)).join(" ")} before, ${load1.map((l) => l.toFixed(2)).join(" ")} after.

**Against the article's claims.** The article that started pyplay measured requests per second of a small web
service: Pyodide ~500, RustPython ~800, Go WASM ~4000+, Rust WASM ~5000+ — compiled WebAssembly some 8–10× Pyodide.
On these compute kernels, in the same browser, the gap is much wider: by the geometric means, Go→WASM is about
${x(over(py, gw))}× faster than Pyodide (${ratio(py.ratio)} / ${ratio(gw.ratio)}) and Rust→WASM about ${x(over(py, rw))}× (${ratio(py.ratio)} / ${ratio(rw.ratio)}); per
workload, Go→WASM ranges from ${range("go-wasm")} and Rust→WASM from ${range("rust-wasm")}.
The order is the article's — Rust ahead of Go, both far ahead of Python — but the ratio is not: a
request-per-second figure includes the per-request work that is the same whatever the language (the host's HTTP
handling, serialisation, crossing into WebAssembly), which compresses the difference, while a kernel measures only
the language's own execution. Go→WASM also pays for Go's WebAssembly port (its goroutine stack switching makes calls
expensive: fib, pure recursion, takes ${x(fibGoWasm / fibGo)}× as long in Go→WASM as natively, ${ns(fibGoWasm)} against ${ns(fibGo)}, while
Rust→WASM needs ${ns(fibRust)}). RustPython, which the article put ahead of Pyodide, has no WebAssembly build that can be
had here, so that claim is not checked.

${pyodideParagraph()}
${
  pys.ratio > 0 && py.ratio > 0
    ? `
**PyScript against Pyodide.** The same Python as a PyScript page on the same Pyodide, timed by the same harness inside
the page's PyScript worker: ${ratio(pys.ratio)}${interval(pys)} native CPython by the geometric mean, ${ratio(pys.ratio / py.ratio)} Pyodide's
${ratio(py.ratio)} in the console's worker.
`
    : ""
}`;
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
