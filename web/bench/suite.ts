// /bench/suite (bundle "suite"): the reference suite (issue 15). "Run
// suite" measures every workload on every runtime this browser has —
// Pyodide and MicroPython running the workload's Python example, Go and
// Rust compiled to WebAssembly running its kernel — with the benchmark
// harness's rules (harness.ts, in one runtime worker per runtime), taking
// turns: per workload, each runtime is prepared (first run, warmup) and
// then the samples go round robin in ABBA order, so that drift hits every
// runtime alike. PyScript runs the workload as a PyScript page on Pyodide,
// in a preview frame of its own per workload (pyscript/lane.ts, as the
// editor's Benchmark does in PyScript mode). Each (workload, runtime) is an
// ordinary stored run on the workload's snippet (its Python example, stored
// like the editor stores code), streamed over /ws. The table is the
// server's (GET /api/bench/suite), for this browser and machine or for all
// of them.

import "../style.css";
import "../dashboard/dashboard.css";
import "./suite.css";
import { getJSON } from "./api";
import { ProducerStream, newRunID, wsURL, type RunInfo, type ServerError } from "./stream";
import { browserOf } from "./harness";
import { el, formatNs, formatRatio } from "../dom";
import { Runner } from "../runtime/runner";
import type { BenchEvent, BenchRequest, KernelSpec, RunStatus, RuntimeInfo, WorkerRuntime } from "../runtime/messages";
import { PyScriptBenchRunner, pyscriptPhases, type PyScriptPhases } from "../pyscript/lane";

interface Workload {
  id: string;
  title: string;
  n: number;
  check: string;
  snippet: string;
  example: string;
  code: string;
  label: string;
}

interface SuiteConfig {
  build: string;
  api: string;
  ws: string;
  worker: string;
  runtimes: Record<string, RuntimeInfo>;
  wasmBase: string;
  workloads: Workload[];
  /** The PyScript preview document's URL, or "" with previewPort: this host, that port; both empty when previews are off. */
  preview: string;
  previewPort?: string;
}

interface Cell {
  workload: string;
  medianNs: number;
  runs: number;
  ratio: number;
  ciLow: number;
  ciHigh: number;
  hint?: string;
}

interface Row {
  runtime: string;
  label: string;
  available: boolean;
  note?: string;
  baseline: boolean;
  versions: string[];
  cells: Cell[];
  geomean: { medianNs: number; ratio: number; ciLow: number; ciHigh: number; workloads: number; complete: boolean };
}

interface SuiteTable {
  scope: string;
  browser?: string;
  machine?: string;
  workloads: { id: string; title: string; snippet: string }[];
  rows: Row[];
  truncated: boolean;
}

/** What "Run suite" measures: a runtime worker's runtime, or a PyScript page on Pyodide ("pyscript/pyodide", as the table names it). */
type SuiteRuntime = WorkerRuntime | "pyscript/pyodide";

/** The runtimes "Run suite" can measure in a browser, in the table's order. */
const BROWSER_RUNTIMES: { runtime: SuiteRuntime; label: string }[] = [
  { runtime: "pyodide", label: "Pyodide" },
  { runtime: "micropython", label: "MicroPython" },
  { runtime: "pyscript/pyodide", label: "PyScript" },
  { runtime: "go-wasm", label: "Go→WASM" },
  { runtime: "rust-wasm", label: "Rust→WASM" },
];

/**
 * A time ratio: as the dashboards write it from 0.1 up ("0.52×", "2.29×"),
 * and with two significant digits below, where compiled code lands
 * ("0.0036×"), which a fixed two decimals would show as 0.00×.
 */
export function ratioText(r: number): string {
  if (!Number.isFinite(r) || r <= 0) return "–";
  return r >= 0.1 ? formatRatio(r) : `${Number(r.toPrecision(2))}×`;
}

/** Where PyScript pages are previewed, as the editor finds it (editor/main.ts); null when previews are off. */
function previewURLOf(cfg: SuiteConfig): URL | null {
  if (cfg.preview) return new URL(cfg.preview, location.href);
  if (!cfg.previewPort) return null;
  const url = new URL("/preview", location.href);
  url.port = cfg.previewPort;
  return url;
}

/** Ends what eng waits for (a start, a page's load or a step) with s, once. */
function settler(eng: Engine): (s: RunStatus | "fatal") => void {
  return (s) => {
    const f = eng.settle;
    eng.settle = null;
    f?.(s);
  };
}

const LABELS: Record<string, string> = Object.fromEntries(BROWSER_RUNTIMES.map((r) => [r.runtime, r.label]));

/** Settings, from the query string (tests run a small suite): ?workloads=fib,nbody&runtimes=pyodide,go-wasm&samples=10&budget=3000&warmup=300. */
export interface SuiteSettings {
  workloads: string[] | null;
  runtimes: string[] | null;
  samples: number;
  budgetMs: number;
  warmupMs: number;
  /** Test aid: workloads whose check is replaced by a wrong one, so that their kernels' runs fail. */
  badCheck: string[];
}

function numberParam(q: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const v = Number(q.get(name));
  return q.has(name) && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : def;
}

function listParam(q: URLSearchParams, name: string): string[] | null {
  const v = q.get(name);
  return v ? v.split(",").map((s) => s.trim()).filter(Boolean) : null;
}

export function settingsOf(search: string): SuiteSettings {
  const q = new URLSearchParams(search);
  return {
    workloads: listParam(q, "workloads"),
    runtimes: listParam(q, "runtimes"),
    samples: numberParam(q, "samples", 20, 1, 1000),
    budgetMs: numberParam(q, "budget", 15000, 100, 600000),
    warmupMs: numberParam(q, "warmup", 1000, 0, 60000),
    badCheck: listParam(q, "badcheck") ?? [],
  };
}

/** One (workload, runtime) run. */
interface Lane {
  runtime: SuiteRuntime;
  workload: Workload;
  runID: string;
  state: "waiting" | "sampling" | "done" | "failed" | "stopped";
  announced: boolean;
  spentMs: number;
  samples: number;
  error?: string;
  note?: string;
}

/** What runs the harness's steps: a runtime worker, or a PyScript page's. */
interface StepRunner {
  bench(request: BenchRequest, onEvent: (e: BenchEvent) => void): boolean;
  stop(): void;
  dispose(): void;
}

/**
 * One runtime's engine. A runtime worker is reused across workloads (fresh
 * namespace per iteration, or a stateless kernel); PyScript loads a page of
 * each workload's code in a fresh preview frame (page), whose start-up
 * (phases) its run records.
 */
interface Engine {
  runtime: SuiteRuntime;
  runner: StepRunner;
  version: string;
  failed?: string;
  settle: ((s: RunStatus | "fatal") => void) | null;
  page?: { phases?: PyScriptPhases };
}

class SuitePage {
  private readonly settings = settingsOf(location.search);
  private readonly workloads: Workload[];
  private readonly status: HTMLElement;
  private readonly runButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly bar: HTMLElement;
  private readonly barFill: HTMLElement;
  private readonly barText: HTMLElement;
  private readonly log: HTMLElement;
  private readonly tableBox: HTMLElement;
  private readonly scopeSelect: HTMLSelectElement;
  private runtimes: { runtime: SuiteRuntime; label: string; info: RuntimeInfo | null; why?: string }[] = [];
  /** Where PyScript pages run (null when previews are off), and the box their frames go in. */
  private readonly previewURL: URL | null;
  private readonly frames: HTMLElement;
  private stream: ProducerStream | null = null;
  private engines = new Map<string, Engine>();
  private running = false;
  private stopping = false;
  private current: Engine | null = null;
  private done = 0;
  private total = 0;
  private errors: string[] = [];
  private refreshTimer: number | undefined;

  constructor(
    private readonly cfg: SuiteConfig,
    main: HTMLElement,
  ) {
    const only = this.settings.workloads;
    this.workloads = cfg.workloads.filter((w) => !only || only.includes(w.id));
    this.status = document.getElementById("suite-status")!;
    this.runButton = el("button", { type: "button", className: "primary", id: "suite-run" }, "Run suite");
    this.stopButton = el("button", { type: "button", id: "suite-stop", disabled: true }, "Stop");
    this.barFill = el("div", { className: "fill" });
    this.barText = el("span", { className: "bar-text" }, "");
    this.bar = el("div", { className: "suite-bar" }, this.barFill);
    this.bar.setAttribute("role", "progressbar");
    this.bar.setAttribute("aria-label", "Suite progress");
    this.bar.setAttribute("aria-valuemin", "0");
    this.bar.setAttribute("aria-valuemax", "100");
    this.bar.setAttribute("aria-valuenow", "0");
    this.log = el("ul", { className: "suite-log", id: "suite-log" });
    this.scopeSelect = el(
      "select",
      { id: "suite-scope" },
      el("option", { value: "browser" }, "this browser and machine"),
      el("option", { value: "all" }, "all browsers and machines"),
    );
    this.tableBox = el("div", { className: "scroll", id: "suite-table" });
    this.previewURL = previewURLOf(cfg);
    this.frames = el(
      "div",
      { className: "suite-frames", id: "suite-frames", hidden: true },
      el("p", {}, "The PyScript page being measured (the workload's code; its page is empty):"),
    );
    const controls = el("div", { className: "suite-controls" }, this.runButton, this.stopButton, this.bar, this.barText);
    const runCard = el(
      "section",
      { className: "card", "aria-labelledby": "suite-run-h" },
      el("h2", { id: "suite-run-h" }, "Run it in this browser"),
      el("p", { className: "intro", id: "suite-plan" }, ""),
      controls,
      this.frames,
      this.log,
    );
    const tableCard = el(
      "section",
      { className: "card", "aria-labelledby": "suite-table-h" },
      el("h2", { id: "suite-table-h" }, "Results"),
      el("label", { className: "field" }, "Runs of ", this.scopeSelect),
      this.tableBox,
      el(
        "p",
        { className: "note" },
        "Median: of every measured sample (time of one execution of the workload). Ratio: the typical run's median over native CPython's on the same workload, ",
        "with its 95% interval; runs are the unit, so the interval includes how much runs vary. Geometric mean: over the workloads. ",
        el("a", { href: `${cfg.api}/suite` }, "JSON"),
        ".",
      ),
    );
    main.append(runCard, tableCard);
    this.runButton.onclick = () => void this.run();
    this.stopButton.onclick = () => this.stop();
    this.scopeSelect.onchange = () => void this.refresh();
    addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.running) this.stop();
    });
  }

  async init(): Promise<void> {
    this.runtimes = BROWSER_RUNTIMES.map((r) => ({
      ...r,
      info: (this.cfg.runtimes[r.runtime === "pyscript/pyodide" ? "pyscript" : r.runtime] as RuntimeInfo | undefined) ?? null,
    }));
    const ps = this.runtimes.find((r) => r.runtime === "pyscript/pyodide")!;
    if (!this.previewURL) ps.why = "PyScript previews are off on this server";
    else if (!this.cfg.runtimes["pyodide"]) ps.why = "Pyodide is not part of this build";
    try {
      const res = await fetch(new URL("manifest.json", new URL(this.cfg.wasmBase, location.href)));
      const manifest = res.ok ? ((await res.json()) as Record<string, { version?: string; file?: string; missing?: string }>) : {};
      for (const r of this.runtimes) {
        if (r.runtime !== "go-wasm" && r.runtime !== "rust-wasm") continue;
        const m = manifest[r.runtime];
        if (m?.file) r.info = { version: m.version ?? "", base: this.cfg.wasmBase, files: {} };
        else r.why = m?.missing ? `not built: ${m.missing}` : "not built (pyplay build)";
      }
    } catch {
      for (const r of this.runtimes) if (r.runtime === "go-wasm" || r.runtime === "rust-wasm") r.why = "the kernels' manifest could not be read";
    }
    const only = this.settings.runtimes;
    for (const r of this.runtimes) if (only && !only.includes(r.runtime)) r.why ??= "left out (runtimes= in the address)";
    for (const r of this.runtimes) if (!r.info) r.why ??= "not part of this build";
    const usable = this.usable();
    document.getElementById("suite-plan")!.textContent =
      `${this.workloads.length} workloads (${this.workloads.map((w) => w.title).join(", ")}) × ${usable.length} runtimes (${usable.map((r) => r.label).join(", ")}); ` +
      `per run a warmup of ${this.settings.warmupMs / 1000} s and ${this.settings.samples} samples within ${this.settings.budgetMs / 1000} s. ` +
      this.runtimes
        .filter((r) => r.why)
        .map((r) => `${r.label}: ${r.why}.`)
        .join(" ") +
      " Native CPython and native Go are measured with pyplay bench-native.";
    if (this.workloads.length === 0 || usable.length === 0) this.runButton.disabled = true;
    this.say(this.workloads.length === 0 ? "No workload matches workloads= in the address." : "Ready.");
    this.status.dataset.state = "ready";
    await this.refresh();
  }

  private usable() {
    return this.runtimes.filter((r) => r.info && !r.why);
  }

  private say(text: string): void {
    this.status.textContent = text;
  }

  private setProgress(): void {
    const pct = this.total ? Math.round((100 * this.done) / this.total) : 0;
    this.bar.setAttribute("aria-valuenow", String(pct));
    this.bar.setAttribute("aria-valuetext", `${pct} %, ${this.done} of ${this.total} steps`);
    this.barFill.style.width = `${pct}%`;
    this.barText.textContent = this.total ? `${pct} %` : "";
  }

  private note(text: string, cls = ""): void {
    this.log.append(el("li", { className: cls }, text));
  }

  // ---- the table ------------------------------------------------------------

  private scopeQuery(): string {
    const q = new URLSearchParams();
    if (this.settings.workloads) q.set("workloads", this.workloads.map((w) => w.id).join(","));
    if (this.scopeSelect.value === "browser") {
      const nav = navigator as Navigator & { userAgentData?: { brands?: { brand: string; version: string }[]; platform?: string } };
      const b = browserOf(nav.userAgent, nav.userAgentData);
      q.set("scope", "browser");
      q.set("browser", b.name);
      q.set("browserVersion", b.version);
      q.set("platform", nav.platform || nav.userAgentData?.platform || "unknown");
      if (nav.hardwareConcurrency) q.set("cores", String(nav.hardwareConcurrency));
      q.set("userAgent", nav.userAgent.slice(0, 400));
    } else q.set("scope", "all");
    return q.toString();
  }

  private async refresh(): Promise<void> {
    clearTimeout(this.refreshTimer);
    let table: SuiteTable;
    try {
      table = await getJSON<SuiteTable>(`${this.cfg.api}/suite?${this.scopeQuery()}`);
    } catch (err) {
      this.tableBox.replaceChildren(el("p", { className: "note" }, `The table could not be loaded: ${(err as Error).message}`));
      return;
    }
    this.tableBox.replaceChildren(this.renderTable(table));
  }

  private renderTable(t: SuiteTable): HTMLElement {
    const where = t.scope === "browser" ? `${t.browser} · ${t.machine}` : "every browser and machine";
    const head = el(
      "tr",
      {},
      el("th", { scope: "col" }, "Runtime"),
      ...t.workloads.map((w) => el("th", { scope: "col" }, el("a", { href: `/bench/${w.snippet}` }, w.title), el("div", { className: "ver id" }, w.snippet))),
      el("th", { scope: "col" }, "Geometric mean"),
    );
    const rows = t.rows.map((r) => {
      const tr = el(
        "tr",
        { className: r.baseline ? "baseline" : "" },
        el("th", { scope: "row" }, r.label, r.versions.length ? el("span", { className: "ver" }, ` ${r.versions.join(", ")}`) : ""),
      );
      tr.dataset.runtime = r.runtime;
      if (!r.available) {
        tr.append(el("td", { className: "empty", colSpan: t.workloads.length + 1 }, r.note ?? "not available"));
        return tr;
      }
      if (!r.cells.some((c) => c.runs > 0)) {
        // One note for the row instead of the same hint in every cell.
        const first = r.cells[0];
        const hint = first?.hint ? first.hint.split(t.workloads[0].snippet).join("ID") : "";
        const td = el("td", { className: "empty row-hint", colSpan: t.workloads.length + 1 }, el("span", { className: "dash" }, "—"), " no runs yet");
        if (hint) td.append(": ", hint.includes("ID") ? el("code", {}, hint) : hint, hint.includes("ID") ? " with each workload's ID (under its name)" : "");
        tr.append(td);
        return tr;
      }
      for (const c of r.cells) tr.append(this.cell(c, r));
      const g = r.geomean;
      const gtd = el("td", { className: "num" });
      if (g.ratio > 0) {
        gtd.append(el("span", { className: "strong" }, r.baseline ? "1×" : ratioText(g.ratio)));
        if (!r.baseline) gtd.append(el("span", { className: "ci" }, ` [${ratioText(g.ciLow)}–${ratioText(g.ciHigh)}]`));
        if (!g.complete) gtd.append(el("div", { className: "ver" }, `over ${g.workloads} of ${t.workloads.length}`));
      } else gtd.append(el("span", { className: "dash" }, "—"));
      if (g.medianNs > 0) gtd.append(el("div", { className: "ver" }, formatNs(g.medianNs)));
      tr.append(gtd);
      return tr;
    });
    return el(
      "table",
      { className: "grid suite" },
      el("caption", {}, `Median time and ratio to native CPython (× slower) — runs of ${where}${t.truncated ? "; the oldest runs were left out" : ""}`),
      el("thead", {}, head),
      el("tbody", {}, ...rows),
    );
  }

  private cell(c: Cell, r: Row): HTMLElement {
    const td = el("td", { className: "num" });
    td.dataset.workload = c.workload;
    if (c.runs === 0) {
      td.className = "empty";
      td.append(el("span", { className: "dash" }, "—"));
      if (c.hint) td.append(el("div", { className: "hint" }, c.hint));
      return td;
    }
    td.append(el("span", { className: "median" }, formatNs(c.medianNs)));
    if (c.ratio > 0) {
      td.append(" ", el("span", { className: "strong ratio" }, r.baseline ? "1×" : ratioText(c.ratio)));
      if (!r.baseline) td.append(el("div", { className: "ci" }, `[${ratioText(c.ciLow)}–${ratioText(c.ciHigh)}]`));
    } else if (c.hint) td.append(el("div", { className: "hint", title: c.hint }, "ratio: needs native CPython"));
    td.append(el("div", { className: "ver" }, `${c.runs} run${c.runs === 1 ? "" : "s"}`));
    return td;
  }

  // ---- running ------------------------------------------------------------

  stop(): void {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    this.stopButton.disabled = true;
    this.say("Stopping…");
    const eng = this.current;
    eng?.runner.stop();
    // A PyScript page still loading has no step to end: its load does.
    if (eng?.page) settler(eng)("interrupted");
  }

  /** Stores each workload's Python example as a snippet (the same content gives the same ID). */
  private async storeSnippets(): Promise<void> {
    for (const w of this.workloads) {
      const res = await fetch("/api/snippets", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ runtime: "pyodide", title: w.label, code: w.code }),
      });
      const body = (await res.json().catch(() => null)) as { id?: string; error?: { message?: string } } | null;
      if (!res.ok || !body?.id) throw new Error(`the example ${w.example} could not be stored as a snippet: ${body?.error?.message ?? `HTTP ${res.status}`}`);
      if (body.id !== w.snippet) throw new Error(`the example ${w.example} was stored as ${body.id}, not ${w.snippet} as the table expects`);
    }
  }

  /** A runtime worker's engine; it starts with start(). */
  private engine(runtime: WorkerRuntime, info: RuntimeInfo): Engine & { runner: Runner } {
    const eng = { runtime, runner: null as unknown as Runner, version: info.version, settle: null } as Engine & { runner: Runner };
    const settle = settler(eng);
    eng.runner = new Runner(this.cfg.worker, { [runtime]: info }, this.cfg.build, runtime, {
      progress: () => {},
      ready: (r) => {
        eng.version = r.version;
        settle("ok");
      },
      output: () => {},
      input: () => {},
      done: (r) => settle(r.restarted ? "interrupted" : r.status),
      fatal: (message) => {
        eng.failed = message;
        settle("fatal");
      },
    });
    // A clean, comparable start: no spare, no memory snapshot.
    eng.runner.spareEnabled = false;
    eng.runner.snapshotEnabled = false;
    return eng;
  }

  /**
   * PyScript's engine: no page until a workload loads one (loadPage); its
   * version is PyScript's, its runs' env names the interpreter.
   */
  private pyscriptEngine(info: RuntimeInfo): Engine {
    const none: StepRunner = { bench: () => false, stop: () => {}, dispose: () => {} };
    return { runtime: "pyscript/pyodide", runner: none, version: info.version, settle: null, page: {} };
  }

  /** Loads workload w as a PyScript page in a fresh preview frame; resolves once its harness waits for steps. */
  private loadPage(eng: Engine, w: Workload): Promise<RunStatus | "fatal"> {
    eng.runner.dispose();
    eng.failed = undefined;
    eng.page = {};
    const settle = settler(eng);
    const runner = new PyScriptBenchRunner(
      this.previewURL!,
      this.frames,
      { interpreter: "pyodide", code: w.code, html: "", label: `PyScript · ${w.title}` },
      {
        progress: () => {},
        ready: (info) => {
          eng.page = { phases: { loadMs: info.loadMs, pageRunMs: info.pageRunMs } };
          settle("ok");
        },
        done: (status) => settle(status),
        fatal: (message) => {
          eng.failed = message;
          settle("fatal");
        },
      },
    );
    eng.runner = runner;
    this.frames.hidden = false;
    return this.wait(eng, () => {
      runner.start();
      return true;
    });
  }

  private wait(eng: Engine, begin: () => boolean): Promise<RunStatus | "fatal"> {
    return new Promise((resolve) => {
      eng.settle = resolve;
      if (!begin()) {
        eng.settle = null;
        resolve("fatal");
      }
    });
  }

  private step(eng: Engine, lane: Lane, request: BenchRequest): Promise<RunStatus | "fatal"> {
    const t0 = performance.now();
    this.current = eng;
    return this.wait(eng, () => eng.runner.bench(request, (e) => this.onEvent(eng, lane, e))).then((s) => {
      lane.spentMs += performance.now() - t0;
      this.current = null;
      return s;
    });
  }

  private onEvent(eng: Engine, lane: Lane, e: BenchEvent): void {
    switch (e.kind) {
      case "calibrated": {
        const env: Record<string, unknown> = { ...e.env, hidden: document.hidden };
        let phases: Record<string, unknown> = { ...e.phases };
        if (eng.page) {
          env.interpreter = "pyodide";
          env.interpreterVersion = this.cfg.runtimes["pyodide"]?.version ?? "";
          phases = pyscriptPhases(eng.page.phases, e.phases.firstRun);
        }
        this.announce(eng, lane, {
          env,
          phases,
          config: {
            ...e.config,
            ...(eng.page ? { reset: "page body before every iteration" } : {}),
            samples: this.settings.samples,
            budgetMs: this.settings.budgetMs,
            interleaved: true,
            suite: lane.workload.id,
            runtimes: this.usable()
              .map((r) => r.runtime)
              .join(","),
          },
        });
        break;
      }
      case "samples": {
        const hidden = document.hidden;
        for (const s of e.samples) if (!s.warmup) lane.samples++;
        this.stream?.addSamples(lane.runID, hidden ? e.samples.map((s) => ({ ...s, hidden: true })) : e.samples);
        break;
      }
      case "error":
        lane.error = e.message;
        break;
    }
  }

  private announce(eng: Engine, lane: Lane, extra: Partial<RunInfo>): void {
    if (lane.announced) return;
    lane.announced = true;
    // PyScript's runs are stored as runtime pyscript; the server groups them by env.interpreter.
    const runtime = eng.page ? "pyscript" : lane.runtime;
    this.stream?.startRun({ id: lane.runID, snippet: lane.workload.snippet, runtime, runtimeVersion: eng.version, ...extra });
  }

  private finish(eng: Engine, lane: Lane, state: "done" | "failed" | "stopped", note?: string): void {
    if (lane.state === "done" || lane.state === "failed" || lane.state === "stopped") return;
    lane.state = state;
    if (state === "failed") {
      const msg = `${LABELS[lane.runtime]} · ${lane.workload.title}: ${lane.error ?? eng.failed ?? "failed"}`;
      this.errors.push(msg);
      this.note(msg, "err");
    }
    this.announce(eng, lane, {});
    this.stream?.endRun(lane.runID, state, state === "failed" ? (lane.error ?? eng.failed) : note);
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.status.dataset.state = "running";
    this.errors = [];
    this.log.replaceChildren();
    this.runButton.disabled = true;
    this.stopButton.disabled = false;
    const usable = this.usable();
    const samples = this.settings.samples;
    this.total = this.workloads.length * usable.length * (1 + samples) + usable.length;
    this.done = 0;
    this.setProgress();
    try {
      this.say("Storing the workloads' Python examples as snippets…");
      await this.storeSnippets();
      this.stream ??= new ProducerStream(wsURL(this.cfg.ws), { refused: (_run, err: ServerError) => this.note(`The server refused part of the suite (${err.code}): ${err.message}`, "err") });
      // Start-up, one runtime at a time so that they do not slow each other.
      // (PyScript starts a page per workload, when the workload comes.)
      for (const r of usable) {
        if (this.stopping) break;
        if (r.runtime === "pyscript/pyodide") {
          this.engines.set(r.runtime, this.pyscriptEngine(r.info!));
          this.done++;
          continue;
        }
        const runtime = r.runtime;
        this.say(`Starting ${r.label}…`);
        const eng = this.engine(runtime, r.info!);
        this.engines.set(runtime, eng);
        const st = await this.wait(eng, () => {
          eng.runner.start(runtime);
          return true;
        });
        if (st !== "ok") this.note(`${r.label} could not start: ${eng.failed ?? st}`, "err");
        this.done++;
        this.setProgress();
      }
      for (const w of this.workloads) {
        if (this.stopping) break;
        await this.measureWorkload(w, usable.map((r) => this.engines.get(r.runtime)!).filter((e) => e && !e.failed));
        void this.refresh();
      }
    } catch (err) {
      this.errors.push(String((err as Error)?.message ?? err));
      this.note(String((err as Error)?.message ?? err), "err");
    }
    for (const eng of this.engines.values()) eng.runner.dispose();
    this.engines.clear();
    this.frames.hidden = true;
    this.current = null;
    if (!this.stopping) {
      this.done = this.total;
      this.setProgress();
    }
    this.say(this.stopping ? "Stopped; storing what was measured…" : "Finished; storing the last samples…");
    await Promise.race([this.stream?.drained() ?? Promise.resolve(), new Promise((r) => setTimeout(r, 10000))]);
    const unsent = this.stream?.unacknowledged ?? 0;
    const outcome = this.stopping ? "Stopped." : this.errors.length ? `Finished with ${this.errors.length} failed run${this.errors.length === 1 ? "" : "s"}.` : "Finished.";
    this.say(outcome + (unsent ? ` ${unsent} messages are not stored yet; keep this tab open to resend them.` : ""));
    this.status.dataset.state = this.stopping ? "stopped" : "finished";
    this.running = false;
    this.stopping = false;
    this.runButton.disabled = false;
    this.stopButton.disabled = true;
    await this.refresh();
  }

  private async measureWorkload(w: Workload, engines: Engine[]): Promise<void> {
    const s = this.settings;
    const kernel: KernelSpec = { id: w.id, n: w.n, check: s.badCheck.includes(w.id) ? `not ${w.check}` : w.check };
    const lanes = new Map<Engine, Lane>();
    for (const eng of engines) lanes.set(eng, { runtime: eng.runtime, workload: w, runID: newRunID(), state: "waiting", announced: false, spentMs: 0, samples: 0 });
    const options = { warmupMs: s.warmupMs, minWarmup: s.warmupMs > 0 ? 5 : 1, maxWarmupMs: Math.max(s.warmupMs, s.budgetMs / 4), minSampleMs: 5 };
    // First run and warmup, each runtime in turn.
    for (const eng of engines) {
      const lane = lanes.get(eng)!;
      if (this.stopping) break;
      if (eng.page) {
        this.say(`${w.title} · ${LABELS[eng.runtime]}: loading the page…`);
        this.current = eng;
        const loaded = await this.loadPage(eng, w);
        this.current = null;
        if (loaded !== "ok") {
          this.finish(eng, lane, this.stopping || loaded === "interrupted" ? "stopped" : "failed");
          this.done++;
          this.setProgress();
          continue;
        }
      }
      this.say(`${w.title} · ${LABELS[eng.runtime]}: first run and warmup…`);
      const isKernel = eng.runtime === "go-wasm" || eng.runtime === "rust-wasm";
      const st = await this.step(eng, lane, isKernel ? { op: "prepare", code: "", options, kernel } : { op: "prepare", code: w.code, options });
      if (st === "ok") lane.state = "sampling";
      else this.finish(eng, lane, this.stopping || st === "interrupted" ? "stopped" : "failed");
      this.done++;
      this.setProgress();
    }
    // Samples in rounds, ABBA….
    const active = engines.filter((e) => lanes.get(e)!.state === "sampling");
    for (let round = 0; round < s.samples && !this.stopping; round++) {
      const order = round % 2 ? [...active].reverse() : active;
      if (!order.some((e) => lanes.get(e)!.state === "sampling")) break;
      this.say(`${w.title}: round ${round + 1} of ${s.samples}`);
      for (const eng of order) {
        const lane = lanes.get(eng)!;
        if (this.stopping) break;
        if (lane.state !== "sampling") continue;
        if (lane.spentMs >= s.budgetMs) {
          this.finish(eng, lane, "done", `time budget of ${s.budgetMs / 1000} s reached after ${lane.samples} of ${s.samples} samples`);
          continue;
        }
        const st = await this.step(eng, lane, { op: "sample", count: 1 });
        if (st !== "ok") this.finish(eng, lane, this.stopping || st === "interrupted" ? "stopped" : "failed");
        this.done++;
        this.setProgress();
      }
    }
    for (const [eng, lane] of lanes) {
      if (lane.state === "sampling") this.finish(eng, lane, this.stopping ? "stopped" : "done");
      else if (lane.state === "waiting" && this.stopping) lane.state = "stopped";
    }
    // A PyScript page is the workload's own: unloaded, and the next workload
    // loads its own (a page that failed does not keep PyScript out of it).
    for (const eng of engines) {
      if (!eng.page) continue;
      eng.runner.dispose();
      eng.failed = undefined;
      this.frames.hidden = true;
    }
    // Steps skipped (budget, failures) still count as done for the bar.
    this.done = Math.max(this.done, Math.min(this.total, this.stepsThrough(w)));
    this.setProgress();
    if (!this.stopping) this.note(`${w.title}: ${[...lanes.values()].map((l) => `${LABELS[l.runtime]} ${l.state === "done" ? `${l.samples} samples` : l.state}`).join(", ")}`);
  }

  /** Steps done once workload w is over. */
  private stepsThrough(w: Workload): number {
    const k = this.workloads.indexOf(w) + 1;
    const usable = this.usable().length;
    return usable + k * usable * (1 + this.settings.samples);
  }
}

function main(): void {
  const cfgEl = document.getElementById("pyplay-config");
  const main = document.getElementById("suite");
  if (!cfgEl || !main) return;
  const cfg = JSON.parse(cfgEl.textContent || "{}") as SuiteConfig;
  const page = new SuitePage(cfg, main);
  (globalThis as unknown as { pyplaySuite?: SuitePage }).pyplaySuite = page;
  void page.init();
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
}
