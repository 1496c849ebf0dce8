// The editor's benchmark panel: the Benchmark button opens it; Start stores
// the code as a snippet when it is not one yet (runs and dashboards belong
// to a snippet), starts a fresh interpreter of each chosen runtime, warms
// each up and takes its samples — in interleaved rounds when there are
// several, so that they share the machine's state — and streams everything
// to the server over /ws (benchstream.ts) for the live dashboard.
//
// Each runtime gets its own Runner (spare and snapshot off), so the start-up
// phases it records are a real, comparable start and the editor's own
// interpreter is left alone. The harness inside the worker (harness.ts)
// does the timing; this module only decides what to measure next.

import "./bench.css";
import { ProducerStream, newRunID, wsURL, type RunInfo, type ServerError } from "./benchstream";
import type { BenchEnv, BenchEvent, BenchRequest, BenchSample, RunStatus, RuntimeInfo, RuntimeName } from "./protocol";
import { Runner, type ReadyInfo } from "./runner";
import { formatNs, formatRatio, summarize } from "./stats";

export interface BenchPanelOptions {
  worker: string;
  build: string;
  runtimes: Record<string, RuntimeInfo>;
  /** The snippet the page was opened on, if any. */
  snippet?: { id: string; runtime: string; title: string };
  code(): string;
  /** The editor's runtime (stored with a new snippet). */
  runtime(): string;
  setStatus(state: string, text: string): void;
  /** A benchmark started (true) or ended (false): Run off, Stop on. */
  busy(on: boolean): void;
}

export interface BenchSettings {
  runtimes: RuntimeName[];
  samples: number;
  warmupMs: number;
  budgetMs: number;
}

export const DEFAULT_SETTINGS: BenchSettings = {
  runtimes: ["pyodide", "micropython"],
  samples: 30,
  warmupMs: 1000,
  budgetMs: 20000,
};

const LABELS: Record<RuntimeName, string> = { pyodide: "Pyodide", micropython: "MicroPython" };
const SETTINGS_KEY = "pyplay.bench";

type LaneState = "waiting" | "starting" | "warming up" | "sampling" | "done" | "failed" | "stopped";

/** One runtime within a benchmark. */
interface Lane {
  runtime: RuntimeName;
  runner: Runner;
  runID: string;
  state: LaneState;
  announced: boolean;
  ready?: ReadyInfo;
  env?: BenchEnv;
  warmup: number;
  measured: number[];
  spentMs: number;
  note?: string;
  error?: string;
  /** Resolves the step (or start-up) in progress. */
  settle: ((status: RunStatus | "fatal") => void) | null;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...kids);
  return e;
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

  // DOM
  private form!: HTMLFormElement;
  private startBtn!: HTMLButtonElement;
  private progress!: HTMLProgressElement;
  private statusLine!: HTMLElement;
  private link!: HTMLElement;
  private tbody!: HTMLTableSectionElement;
  private errorBox!: HTMLElement;
  private ratioLine!: HTMLElement;

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
      for (const l of this.lanes) if (l.announced) this.stream?.endRun(l.runID, "stopped", "the page was closed during the benchmark");
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The last benchmark's runs, as this page measured and sent them (tests, diagnostics). */
  results(): { runtime: RuntimeName; run: string; state: LaneState; warmup: number; measured: number; stored: number }[] {
    return this.lanes.map((l) => ({
      runtime: l.runtime,
      run: l.runID,
      state: l.state,
      warmup: l.warmup,
      measured: l.measured.length,
      stored: this.stream?.storedSamples(l.runID) ?? 0,
    }));
  }

  toggle(open = this.panel.hidden): void {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    this.button.classList.toggle("active", open);
    if (open && !this.running) this.startBtn.focus();
  }

  // ---- panel ---------------------------------------------------------------

  private build(): void {
    const s = this.settings;
    const check = (rt: RuntimeName) =>
      el("label", { className: "check" }, el("input", { type: "checkbox", name: "runtime", value: rt, checked: s.runtimes.includes(rt) }), " ", LABELS[rt]);
    const num = (label: string, name: string, value: number, min: number, max: number, step = 1) =>
      el("label", { className: "num" }, label, " ", el("input", { type: "number", name, value: String(value), min: String(min), max: String(max), step: String(step), required: true }));
    this.startBtn = el("button", { type: "submit", className: "primary" }, "Start");
    this.form = el(
      "form",
      { className: "bench-form" },
      el("fieldset", {}, el("legend", {}, "Runtimes"), check("pyodide"), check("micropython")),
      num("Samples", "samples", s.samples, 3, 1000),
      num("Warmup (s)", "warmup", s.warmupMs / 1000, 0, 60, 0.1),
      num("Time budget (s)", "budget", s.budgetMs / 1000, 1, 600),
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
    this.tbody = el("tbody");
    const head = el("tr", {}, ...["Runtime", "State", "Samples", "Median", "MAD", "95% CI of median", "Stored"].map((h) => el("th", { scope: "col" }, h)));
    const table = el("table", { className: "bench-table" }, el("caption", {}, "Benchmark results so far"), el("thead", {}, head), this.tbody);
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
    this.panel.replaceChildren(top, this.form, this.statusLine, this.link, this.errorBox, wrap, this.ratioLine, notes);
    this.render();
  }

  private readSettings(): BenchSettings | string {
    const data = new FormData(this.form);
    const runtimes = data.getAll("runtime").map(String) as RuntimeName[];
    if (runtimes.length === 0) return "Choose at least one runtime.";
    const samples = Math.round(Number(data.get("samples")));
    const warmup = Number(data.get("warmup"));
    const budget = Number(data.get("budget"));
    if (!(samples >= 3 && samples <= 1000)) return "Samples must be between 3 and 1000.";
    if (!(warmup >= 0 && warmup <= 60)) return "Warmup must be between 0 and 60 seconds.";
    if (!(budget >= 1 && budget <= 600)) return "The time budget must be between 1 and 600 seconds.";
    return { runtimes, samples, warmupMs: Math.round(warmup * 1000), budgetMs: Math.round(budget * 1000) };
  }

  private loadSettings(): BenchSettings {
    try {
      const s = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "null") as Partial<BenchSettings> | null;
      if (s && typeof s === "object") return { ...DEFAULT_SETTINGS, ...s };
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

  private render(): void {
    this.startBtn.disabled = this.running;
    for (const input of this.form.querySelectorAll("input")) input.disabled = this.running;
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
      const s = summarize(l.measured);
      const stored = this.stream?.storedSamples(l.runID) ?? 0;
      const cells = [
        LABELS[l.runtime] + (l.ready ? ` ${l.runtime === "pyodide" ? l.ready.version : l.ready.pythonVersion}` : ""),
        l.state + (l.note ? ` (${l.note})` : ""),
        `${l.measured.length} / ${this.settings.samples}` + (l.warmup ? ` + ${l.warmup} warmup` : ""),
        s.n ? formatNs(s.median) : "–",
        s.n ? formatNs(s.mad) : "–",
        s.n >= 2 ? `${formatNs(s.ciLow)} – ${formatNs(s.ciHigh)}` : "–",
        l.announced ? String(stored) : "–",
      ];
      const tr = el("tr", {}, el("th", { scope: "row" }, cells[0]), ...cells.slice(1).map((c) => el("td", {}, c)));
      tr.dataset.runtime = l.runtime;
      tr.dataset.state = l.state;
      return tr;
    });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 7, className: "empty" }, "No benchmark yet: choose the runtimes and press Start.")));
    this.tbody.replaceChildren(...rows);
    this.updateRatio();
  }

  private updateRatio(): void {
    const [a, b] = this.lanes;
    if (!a || !b || a.measured.length < 2 || b.measured.length < 2) {
      this.ratioNote = "";
    } else {
      const ma = summarize(a.measured).median;
      const mb = summarize(b.measured).median;
      const [slow, fast, r] = ma > mb ? [a, b, ma / mb] : [b, a, mb / ma];
      this.ratioNote = `${LABELS[slow.runtime]} takes ${formatRatio(r)} as long as ${LABELS[fast.runtime]} (ratio of medians).`;
    }
    this.ratioLine.textContent = this.ratioNote;
  }

  private say(text: string): void {
    this.message = text;
    this.queueRender();
  }

  // ---- the benchmark ----------------------------------------------------------

  /** Stores the code as a snippet unless it is one; returns its ID. */
  async snippetFor(code: string): Promise<string> {
    const known = this.saved.get(code);
    if (known) return known;
    if (this.opts.snippet && code === this.original) return this.opts.snippet.id;
    let runtime = this.opts.runtime();
    if (!["pyodide", "micropython", "pyscript"].includes(runtime)) runtime = "pyodide";
    const res = await fetch("/api/snippets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, runtime }),
    });
    const body = (await res.json().catch(() => null)) as { id?: string; error?: { message?: string } } | null;
    if (!res.ok || !body?.id) {
      const why = body?.error?.message ?? `HTTP ${res.status}`;
      throw new Error(`the code could not be stored as a snippet: ${why}`);
    }
    this.saved.set(code, body.id);
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
    this.running = true;
    this.stopping = false;
    this.error = "";
    this.ratioNote = "";
    this.lanes = [];
    this.opts.busy(true);
    this.opts.setStatus("running", "Benchmarking…");
    this.render();
    const code = this.opts.code();
    let outcome = "";
    try {
      this.say("Storing the code as a snippet…");
      const id = await this.snippetFor(code);
      this.snippetID = id;
      this.showLink(id);
      this.stream ??= new ProducerStream(wsURL(), {
        stored: () => this.queueRender(),
        refused: (_run, err) => this.refused(err),
      });
      this.lanes = settings.runtimes.map((rt) => this.newLane(rt));
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
    for (const l of this.lanes) {
      if (l.state === "starting") l.settle?.("fatal");
      else l.runner.stop();
    }
  }

  private newLane(runtime: RuntimeName): Lane {
    const lane: Lane = {
      runtime,
      runID: newRunID(),
      state: "waiting",
      announced: false,
      warmup: 0,
      measured: [],
      spentMs: 0,
      settle: null,
      runner: null as unknown as Runner,
    };
    lane.runner = new Runner(this.opts.worker, this.opts.runtimes, this.opts.build, runtime, {
      progress: (phase) => {
        if (lane.state === "starting") this.say(`Starting ${LABELS[runtime]}: ${phase === "download" ? "downloading" : "compiling and initialising"}…`);
      },
      ready: (info) => {
        lane.ready = info;
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
    lane.runner.spareEnabled = false;
    lane.runner.snapshotEnabled = false;
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
      case "calibrated":
        lane.env = { ...e.env, hidden: document.hidden };
        this.announce(lane, snippet, {
          env: lane.env as unknown as Record<string, unknown>,
          phases: e.phases as unknown as Record<string, unknown>,
          config: {
            ...e.config,
            samples: settings.samples,
            budgetMs: settings.budgetMs,
            interleaved: this.lanes.length > 1,
            runtimes: this.lanes.map((l) => l.runtime).join(","),
          },
        });
        break;
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
      this.error = `${LABELS[lane.runtime]}: ${lane.error}`;
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
      this.say(`Starting ${LABELS[lane.runtime]}…`);
      this.queueRender();
      const st = await this.wait(lane, () => {
        lane.runner.start(lane.runtime);
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
      this.say(`${LABELS[lane.runtime]}: first run and warmup…`);
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
