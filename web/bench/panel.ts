// The editor's benchmark panel: the Benchmark button opens it; Start stores
// the code as a snippet when it is not one yet (runs and dashboards belong
// to a snippet), starts a fresh interpreter of each chosen runtime, warms
// each up and takes its samples — in interleaved rounds when there are
// several, so that they share the machine's state — and streams everything
// to the server over /ws (stream.ts) for the live dashboard.
//
// Each runtime gets its own Runner (spare and snapshot off), so the start-up
// phases it records are a real, comparable start and the editor's own
// interpreter is left alone. The harness inside the worker (harness.ts)
// does the timing; this module only decides what to measure next. The
// statistics it shows are the server's, of the samples stored so far
// (api.ts), fetched as the acknowledgements come in.
//
// With "Compare with" filled, Start runs an A/B benchmark instead: the
// snippet named there is A, the editor's code B, measured in rounds over
// fresh interpreters by ab.ts (docs/harness.md, "A/B benchmarks").
//
// In PyScript mode the choices are PyScript's interpreters instead: each
// gets a preview frame of its own (pyscript/lane.ts) whose PyScript worker
// runs the page and then the same harness, with the page body reset before
// every iteration; the runs are streamed as runtime "pyscript" with the
// interpreter in their env.

import "./panel.css";
import { ProducerStream, newRunID, wsURL, type RunInfo, type ServerError } from "./stream";
import type { BenchEnv, BenchEvent, BenchRequest, BenchSample, RunStatus, RuntimeInfo, RuntimeName } from "../runtime/messages";
import { Runner } from "../runtime/runner";
import { PyScriptBenchRunner, pyscriptPhases, type PyScriptPhases } from "../pyscript/lane";
import type { Interpreter } from "../pyscript/messages";
import { APIError, armLabel, getJSON, postJSON, type Summary } from "./api";
import { ABBench, parseSnippetRef } from "./ab";
import { el, formatNs, formatRatio } from "../dom";

/** What Benchmark can measure: a console runtime, or PyScript on one of its interpreters. */
export type BenchChoice = RuntimeName | "pyscript/pyodide" | "pyscript/micropython";

/** A program as a snippet stores it (the panel stores the code before measuring it). */
export interface SnippetContent {
  code: string;
  runtime: string;
  html?: string;
  interpreter?: string;
}

export interface BenchPanelOptions {
  worker: string;
  build: string;
  runtimes: Record<string, RuntimeInfo>;
  /** The snippet the page was opened on, if any. */
  snippet?: { id: string; runtime: string; title: string };
  code(): string;
  /** The editor's runtime (stored with a new snippet). */
  runtime(): string;
  /** PyScript mode: the page body, the preview origin, the container for the pages' frames. */
  pyscript?: {
    preview: string; // the preview document's URL; "" when previews are off
    pane(): HTMLElement | null;
    html(): string;
    /** The page body of the snippet the page was opened on. */
    openedHTML: string;
  };
  setStatus(state: string, text: string): void;
  /** A benchmark started (true) or ended (false): Run off, Stop on. */
  busy(on: boolean): void;
}

export interface BenchSettings {
  /** Chosen in either mode; each mode measures its own (console runtimes, PyScript interpreters). */
  runtimes: BenchChoice[];
  samples: number;
  warmupMs: number;
  budgetMs: number;
  /** A/B benchmarks: the smallest difference that matters, in % (0 allowed). */
  threshold: number;
  /** A/B benchmarks: the whole comparison's time budget. */
  abBudgetMs: number;
  /** A/B benchmarks: fresh interpreters per runtime. */
  interpreters: number;
}

export const DEFAULT_SETTINGS: BenchSettings = {
  runtimes: ["pyodide", "micropython", "pyscript/pyodide", "pyscript/micropython"],
  samples: 30,
  warmupMs: 1000,
  budgetMs: 20000,
  threshold: 2,
  abBudgetMs: 60000,
  interpreters: 5,
};

const LABELS: Record<BenchChoice, string> = {
  pyodide: "Pyodide",
  micropython: "MicroPython",
  "pyscript/pyodide": "PyScript · Pyodide",
  "pyscript/micropython": "PyScript · MicroPython",
};
const CONSOLE_CHOICES: BenchChoice[] = ["pyodide", "micropython"];
const PYSCRIPT_CHOICES: BenchChoice[] = ["pyscript/pyodide", "pyscript/micropython"];

/** The interpreters' own start-up, as PyScript runs record it (phases of run.start). */
const SETTINGS_KEY = "pyplay.bench";
/** The lanes' statistics are fetched from the server at most this often while samples are stored. */
const SUMMARY_EVERY_MS = 1000;

type LaneState = "waiting" | "starting" | "warming up" | "sampling" | "done" | "failed" | "stopped";

/** What a lane needs of its interpreter: a console Runner or a PyScript page. */
interface LaneRunner {
  bench(request: BenchRequest, onEvent: (e: BenchEvent) => void): boolean;
  stop(): void;
  dispose(): void;
}

/** One runtime (or PyScript interpreter) within a benchmark. */
interface Lane {
  choice: BenchChoice;
  /** As the run is stored: pyodide, micropython or pyscript. */
  runtime: RuntimeName | "pyscript";
  /** PyScript lanes: the interpreter the page runs on. */
  interpreter?: Interpreter;
  runner: LaneRunner;
  /** Starts the interpreter (or loads the page); ready or fatal follows. */
  begin(): void;
  runID: string;
  state: LaneState;
  announced: boolean;
  /** Versions: runtimeVersion as stored, and what the panel shows. */
  ready?: { version: string; shown: string };
  pyscript?: PyScriptPhases;
  env?: BenchEnv;
  warmup: number;
  measured: number[];
  /** The server's statistics of the run's stored samples, as last fetched. */
  summary?: Summary;
  spentMs: number;
  note?: string;
  error?: string;
  /** Resolves the step (or start-up) in progress. */
  settle: ((status: RunStatus | "fatal") => void) | null;
}

/** A lane's bookkeeping before it starts: a new run, nothing measured. */
function unstarted(): Pick<Lane, "runID" | "state" | "announced" | "warmup" | "measured" | "spentMs" | "settle"> {
  return { runID: newRunID(), state: "waiting", announced: false, warmup: 0, measured: [], spentMs: 0, settle: null };
}

export class BenchPanel {
  readonly panel = document.getElementById("bench-panel") as HTMLElement;
  readonly button = document.getElementById("benchmark") as HTMLButtonElement;
  /** The stream to the server; kept across benchmarks (and exposed for tests). */
  stream: ProducerStream | null = null;
  private lanes: Lane[] = [];
  private running = false;
  private stopping = false;
  private snippetID: string | null = null;
  /** Code → snippet ID of what this page stored. */
  private saved = new Map<string, string>();
  /** The code the page was rendered with (the opened snippet's). */
  private readonly original: string;
  private hiddenEpoch = 0;
  private settings: BenchSettings;
  private renderQueued = false;
  private message = "";
  private error = "";
  private ratioNote = "";
  private summaryTimer: number | undefined;
  private summaryAt = 0;
  private summaryBusy = false;
  private summaryAgain = false;

  // DOM
  private form!: HTMLFormElement;
  private startBtn!: HTMLButtonElement;
  private progress!: HTMLProgressElement;
  private statusLine!: HTMLElement;
  private link!: HTMLElement;
  private tbody!: HTMLTableSectionElement;
  private errorBox!: HTMLElement;
  private ratioLine!: HTMLElement;
  private thead!: HTMLTableSectionElement;
  private caption!: HTMLElement;
  private compareInput!: HTMLInputElement;
  private compareMsg!: HTMLElement;
  private offerBtn!: HTMLButtonElement;
  private verdictBox!: HTMLElement;
  /** The A/B benchmark running or last run (null after a plain benchmark). */
  private ab: ABBench | null = null;
  private abURL = "";

  constructor(private readonly opts: BenchPanelOptions) {
    this.original = (document.getElementById("source") as HTMLTextAreaElement | null)?.defaultValue ?? "";
    this.settings = this.loadSettings();
    this.build();
    this.button.setAttribute("aria-controls", "bench-panel");
    this.button.setAttribute("aria-expanded", "false");
    this.button.addEventListener("click", () => this.toggle());
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.hiddenEpoch++;
    });
    // Leaving mid-benchmark loses what the server has not stored yet: ask
    // first, and if the page goes anyway, end its runs as stopped.
    window.addEventListener("beforeunload", (e) => {
      if (this.running || (this.stream && !this.stream.isDrained())) e.preventDefault();
    });
    window.addEventListener("pagehide", () => {
      if (!this.running) return;
      const runs = [...this.lanes, ...(this.ab?.lanes ?? [])];
      for (const l of runs) if (l.announced) this.stream?.endRun(l.runID, "stopped", "the page was closed during the benchmark");
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The last benchmark's runs, as this page measured and sent them (tests, diagnostics). */
  results(): { runtime: string; interpreter?: string; run: string; state: LaneState; warmup: number; measured: number; stored: number }[] {
    return this.lanes.map((l) => ({
      runtime: l.runtime,
      interpreter: l.interpreter,
      run: l.runID,
      state: l.state,
      warmup: l.warmup,
      measured: l.measured.length,
      stored: this.stream?.storedSamples(l.runID) ?? 0,
    }));
  }

  /**
   * The last A/B benchmark as this page ran it (tests, diagnostics): its ID,
   * how it ended, its rounds, the server's verdicts as last fetched, and its runs.
   */
  abStatus() {
    const ab = this.ab;
    if (!ab) return null;
    return {
      id: ab.spec.id,
      url: this.abURL,
      running: this.running,
      outcome: ab.outcome,
      error: ab.error,
      rounds: ab.rounds,
      interpreter: ab.interpreter,
      decided: ab.decided,
      done: ab.view?.done ?? false,
      results: ab.view?.results ?? [],
      polls: ab.polls,
      runs: ab.lanes.map((l) => ({
        runtime: l.runtime,
        arm: l.arm,
        snippet: l.snippet,
        interpreter: l.interpreter,
        run: l.runID,
        state: l.state,
        warmup: l.warmup,
        measured: l.measured,
        stored: this.stream?.storedSamples(l.runID) ?? 0,
      })),
    };
  }

  /** The editor's code changed: offer the shared version to compare with while it differs. */
  codeChanged(): void {
    const s = this.opts.snippet;
    const offer = !!s && s.runtime !== "pyscript" && !this.pyscriptMode && this.opts.code() !== this.original && this.compareInput.value.trim() === "";
    this.offerBtn.hidden = !offer;
    this.compareInput.placeholder = offer ? `/s/${s!.id} (the shared version)` : "a snippet link or ID";
  }

  toggle(open = this.panel.hidden): void {
    if (open) {
      this.showChoices();
      this.codeChanged();
    }
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    this.button.classList.toggle("active", open);
    if (open && !this.running) this.startBtn.focus();
  }

  // ---- panel ---------------------------------------------------------------

  private build(): void {
    const s = this.settings;
    const check = (rt: BenchChoice) =>
      el("label", { className: "check" }, el("input", { type: "checkbox", name: "runtime", value: rt, checked: s.runtimes.includes(rt) }), " ", LABELS[rt]);
    const num = (label: string, name: string, value: number, min: number, max: number, step = 1) =>
      el("label", { className: "num" }, label, " ", el("input", { type: "number", name, value: String(value), min: String(min), max: String(max), step: String(step), required: true }));
    this.startBtn = el("button", { type: "submit", className: "primary" }, "Start");
    // A/B: the field that turns Start into a comparison, and its settings.
    this.compareInput = el("input", { type: "text", id: "bench-compare", name: "compare", autocomplete: "off", spellcheck: false, placeholder: "a snippet link or ID" });
    this.compareMsg = el("p", { id: "bench-compare-msg", className: "bench-compare-msg", hidden: true });
    this.compareInput.setAttribute("aria-describedby", "bench-compare-msg bench-compare-help");
    this.compareInput.addEventListener("input", () => {
      this.setCompareError("");
      this.codeChanged();
    });
    this.compareInput.addEventListener("change", () => {
      const v = this.compareInput.value;
      if (v.trim()) {
        const ref = parseSnippetRef(v, location.href);
        this.setCompareError("error" in ref ? ref.error : "");
      }
    });
    this.offerBtn = el("button", { type: "button", className: "small", hidden: true }, "Compare with the shared version");
    this.offerBtn.addEventListener("click", () => {
      const id = this.opts.snippet?.id;
      if (!id) return;
      this.compareInput.value = `/s/${id}`;
      this.setCompareError("");
      this.codeChanged();
      this.compareInput.focus();
    });
    const abSet = el(
      "fieldset",
      { className: "bench-ab" },
      el("legend", {}, "Compare versions (A/B)"),
      el("span", { className: "compare" }, el("label", { htmlFor: "bench-compare" }, "Compare with"), this.compareInput, this.offerBtn),
      num("Threshold %", "threshold", s.threshold, 0, 50, 0.1),
      num("A/B budget (s)", "abBudget", s.abBudgetMs / 1000, 5, 1800),
      num("Interpreters", "interpreters", s.interpreters, 1, 20),
      this.compareMsg,
      el(
        "p",
        { id: "bench-compare-help", className: "bench-help" },
        "With Compare with filled, Start compares that snippet (A) with the code in the editor (B): both run in the same fresh interpreters, " +
          "a sample each per round in a shuffled order, until the difference is clearly above or within the threshold, or the budget is used up.",
      ),
    );
    this.form = el(
      "form",
      { className: "bench-form" },
      el("fieldset", {}, el("legend", {}, "Runtimes"), ...[...CONSOLE_CHOICES, ...PYSCRIPT_CHOICES].map(check)),
      num("Samples", "samples", s.samples, 3, 1000),
      num("Warmup (s)", "warmup", s.warmupMs / 1000, 0, 60, 0.1),
      num("Time budget (s)", "budget", s.budgetMs / 1000, 1, 600),
      abSet,
      this.startBtn,
    );
    this.form.setAttribute("aria-label", "Benchmark settings");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.start();
    });
    this.progress = el("progress", { max: 1, value: 0 });
    this.progress.setAttribute("aria-label", "Benchmark progress");
    this.statusLine = el("p", { className: "bench-status" });
    this.statusLine.setAttribute("aria-live", "polite");
    this.link = el("p", { className: "bench-link", hidden: true });
    this.errorBox = el("pre", { className: "bench-error", hidden: true });
    this.ratioLine = el("p", { className: "bench-ratio" });
    this.verdictBox = el("div", { className: "bench-verdict", hidden: true });
    this.verdictBox.setAttribute("aria-live", "polite");
    this.tbody = el("tbody");
    this.thead = el("thead");
    this.caption = el("caption", {}, "Benchmark results so far");
    const table = el("table", { className: "bench-table" }, this.caption, this.thead, this.tbody);
    const notes = el(
      "p",
      { className: "bench-help" },
      "Times are per run of the whole program, each run in a fresh namespace with its output dropped. " +
        "With two runtimes they take turns, a sample each, so that both see the same machine.",
    );
    if (!globalThis.crossOriginIsolated)
      notes.append(el("strong", {}, " This page is not cross-origin isolated: the timer is coarse (100 µs), so samples loop longer."));
    const top = el("div", { className: "bench-head" }, el("h2", { id: "bench-title" }, "Benchmark"), this.progress);
    this.panel.setAttribute("aria-labelledby", "bench-title");
    const wrap = el("div", { className: "bench-table-wrap" }, table);
    this.panel.replaceChildren(top, this.form, this.statusLine, this.link, this.verdictBox, this.errorBox, wrap, this.ratioLine, notes);
    this.render();
  }

  /** Shows (or clears) the message under Compare with, and marks the field invalid while there is one. */
  private setCompareError(message: string): void {
    this.compareMsg.textContent = message;
    this.compareMsg.hidden = !message;
    if (message) this.compareInput.setAttribute("aria-invalid", "true");
    else this.compareInput.removeAttribute("aria-invalid");
  }

  private get pyscriptMode(): boolean {
    return this.opts.runtime() === "pyscript";
  }

  /** The editor's mode decides what can be measured: console runtimes, or PyScript's interpreters. */
  private showChoices(): void {
    const mine = this.pyscriptMode ? PYSCRIPT_CHOICES : CONSOLE_CHOICES;
    for (const box of this.form.querySelectorAll<HTMLInputElement>('input[name="runtime"]')) {
      (box.closest("label") as HTMLElement).hidden = !mine.includes(box.value as BenchChoice);
    }
    // A/B benchmarks compare console programs.
    (this.form.querySelector(".bench-ab") as HTMLElement).hidden = this.pyscriptMode;
  }

  private readSettings(): BenchSettings | string {
    const data = new FormData(this.form);
    const chosen = data.getAll("runtime").map(String) as BenchChoice[];
    const mine = this.pyscriptMode ? PYSCRIPT_CHOICES : CONSOLE_CHOICES;
    const runtimes = chosen.filter((c) => mine.includes(c));
    if (runtimes.length === 0) return this.pyscriptMode ? "Choose at least one PyScript interpreter." : "Choose at least one runtime.";
    if (this.pyscriptMode && !this.opts.pyscript?.preview) return "PyScript previews are off on this server, so PyScript pages cannot be benchmarked.";
    const samples = Math.round(Number(data.get("samples")));
    const warmup = Number(data.get("warmup"));
    const budget = Number(data.get("budget"));
    const threshold = Number(data.get("threshold"));
    const abBudget = Number(data.get("abBudget"));
    const interpreters = Math.round(Number(data.get("interpreters")));
    if (!(samples >= 3 && samples <= 1000)) return "Samples must be between 3 and 1000.";
    if (!(warmup >= 0 && warmup <= 60)) return "Warmup must be between 0 and 60 seconds.";
    if (!(budget >= 1 && budget <= 600)) return "The time budget must be between 1 and 600 seconds.";
    if (!(threshold >= 0 && threshold <= 50)) return "The threshold must be between 0 and 50 %.";
    if (!(abBudget >= 5 && abBudget <= 1800)) return "The A/B budget must be between 5 and 1800 seconds.";
    if (!(interpreters >= 1 && interpreters <= 20)) return "Interpreters must be between 1 and 20.";
    // The other mode's choices are kept for when the editor switches back.
    const kept = this.settings.runtimes.filter((c) => !mine.includes(c));
    return {
      runtimes: [...kept, ...runtimes],
      samples,
      warmupMs: Math.round(warmup * 1000),
      budgetMs: Math.round(budget * 1000),
      threshold,
      abBudgetMs: Math.round(abBudget * 1000),
      interpreters,
    };
  }

  private loadSettings(): BenchSettings {
    try {
      const s = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "null") as Partial<BenchSettings> | null;
      if (s && typeof s === "object") {
        const settings = { ...DEFAULT_SETTINGS, ...s };
        // Settings saved before PyScript could be benchmarked choose its interpreters by default.
        if (!settings.runtimes.some((c) => PYSCRIPT_CHOICES.includes(c))) settings.runtimes = [...settings.runtimes, ...PYSCRIPT_CHOICES];
        return settings;
      }
    } catch {
      /* defaults */
    }
    return { ...DEFAULT_SETTINGS };
  }

  private queueRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  /** The table's columns: a plain benchmark's, or an A/B benchmark's. */
  private head(mode: "plain" | "ab"): void {
    if (this.thead.dataset.mode === mode) return;
    this.thead.dataset.mode = mode;
    const cols =
      mode === "ab"
        ? ["Runtime", "Arm", "State", "Interpreters ready", "Samples", "Median", "Stored"]
        : ["Runtime", "State", "Samples", "Median", "MAD", "95% CI of median", "Stored"];
    this.thead.replaceChildren(el("tr", {}, ...cols.map((h) => el("th", { scope: "col" }, h))));
    this.caption.textContent = mode === "ab" ? "A/B comparison so far, per runtime and arm" : "Benchmark results so far";
  }

  private render(): void {
    this.startBtn.disabled = this.running;
    for (const input of this.form.querySelectorAll("input")) input.disabled = this.running;
    this.offerBtn.disabled = this.running;
    this.verdictBox.hidden = !this.ab;
    if (this.ab) return this.renderAB(this.ab);
    this.head("plain");
    const target = this.settings.samples * Math.max(1, this.lanes.length);
    const done = this.lanes.reduce((n, l) => n + (l.state === "sampling" || l.state === "done" ? l.measured.length : 0), 0);
    this.progress.max = Math.max(1, target);
    this.progress.value = Math.min(done, target);
    this.progress.hidden = this.lanes.length === 0;
    this.statusLine.textContent = this.message;
    this.errorBox.hidden = !this.error;
    this.errorBox.textContent = this.error;
    this.ratioLine.textContent = this.ratioNote;
    const rows = this.lanes.map((l) => {
      const s = l.summary ?? { n: 0, median: 0, mad: 0, ciLow: 0, ciHigh: 0 };
      const stored = this.stream?.storedSamples(l.runID) ?? 0;
      const cells = [
        LABELS[l.choice] + (l.ready ? ` ${l.ready.shown}` : ""),
        l.state + (l.note ? ` (${l.note})` : ""),
        `${l.measured.length} / ${this.settings.samples}` + (l.warmup ? ` + ${l.warmup} warmup` : ""),
        s.n ? formatNs(s.median) : "–",
        s.n ? formatNs(s.mad) : "–",
        s.n >= 2 ? `${formatNs(s.ciLow)} – ${formatNs(s.ciHigh)}` : "–",
        l.announced ? String(stored) : "–",
      ];
      const tr = el("tr", {}, el("th", { scope: "row" }, cells[0]), ...cells.slice(1).map((c) => el("td", {}, c)));
      tr.dataset.runtime = l.choice;
      tr.dataset.state = l.state;
      return tr;
    });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 7, className: "empty" }, "No benchmark yet: choose the runtimes and press Start.")));
    this.tbody.replaceChildren(...rows);
    this.updateRatio();
  }

  /** An A/B benchmark: its verdicts in words, and a row per runtime and arm. */
  private renderAB(ab: ABBench): void {
    this.head("ab");
    const budget = ab.spec.budgetMs;
    const elapsed = ab.startedAt ? performance.now() - ab.startedAt : 0;
    this.progress.max = budget;
    this.progress.value = this.running ? Math.min(elapsed, budget) : budget;
    this.progress.hidden = false;
    this.statusLine.textContent = this.message;
    this.errorBox.hidden = !this.error;
    this.errorBox.textContent = this.error;
    this.ratioLine.textContent = "";

    const results = ab.view?.results ?? [];
    const several = ab.spec.runtimes.length > 1;
    const lines = results.map((r) => {
      const p = el("p", { className: `v-${r.verdict}` }, several ? el("strong", {}, `${LABELS[r.runtime as BenchChoice] ?? r.runtime}: `) : "", r.summary);
      p.dataset.runtime = r.runtime;
      p.dataset.arm = r.arm;
      p.dataset.verdict = r.verdict;
      return p;
    });
    if (lines.length === 0)
      lines.push(el("p", { className: "v-none" }, this.running ? "No verdict yet: the server compares the arms as the rounds come in." : "No verdict: no complete rounds were stored."));
    this.verdictBox.replaceChildren(...lines);

    const rows: HTMLTableRowElement[] = [];
    // One row per runtime and arm, over its interpreters (all alive at once).
    const current = ab.lanes.filter((l) => l.interpreter === 0);
    for (const l of current) {
      const all = ab.lanes.filter((x) => x.runtime === l.runtime && x.arm === l.arm);
      const ready = all.filter((x) => x.state === "sampling" || x.state === "done").length;
      const state = ab.lanes.some((x) => x.runtime === l.runtime && x.arm === l.arm && x.state === "failed") ? "failed" : l.state;
      const stored = all.reduce((n, x) => n + (this.stream?.storedSamples(x.runID) ?? 0), 0);
      const measured = all.reduce((n, x) => n + x.measured, 0);
      const res = results.find((r) => r.runtime === l.runtime);
      const median = l.arm === "a" ? res?.medianA : results.find((r) => r.runtime === l.runtime && r.arm === l.arm)?.medianB;
      const cells = [
        armLabel(l.arm) + ` · ${l.snippet}`,
        state,
        `${ready} of ${ab.spec.interpreters}`,
        String(measured),
        median ? formatNs(median) : "–",
        String(stored),
      ];
      const tr = el("tr", {}, el("th", { scope: "row" }, LABELS[l.runtime]), ...cells.map((c) => el("td", {}, c)));
      tr.dataset.runtime = l.runtime;
      tr.dataset.arm = l.arm;
      tr.dataset.state = state;
      rows.push(tr);
    }
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 7, className: "empty" }, "Starting…")));
    this.tbody.replaceChildren(...rows);
  }

  private updateRatio(): void {
    const [a, b] = this.lanes;
    if (!a?.summary || !b?.summary || a.summary.n < 2 || b.summary.n < 2) {
      this.ratioNote = "";
    } else {
      const ma = a.summary.median;
      const mb = b.summary.median;
      const [slow, fast, r] = ma > mb ? [a, b, ma / mb] : [b, a, mb / ma];
      this.ratioNote = `${LABELS[slow.choice]} takes ${formatRatio(r)} as long as ${LABELS[fast.choice]} (ratio of medians).`;
    }
    this.ratioLine.textContent = this.ratioNote;
  }

  private scheduleSummaries(): void {
    if (this.summaryBusy) {
      this.summaryAgain = true;
      return;
    }
    if (this.summaryTimer !== undefined) return;
    const wait = Math.max(0, SUMMARY_EVERY_MS - (performance.now() - this.summaryAt));
    this.summaryTimer = window.setTimeout(() => void this.fetchSummaries(), wait);
  }

  /** Takes each lane's statistics from the server (GET /api/bench/runs/{run}). */
  private async fetchSummaries(): Promise<void> {
    this.summaryTimer = undefined;
    this.summaryBusy = true;
    this.summaryAt = performance.now();
    const lanes = this.lanes.filter((l) => (this.stream?.storedSamples(l.runID) ?? 0) > 0);
    await Promise.all(
      lanes.map(async (l) => {
        try {
          l.summary = (await getJSON<{ summary: Summary }>(`/api/bench/runs/${encodeURIComponent(l.runID)}`)).summary;
        } catch {
          // The server is busy or away: the next acknowledgement asks again.
        }
      }),
    );
    this.summaryBusy = false;
    this.queueRender();
    if (this.summaryAgain) {
      this.summaryAgain = false;
      this.scheduleSummaries();
    }
  }

  /** The page's producer stream, opened on first use and kept (tests drive it too). */
  producer(): ProducerStream {
    return (this.stream ??= new ProducerStream(wsURL(), {
      stored: () => {
        this.queueRender();
        // A plain benchmark's lanes show the server's statistics of their runs.
        if (!this.ab) this.scheduleSummaries();
      },
      refused: (_run, err) => this.refused(err),
    }));
  }

  private say(text: string): void {
    this.message = text;
    this.queueRender();
  }

  // ---- the benchmark ----------------------------------------------------------

  /** The editor's program as a snippet would store it. */
  private content(): SnippetContent {
    let runtime = this.opts.runtime();
    if (!["pyodide", "micropython", "pyscript"].includes(runtime)) runtime = "pyodide";
    const c: SnippetContent = { code: this.opts.code(), runtime };
    const ps = this.opts.pyscript;
    // The interpreters are the benchmark's choice, not the editor's: the
    // page is stored on the default one (no interpreter field), so it lands
    // on the same snippet and dashboard whatever the Interpreter select says.
    if (runtime === "pyscript" && ps?.html()) c.html = ps.html();
    return c;
  }

  /**
   * Whether the program is the snippet the page was opened on, as far as a
   * benchmark is concerned: the same code (and for PyScript the same page
   * body; the interpreters are the benchmark's choice).
   */
  private isOpened(c: SnippetContent): boolean {
    const s = this.opts.snippet;
    if (!s || c.code !== this.original) return false;
    if (c.runtime !== "pyscript") return true;
    return s.runtime === "pyscript" && (c.html ?? "") === (this.opts.pyscript?.openedHTML ?? "");
  }

  /** Stores the program as a snippet unless it is one; returns its ID. */
  async snippetFor(content: SnippetContent): Promise<string> {
    const key = JSON.stringify(content);
    const known = this.saved.get(key);
    if (known) return known;
    if (this.isOpened(content)) return this.opts.snippet!.id;
    const res = await fetch("/api/snippets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(content),
    });
    const body = (await res.json().catch(() => null)) as { id?: string; error?: { message?: string } } | null;
    if (!res.ok || !body?.id) {
      const why = body?.error?.message ?? `HTTP ${res.status}`;
      throw new Error(`the code could not be stored as a snippet: ${why}`);
    }
    this.saved.set(key, body.id);
    return body.id;
  }

  private showLink(id: string): void {
    const a = el("a", { href: `/bench/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener" }, "Open the live dashboard");
    this.link.replaceChildren(a, ` of snippet ${id}: every run of this code, from every browser.`);
    this.link.hidden = false;
  }

  /** Starts a benchmark with the panel's settings; resolves when it has ended. */
  async start(): Promise<void> {
    if (this.running) return;
    const settings = this.readSettings();
    if (typeof settings === "string") {
      this.error = settings;
      this.render();
      return;
    }
    this.settings = settings;
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    if (this.compareInput.value.trim() && !this.pyscriptMode) return this.startAB(settings);
    this.ab = null;
    this.running = true;
    this.stopping = false;
    this.error = "";
    this.ratioNote = "";
    this.lanes = [];
    this.opts.busy(true);
    this.opts.setStatus("running", "Benchmarking…");
    this.render();
    const content = this.content();
    const code = content.code;
    let outcome = "";
    try {
      this.say("Storing the code as a snippet…");
      const id = await this.snippetFor(content);
      this.snippetID = id;
      this.showLink(id);
      this.producer();
      this.lanes = settings.runtimes
        .filter((c) => (content.runtime === "pyscript" ? PYSCRIPT_CHOICES : CONSOLE_CHOICES).includes(c))
        .map((c) => this.newLane(c, content));
      this.render();
      outcome = await this.measure(id, code, settings);
    } catch (err) {
      this.error = String((err as Error)?.message ?? err);
      outcome = "failed";
    } finally {
      for (const l of this.lanes) l.runner.dispose();
    }
    if (this.stream && !this.stream.isDrained()) {
      this.say(`${outcome} Sending the last results to the server…`);
      await Promise.race([this.stream.drained(), new Promise((r) => setTimeout(r, 30000))]);
    }
    const unsent = this.stream?.unacknowledged ?? 0;
    this.running = false;
    this.opts.busy(false);
    const stored = unsent === 0 ? " Every sample is stored." : ` ${unsent} messages are not stored yet; keep this tab open to resend them.`;
    this.say(outcome + (this.snippetID && this.lanes.some((l) => l.announced) ? stored : ""));
    const failed = this.lanes.some((l) => l.state === "failed") || (this.error && this.lanes.length === 0);
    this.opts.setStatus(failed ? "error" : this.stopping ? "stopped" : "done", failed ? "Benchmark failed" : this.stopping ? "Benchmark stopped" : "Benchmark finished");
    this.render();
  }

  /** Aborts the benchmark: the current step is interrupted, the runs end "stopped". */
  stop(): void {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    this.say("Stopping…");
    this.opts.setStatus("stopping", "Stopping the benchmark…");
    this.ab?.stop();
    for (const l of this.lanes) {
      if (l.state === "starting") l.settle?.("fatal");
      else l.runner.stop();
    }
  }

  /**
   * An A/B benchmark: A is the snippet named in Compare with, B the
   * editor's code (stored as a snippet); the server keeps the benchmark
   * (POST /api/bench/ab) and its statistics, ab.ts measures it.
   */
  private async startAB(settings: BenchSettings): Promise<void> {
    const ref = parseSnippetRef(this.compareInput.value, location.href);
    if ("error" in ref) {
      this.setCompareError(ref.error);
      this.compareInput.focus();
      return;
    }
    const runtimes = settings.runtimes.filter((c): c is RuntimeName => CONSOLE_CHOICES.includes(c));
    this.running = true;
    this.stopping = false;
    this.error = "";
    this.ratioNote = "";
    this.lanes = [];
    this.ab = null;
    this.link.hidden = true;
    this.opts.busy(true);
    this.opts.setStatus("running", "Comparing versions…");
    this.render();
    const content = this.content();
    let outcome = "";
    try {
      this.say(`Looking up snippet ${ref.id}…`);
      let a: { id: string; code: string; runtime: string };
      try {
        a = await getJSON(`/api/snippets/${encodeURIComponent(ref.id)}`);
      } catch (err) {
        const where = ref.elsewhere ? ` (the link is to ${ref.elsewhere}; only snippets stored on this server can be compared)` : "";
        const why = err instanceof APIError && err.status === 404 ? `There is no snippet ${ref.id} on this server${where}.` : `Snippet ${ref.id} could not be loaded: ${(err as Error).message}`;
        this.setCompareError(why);
        throw new Error(why);
      }
      if (a.runtime === "pyscript") {
        const why = `Snippet ${ref.id} is a PyScript page; A/B benchmarks compare console programs (Pyodide, MicroPython).`;
        this.setCompareError(why);
        throw new Error(why);
      }
      if (this.stopping) throw new Error("Stopped before it began.");
      this.say("Storing the editor's code as a snippet…");
      const b = await this.snippetFor(content);
      this.snippetID = b;
      const created = await postJSON<{ id: string; url: string }>("/api/bench/ab", {
        a: a.id,
        b,
        runtimes,
        threshold: settings.threshold / 100,
        budgetMs: settings.abBudgetMs,
        interpreters: settings.interpreters,
      });
      this.abURL = created.url || `/bench/ab/${encodeURIComponent(created.id)}`;
      const link = el("a", { href: this.abURL, target: "_blank", rel: "noopener" }, "Open live comparison");
      this.link.replaceChildren(link, ` of A = ${a.id} (the snippet) and B = ${b} (the editor's code).`);
      this.link.hidden = false;
      this.producer();
      this.ab = new ABBench(
        {
          id: created.id,
          arms: [
            { arm: "a", snippet: a.id, code: a.code },
            { arm: "b", snippet: b, code: content.code },
          ],
          runtimes,
          budgetMs: settings.abBudgetMs,
          interpreters: settings.interpreters,
          warmupMs: settings.warmupMs,
        },
        { worker: this.opts.worker, build: this.opts.build, runtimes: this.opts.runtimes, stream: this.producer() },
        { say: (text) => this.say(text), changed: () => this.queueRender() },
      );
      if (this.stopping) this.ab.stop();
      this.render();
      outcome = await this.ab.run();
      if (this.ab.error) this.error = this.ab.error;
    } catch (err) {
      this.error ||= String((err as Error)?.message ?? err);
      outcome = "The comparison could not start.";
    }
    const unsent = this.stream?.unacknowledged ?? 0;
    this.running = false;
    this.opts.busy(false);
    this.say(outcome + (unsent ? ` ${unsent} messages are not stored yet; keep this tab open to resend them.` : ""));
    const failed = !!this.error;
    this.opts.setStatus(failed ? "error" : this.stopping ? "stopped" : "done", failed ? "Comparison failed" : this.stopping ? "Comparison stopped" : "Comparison finished");
    this.render();
  }

  private newLane(choice: BenchChoice, content: SnippetContent): Lane {
    if (choice === "pyscript/pyodide" || choice === "pyscript/micropython") return this.newPyScriptLane(choice, content);
    const runtime = choice;
    const lane: Lane = {
      choice,
      runtime,
      begin: () => (lane.runner as Runner).start(runtime),
      ...unstarted(),
      runner: null as unknown as Runner,
    };
    lane.runner = new Runner(this.opts.worker, this.opts.runtimes, this.opts.build, runtime, {
      progress: (phase) => {
        if (lane.state === "starting") this.say(`Starting ${LABELS[runtime]}: ${phase === "download" ? "downloading" : "compiling and initialising"}…`);
      },
      ready: (info) => {
        lane.ready = { version: info.version, shown: info.runtime === "pyodide" ? info.version : info.pythonVersion };
        if (lane.state === "starting") lane.settle?.("ok");
      },
      output: () => {},
      input: () => {},
      done: (r) => lane.settle?.(r.restarted ? "interrupted" : r.status),
      fatal: (message) => {
        lane.error = message;
        lane.settle?.("fatal");
      },
    });
    // A clean, comparable start every time: no spare, no memory snapshot.
    const runner = lane.runner as Runner;
    runner.spareEnabled = false;
    runner.snapshotEnabled = false;
    return lane;
  }

  /** A PyScript page on one interpreter, in a preview frame of its own. */
  private newPyScriptLane(choice: "pyscript/pyodide" | "pyscript/micropython", content: SnippetContent): Lane {
    const interpreter: Interpreter = choice === "pyscript/micropython" ? "micropython" : "pyodide";
    const ps = this.opts.pyscript!;
    const pane = ps.pane() ?? this.panel;
    const lane: Lane = {
      choice,
      runtime: "pyscript",
      interpreter,
      begin: () => (lane.runner as PyScriptBenchRunner).start(),
      ...unstarted(),
      runner: null as unknown as LaneRunner,
    };
    lane.runner = new PyScriptBenchRunner(
      new URL(ps.preview, location.href),
      pane,
      { interpreter, code: content.code, html: content.html ?? "", label: LABELS[choice] },
      {
        progress: (text) => {
          if (lane.state === "starting") this.say(`Starting ${LABELS[choice]}: ${text}…`);
        },
        ready: (info) => {
          lane.ready = { version: this.opts.runtimes["pyscript"]?.version ?? "", shown: this.opts.runtimes[interpreter]?.version ?? info.pythonVersion };
          lane.pyscript = { loadMs: info.loadMs, pageRunMs: info.pageRunMs };
          if (lane.state === "starting") lane.settle?.("ok");
        },
        done: (status) => lane.settle?.(status),
        fatal: (message) => {
          lane.error = message;
          lane.settle?.("fatal");
        },
      },
    );
    return lane;
  }

  private wait(lane: Lane, begin: () => boolean): Promise<RunStatus | "fatal"> {
    return new Promise((resolve) => {
      lane.settle = (s) => {
        lane.settle = null;
        resolve(s);
      };
      if (!begin()) lane.settle("fatal");
    });
  }

  /** One harness step; its samples go to the stream as they come. */
  private step(lane: Lane, request: BenchRequest, id: string, settings: BenchSettings): Promise<RunStatus | "fatal"> {
    const epoch = this.hiddenEpoch;
    const hiddenAtStart = document.hidden;
    const t0 = performance.now();
    return this.wait(lane, () =>
      lane.runner.bench(request, (e) => this.onEvent(lane, e, id, settings, () => hiddenAtStart || document.hidden || this.hiddenEpoch !== epoch)),
    ).then((status) => {
      lane.spentMs += performance.now() - t0;
      return status;
    });
  }

  private onEvent(lane: Lane, e: BenchEvent, snippet: string, settings: BenchSettings, hidden: () => boolean): void {
    switch (e.kind) {
      case "calibrated": {
        lane.env = { ...e.env, hidden: document.hidden };
        const env: Record<string, unknown> = { ...lane.env };
        let phases: Record<string, unknown> = { ...e.phases };
        if (lane.interpreter) {
          env.interpreter = lane.interpreter;
          env.interpreterVersion = this.opts.runtimes[lane.interpreter]?.version ?? "";
          phases = pyscriptPhases(lane.pyscript, e.phases.firstRun);
        }
        this.announce(lane, snippet, {
          env,
          phases,
          config: {
            ...e.config,
            ...(lane.interpreter ? { reset: "page body before every iteration" } : {}),
            samples: settings.samples,
            budgetMs: settings.budgetMs,
            interleaved: this.lanes.length > 1,
            runtimes: this.lanes.map((l) => l.choice).join(","),
          },
        });
        break;
      }
      case "samples": {
        const h = hidden();
        const samples: BenchSample[] = e.samples.map((s) => (h ? { ...s, hidden: true } : s));
        for (const s of samples) {
          if (s.warmup) lane.warmup++;
          else lane.measured.push(s.ns);
        }
        this.stream?.addSamples(lane.runID, samples);
        this.queueRender();
        break;
      }
      case "error":
        lane.error = e.message;
        break;
    }
  }

  private announce(lane: Lane, snippet: string, extra: Partial<RunInfo>): void {
    if (lane.announced) return;
    lane.announced = true;
    const info: RunInfo = {
      id: lane.runID,
      snippet,
      runtime: lane.runtime,
      ...extra,
    };
    if (lane.ready) info.runtimeVersion = lane.ready.version;
    this.stream?.startRun(info);
  }

  private finish(lane: Lane, state: "done" | "failed" | "stopped", note?: string): void {
    if (lane.state === "done" || lane.state === "failed" || lane.state === "stopped") return;
    lane.state = state;
    lane.note = note;
    if (state === "failed" && lane.error) {
      this.error = `${LABELS[lane.choice]}: ${lane.error}`;
    }
    if (this.snippetID && (lane.announced || state === "failed")) {
      // A run that failed before it was calibrated is still recorded, with its error.
      this.announce(lane, this.snippetID, {});
      this.stream?.endRun(lane.runID, state, state === "failed" ? lane.error : note);
    }
    this.queueRender();
  }

  private refused(err: ServerError): void {
    this.error = `The server refused part of the benchmark (${err.code}): ${err.message}`;
    this.queueRender();
  }

  private async measure(id: string, code: string, settings: BenchSettings): Promise<string> {
    // Start-up, one runtime at a time so that they do not slow each other.
    for (const lane of this.lanes) {
      if (this.stopping) break;
      lane.state = "starting";
      this.say(`Starting ${LABELS[lane.choice]}…`);
      this.queueRender();
      const st = await this.wait(lane, () => {
        lane.begin();
        return true;
      });
      if (st !== "ok") {
        if (this.stopping) lane.state = "stopped";
        else this.finish(lane, "failed");
        continue;
      }
      lane.state = "waiting";
    }
    // Warmup, and the first run before it.
    const options = {
      warmupMs: settings.warmupMs,
      minWarmup: settings.warmupMs > 0 ? 5 : 1,
      maxWarmupMs: Math.max(settings.warmupMs, settings.budgetMs / 4),
      minSampleMs: 5,
    };
    for (const lane of this.lanes) {
      if (this.stopping || lane.state !== "waiting") continue;
      lane.state = "warming up";
      this.say(`${LABELS[lane.choice]}: first run and warmup…`);
      this.queueRender();
      const st = await this.step(lane, { op: "prepare", code, options }, id, settings);
      if (st === "ok") lane.state = "sampling";
      else this.finish(lane, this.stopping || st === "interrupted" ? "stopped" : "failed");
    }
    // Samples, in rounds; the order alternates (ABBA…) so neither runtime
    // always follows the other.
    const active = this.lanes.filter((l) => l.state === "sampling");
    for (let round = 0; round < settings.samples && !this.stopping; round++) {
      const order = round % 2 ? [...active].reverse() : active;
      if (!order.some((l) => l.state === "sampling")) break;
      this.say(active.length > 1 ? `Round ${round + 1} of ${settings.samples}` : `Sample ${round + 1} of ${settings.samples}`);
      for (const lane of order) {
        if (this.stopping) break;
        if (lane.state !== "sampling") continue;
        if (lane.spentMs >= settings.budgetMs) {
          this.finish(lane, "done", `time budget of ${settings.budgetMs / 1000} s reached after ${lane.measured.length} of ${settings.samples} samples`);
          continue;
        }
        const st = await this.step(lane, { op: "sample", count: 1 }, id, settings);
        if (st !== "ok") this.finish(lane, this.stopping || st === "interrupted" ? "stopped" : "failed");
      }
    }
    for (const lane of this.lanes) {
      if (lane.state === "sampling" || lane.state === "warming up") this.finish(lane, this.stopping ? "stopped" : "done");
      else if (this.stopping && (lane.state === "waiting" || lane.state === "starting")) lane.state = "stopped";
    }
    if (this.stopping) return "Stopped.";
    if (this.lanes.every((l) => l.state === "failed")) return "The benchmark failed.";
    return "Finished.";
  }
}
