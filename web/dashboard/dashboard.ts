// The benchmark dashboards (bundle "dashboard"): /bench/{id}, one snippet's
// runs, live; and /bench, the overview across snippets. The server renders
// static/templates/dashboard.html or bench.html with a JSON config
// (#pyplay-config: build, snippet, api, ws, baseline); this script loads the
// stored runs from the REST API (docs/bench.md), follows new ones over /ws
// as a viewer, and draws the charts (charts.ts) and tables. Every statistic
// in them is the server's (bench/api.ts): runs that change live are
// described again with the comparison, and when the server cannot compare,
// the page says so and asks again.

import "../style.css";
import "./dashboard.css";
import { APIError, getJSON, type Summary } from "../bench/api";
import { ViewerStream, wsURL, type RunInfo } from "../bench/stream";
import { el, formatNs, formatRatio } from "../dom";
import type { BenchSample } from "../runtime/messages";
import { HistogramChart, RUNTIME_LABELS, TimeSeriesChart, WaterfallChart, type Phases } from "./charts";
import { ABDashboard, ABList, type ABInfo } from "./ab";

interface SnippetInfo {
  id: string;
  title: string;
  /** The title, or what the code opens with (a comment, a docstring); "" when nothing names it. */
  name?: string;
  runtime: string;
  created?: string;
}

interface DashboardConfig {
  build: string;
  snippet: SnippetInfo | null;
  api: string;
  ws: string;
  baseline: string;
  /** /bench/ab/{id}: the A/B benchmark. */
  ab?: ABInfo;
}

/** runtime × browser × machine: the unit of comparison (server/bench_groups.go). */
interface Group {
  key: string;
  runtime: string;
  browser: string;
  machine: string;
  label: string;
}

/** A run as GET /api/bench/runs and /api/bench/runs/{run} return it: what its producer announced, and more. */
interface RunView extends Omit<RunInfo, "phases"> {
  phases?: Phases;
  created?: string;
  finished?: string;
  status: string;
  error?: string;
  samples?: BenchSample[];
  sampleCount?: number;
  /** Absent until the server has described the run (a run that started live). */
  group?: Group;
  warmupCount?: number;
  summary?: Summary;
  warnings?: string[];
}

interface CompareRow extends Group {
  runtimeVersions: string[];
  runs: string[];
  summary: Summary;
  warnings: string[];
  baseline: boolean;
  /** Time ratio to the baseline (> 1 slower) and its 95% interval, runs as the unit (server/bench/stats CompareRuns). */
  ratio?: number;
  ciLow?: number;
  ciHigh?: number;
  runComparison?: { note?: string; summary?: string };
  /** baseline, faster, slower, same, undecided or no data. */
  verdict: string;
  text: string;
}

interface CompareTable {
  baseline: string;
  groups: CompareRow[];
  truncated?: boolean;
}

/** What this page knows about one run: stored data merged with live messages. */
interface RunState extends RunView {
  samples: BenchSample[];
  bySeq: Map<number, BenchSample>;
  /** Samples that arrived over /ws (tests and the status line read it). */
  live: number;
  liveStarted: boolean;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

function readConfig(): DashboardConfig {
  const raw = $("pyplay-config")?.textContent ?? "{}";
  const cfg = JSON.parse(raw) as Partial<DashboardConfig>;
  return { build: "", snippet: null, api: "/api/bench", ws: "/ws", baseline: "", ...cfg };
}

const runtimeLabel = (rt: string) => RUNTIME_LABELS[rt] ?? rt;

/**
 * The runtime a run is compared as: the server's group says (PyScript runs
 * per interpreter); until it has described a live run, the run's own.
 */
function seriesRuntime(r: RunView): string {
  if (r.group?.runtime) return r.group.runtime;
  // A run seen live, before the server's grouping of it is fetched: the
  // same rule as the server's (groups.go), PyScript runs by interpreter.
  const i = r.env?.interpreter;
  return r.runtime === "pyscript" && (i === "pyodide" || i === "micropython") ? `pyscript/${i}` : r.runtime;
}

/** " 0.7.31 (MicroPython 1.27.0)": the runtime's version, and a PyScript run's interpreter's. */
function versionOf(r: RunView): string {
  const v = r.runtimeVersion ? ` ${r.runtimeVersion}` : "";
  const iv = r.env?.interpreterVersion;
  return typeof iv === "string" && iv && r.runtime === "pyscript" ? `${v} (${runtimeLabel(String(r.env?.interpreter))} ${iv})` : v;
}

function timeOf(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

function shortTime(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * Warnings as short labels ("high variance") that open to the full advice:
 * next to the numbers without burying them.
 */
function warningList(ws: string[]): HTMLElement | string {
  if (!ws.length) return el("span", { className: "ok" }, "none");
  return el(
    "div",
    { className: "warnings" },
    ...ws.map((w) => {
      const i = w.indexOf(":");
      const head = i > 0 ? w.slice(0, i) : w;
      const rest = i > 0 ? w.slice(i + 1).trim() : "";
      return rest ? el("details", {}, el("summary", {}, head), rest) : el("div", { className: "w" }, head);
    }),
  );
}

/** The comparison table's columns. */
const COMPARE_COLUMNS = ["Runtime", "Browser", "Machine", "Runs", "Samples", "Median", "MAD", "p95", "95% CI of median", "Ratio to baseline (95% CI)", "Verdict", "Warnings"];

function section(host: HTMLElement, id: string, title: string, intro?: string): HTMLElement {
  const s = el("section", { className: "card" }, el("h2", { id }, title));
  s.setAttribute("aria-labelledby", id);
  if (intro) s.append(el("p", { className: "intro" }, intro));
  host.append(s);
  return s;
}

// ---- /bench/{id} ---------------------------------------------------------------------

/** Runs whose samples are fetched on open (newest first); the table lists all. */
const DETAIL_RUNS = 40;
/**
 * The comparison, and the statistics of the runs that changed live, are
 * re-fetched at most this often while samples stream in (the server pools
 * every stored sample for the comparison); the charts and the runs' sample
 * counts follow every message at once.
 */
const REFRESH_EVERY_MS = 2000;
/** A failed comparison is asked for again after this long, doubling up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;
/** Rows of the runs table; older runs stay in the exports. */
const TABLE_RUNS = 100;

class SnippetDashboard {
  readonly runs = new Map<string, RunState>();
  /** Live counters, for the status line and for tests. */
  readonly live = { messages: 0, samples: 0, lastAt: 0 };
  compare: CompareTable | null = null;
  private baseline = new URLSearchParams(location.search).get("baseline") ?? "";
  private readonly status: HTMLElement;
  private readonly viewer: ViewerStream;
  private renderQueued = false;
  private refreshTimer: number | undefined;
  private refreshAt = 0;
  private refreshBusy = false;
  private refreshAgain = false;
  /** Runs that changed over /ws since the server last described them. */
  private readonly changed = new Set<string>();
  /** Why the comparison is not current ("" when it is), and the wait before asking again. */
  private compareError = "";
  private retryMs = 0;
  private connection = "connecting";
  private loadError = "";

  private readonly compareBody: HTMLTableSectionElement;
  private readonly compareNote: HTMLElement;
  private readonly baselineSel: HTMLSelectElement;
  private readonly runsBody: HTMLTableSectionElement;
  private readonly series: TimeSeriesChart;
  private readonly hist: HistogramChart;
  private readonly waterfall: WaterfallChart;
  /** The A/B benchmarks this snippet is an arm of. */
  readonly abs: ABList;

  constructor(
    private readonly cfg: DashboardConfig,
    private readonly snippet: SnippetInfo,
    main: HTMLElement,
  ) {
    this.status = $("dashboard-status") ?? main.appendChild(el("p", { id: "dashboard-status" }));
    this.status.setAttribute("role", "status");
    const api = cfg.api;
    const id = encodeURIComponent(snippet.id);
    main.append(
      el(
        "p",
        { className: "lead" },
        "Every benchmark of this snippet, from every browser and machine, as it is measured. Press ",
        el("strong", {}, "Benchmark"),
        " in the ",
        el("a", { href: `/s/${id}` }, "editor"),
        " to add runs. Export: ",
        el("a", { href: `${api}/runs?snippet=${id}&format=csv` }, "CSV"),
        ", ",
        el("a", { href: `${api}/runs?snippet=${id}&format=json` }, "JSON"),
        ".",
      ),
    );

    // Comparison table.
    const cmp = section(
      main,
      "compare-title",
      "Comparison",
      "Runs grouped per runtime × browser × machine; median, MAD and p95 describe their measured samples pooled (warmup left out). " +
        "The ratio to the baseline compares runs, each counted once by its median, so its 95% interval includes how much runs vary: " +
        "faster or slower when the interval lies wholly below or above 1, the same within ±2 %, otherwise undecided (more runs would tell).",
    );
    this.baselineSel = el("select", { id: "baseline" });
    this.baselineSel.addEventListener("change", () => {
      this.baseline = this.baselineSel.value;
      const u = new URL(location.href);
      if (this.baseline) u.searchParams.set("baseline", this.baseline);
      else u.searchParams.delete("baseline");
      history.replaceState(null, "", u);
      void this.refresh(true);
    });
    cmp.append(el("label", { className: "field" }, "Baseline ", this.baselineSel));
    const cols = COMPARE_COLUMNS;
    this.compareBody = el("tbody");
    cmp.append(
      el(
        "div",
        { className: "scroll" },
        el(
          "table",
          { className: "grid compare" },
          el("caption", {}, "Comparison with the baseline: runtime × browser × machine, times per iteration"),
          el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", { scope: "col" }, c)))),
          this.compareBody,
        ),
      ),
    );
    this.compareNote = el("p", { className: "note" });
    cmp.append(this.compareNote);
    this.abs = new ABList(main, api, snippet.id);

    // Charts.
    this.series = new TimeSeriesChart(section(main, "series-title", "Samples over time", "Each run's samples in order: warmup (grey) first, then the measured samples."));
    this.hist = new HistogramChart(section(main, "dist-title", "Distributions"));
    this.waterfall = new WaterfallChart(section(main, "startup-title", "Start-up", "How long each run's fresh interpreter took to become ready, phase by phase."));

    // Runs.
    const runsSec = section(main, "runs-title", "Runs");
    this.runsBody = el("tbody");
    const rcols = ["Run", "Runtime", "Browser", "Machine", "Status", "Samples", "Median", "Timer", "Started", "Data", "Warnings"];
    runsSec.append(
      el(
        "div",
        { className: "scroll" },
        el(
          "table",
          { className: "grid runs" },
          el("caption", {}, "Every run of this snippet, newest first"),
          el("thead", {}, el("tr", {}, ...rcols.map((c) => el("th", { scope: "col" }, c)))),
          this.runsBody,
        ),
      ),
    );

    this.viewer = new ViewerStream(wsURL(cfg.ws), snippet.id, {
      connected: (first) => {
        this.connection = "live";
        this.queueRender();
        if (!first) void this.loadHistory(); // catch up on what was missed
      },
      started: (run) => this.onStarted(run),
      samples: (run, samples) => this.onSamples(run, samples),
      ended: (run, status, error, finished) => this.onEnded(run, status, error, finished),
    });
    this.viewer.onState = (state) => {
      if (state !== "open") this.connection = state === "closed" ? "reconnecting" : "connecting";
      this.queueRender();
    };
    this.viewer.open();
    void this.loadHistory();
    this.render();
  }

  private state(v: RunView): RunState {
    let r = this.runs.get(v.id);
    if (!r) {
      r = { ...v, samples: [], bySeq: new Map(), live: 0, liveStarted: false };
      this.runs.set(v.id, r);
    }
    return r;
  }

  private merge(v: RunView): RunState {
    const r = this.state(v);
    const before = r.status;
    const { samples, ...rest } = v;
    Object.assign(r, rest);
    // A run seen ending live stays ended when an older view arrives.
    if (before && before !== "running" && v.status === "running") r.status = before;
    if (samples) this.addSamples(r, samples);
    return r;
  }

  private addSamples(r: RunState, samples: BenchSample[]): number {
    let added = 0;
    for (const s of samples) {
      if (r.bySeq.has(s.seq)) continue;
      r.bySeq.set(s.seq, s);
      added++;
    }
    if (added) r.samples = [...r.bySeq.values()].sort((a, b) => a.seq - b.seq);
    return added;
  }

  async loadHistory(): Promise<void> {
    const api = this.cfg.api;
    try {
      const list = await getJSON<{ runs: RunView[] } | RunView[]>(`${api}/runs?snippet=${encodeURIComponent(this.snippet.id)}`);
      const runs = Array.isArray(list) ? list : (list.runs ?? []);
      const previous = new Map([...this.runs].map(([id, r]) => [id, r.status]));
      for (const v of runs) {
        const r = this.merge(v);
        // A run ended live keeps that status even if the list is older.
        const before = previous.get(v.id);
        if (before && before !== "running" && v.status === "running") r.status = before;
      }
      this.loadError = "";
      this.queueRender();
      const want = runs.slice(0, DETAIL_RUNS).filter((v) => {
        const r = this.runs.get(v.id)!;
        return r.status === "running" || r.samples.length < (v.sampleCount ?? 0) || r.samples.length === 0;
      });
      // A few at a time: a snippet may have many runs.
      const queue = [...want];
      const worker = async () => {
        for (let v = queue.shift(); v; v = queue.shift()) {
          try {
            const full = await getJSON<RunView>(`${api}/runs/${encodeURIComponent(v.id)}`);
            const r = this.runs.get(v.id)!;
            const status = r.status;
            this.merge(full);
            if (status !== "running" && full.status === "running") r.status = status;
            this.queueRender();
          } catch (err) {
            console.warn("pyplay: run", v.id, err);
          }
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    } catch (err) {
      this.loadError = `The stored runs could not be loaded: ${(err as Error).message}`;
    }
    this.queueRender();
    void this.refresh(true);
  }

  private onStarted(run: Omit<RunView, "status">): void {
    this.live.messages++;
    if (run.ab && !this.abs.items.some((x) => x.id === run.ab!.id)) this.abs.refresh();
    const r = this.merge({ ...run, status: this.runs.get(run.id)?.status ?? "running" } as RunView);
    r.liveStarted = true;
    this.changed.add(r.id);
    this.queueRender();
    this.scheduleRefresh();
  }

  private onSamples(runID: string, samples: BenchSample[]): void {
    this.live.messages++;
    this.live.lastAt = performance.now();
    let r = this.runs.get(runID);
    if (!r) {
      // Samples of a run we have not heard of (started before we connected):
      // fetch it; meanwhile keep what arrived.
      r = this.state({ id: runID, snippet: this.snippet.id, runtime: "unknown", status: "running" });
      void getJSON<RunView>(`${this.cfg.api}/runs/${encodeURIComponent(runID)}`)
        .then((full) => {
          this.merge(full);
          this.queueRender();
        })
        .catch(() => {});
    }
    const added = this.addSamples(r, samples);
    r.live += added;
    this.live.samples += added;
    this.changed.add(runID);
    this.queueRender();
    this.scheduleRefresh();
  }

  private onEnded(runID: string, status: string, error?: string, finished?: string): void {
    this.live.messages++;
    const r = this.runs.get(runID);
    if (r) {
      r.status = status;
      r.error = error ?? r.error;
      r.finished = finished ?? r.finished;
    }
    this.changed.add(runID);
    this.queueRender();
    this.scheduleRefresh(true);
  }

  // ---- comparison ---------------------------------------------------------------

  private scheduleRefresh(soon = false): void {
    if (this.refreshTimer !== undefined) return;
    const wait = soon ? 150 : Math.max(0, REFRESH_EVERY_MS - (performance.now() - this.refreshAt));
    this.refreshTimer = window.setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, wait);
  }

  /** Fetches the comparison and the statistics of the runs that changed live. */
  async refresh(now = false): Promise<void> {
    if (this.refreshBusy) {
      this.refreshAgain = true;
      return;
    }
    if (!now && performance.now() - this.refreshAt < REFRESH_EVERY_MS) return this.scheduleRefresh();
    this.refreshBusy = true;
    this.refreshAt = performance.now();
    const runs = [...this.changed];
    this.changed.clear();
    const [ok] = await Promise.all([this.fetchCompare(), ...runs.map((id) => this.describe(id))]);
    this.refreshBusy = false;
    this.queueRender();
    if (!ok) {
      // Asked again later, longer each time the server still cannot answer.
      window.clearTimeout(this.refreshTimer);
      this.refreshTimer = window.setTimeout(() => {
        this.refreshTimer = undefined;
        void this.refresh(true);
      }, this.retryMs);
    } else if (this.refreshAgain) {
      this.refreshAgain = false;
      this.scheduleRefresh();
    }
  }

  /** GET /api/bench/compare; false when it failed and should be asked for again. */
  private async fetchCompare(): Promise<boolean> {
    const q = new URLSearchParams({ snippet: this.snippet.id });
    if (this.baseline) q.set("baseline", this.baseline);
    try {
      this.compare = await getJSON<CompareTable>(`${this.cfg.api}/compare?${q}`);
      this.compareError = "";
      this.retryMs = 0;
      return true;
    } catch (err) {
      if (err instanceof APIError && err.status === 400 && this.baseline) {
        // The chosen baseline has no samples (yet): ask for the default.
        this.baseline = "";
        return this.fetchCompare();
      }
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs ? 2 * this.retryMs : RETRY_FIRST_MS);
      this.compareError = `The comparison is unavailable (${(err as Error).message}); asking the server again in ${this.retryMs / 1000} s.`;
      console.warn("pyplay: comparison:", err);
      return false;
    }
  }

  /**
   * Takes a run's statistics, group and warnings from the server. Its
   * samples are left out: the ones still on their way over /ws must count as
   * live when they arrive.
   */
  private async describe(id: string): Promise<void> {
    try {
      const { samples: _, ...view } = await getJSON<RunView>(`${this.cfg.api}/runs/${encodeURIComponent(id)}`);
      this.merge(view);
    } catch (err) {
      this.changed.add(id); // described with the next refresh
      console.warn("pyplay: run", id, err);
    }
  }

  // ---- rendering ------------------------------------------------------------------

  private queueRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  /** Runs newest first. */
  private ordered(): RunState[] {
    return [...this.runs.values()].sort((a, b) => (b.created ?? "").localeCompare(a.created ?? ""));
  }

  private label(r: RunState): string {
    const when = shortTime(r.created);
    return `${runtimeLabel(seriesRuntime(r))} · ${r.group?.browser ?? "…"}${when ? ` · ${when}` : ""}`;
  }

  render(): void {
    const runs = this.ordered();
    const running = runs.filter((r) => r.status === "running").length;
    const parts = [
      this.connection === "live" ? "Live" : this.connection === "reconnecting" ? "Reconnecting to the live stream…" : "Connecting to the live stream…",
      `${runs.length} ${runs.length === 1 ? "run" : "runs"}`,
    ];
    if (running) parts.push(`${running} running`);
    if (this.live.samples) parts.push(`${this.live.samples} samples received live`);
    if (this.loadError) parts.push(this.loadError);
    if (this.compareError) parts.push(this.compareError);
    this.status.textContent = parts.join(" · ");
    this.status.dataset.state = this.connection;

    this.renderCompare();
    this.renderRuns(runs);
    const chartRuns = runs.slice(0, DETAIL_RUNS).reverse();
    this.series.update(chartRuns.map((r) => ({ id: r.id, label: this.label(r), runtime: seriesRuntime(r), samples: r.samples })));
    const groups = new Map<string, { key: string; label: string; runtime: string; values: number[] }>();
    for (const r of chartRuns) {
      // Pooled by the server's groups: a run joins once the server has described it.
      const g = r.group;
      if (r.status === "failed" || !g) continue;
      let d = groups.get(g.key);
      if (!d) groups.set(g.key, (d = { key: g.key, label: `${runtimeLabel(g.runtime)} · ${g.browser} · ${g.machine}`, runtime: g.runtime, values: [] }));
      for (const s of r.samples) if (!s.warmup) d.values.push(s.ns);
    }
    this.hist.update([...groups.values()]);
    this.waterfall.update(
      runs
        .filter((r) => r.phases && typeof r.phases === "object")
        .slice(0, 12)
        .map((r) => ({ label: this.label(r), runtime: seriesRuntime(r), phases: r.phases! })),
    );
  }

  private renderCompare(): void {
    const t = this.compare;
    const rows = t?.groups ?? [];
    // Baseline choices: every group, the current one selected.
    const opts = [el("option", { value: "" }, "Automatic (native CPython, else the most samples)")];
    for (const g of rows) opts.push(el("option", { value: g.key, selected: g.key === (this.baseline || "") }, `${runtimeLabel(g.runtime)} · ${g.browser} · ${g.machine}`));
    const keep = this.baseline;
    this.baselineSel.replaceChildren(...opts);
    this.baselineSel.value = rows.some((g) => g.key === keep) ? keep : "";

    if (rows.length === 0) {
      const empty = t ? "No runs with samples yet." : this.compareError || "Loading…";
      this.compareBody.replaceChildren(el("tr", {}, el("td", { colSpan: 12, className: "empty" }, empty)));
      this.compareNote.textContent = t ? this.compareError : "";
      return;
    }
    const base = rows.find((g) => g.baseline);
    this.compareBody.replaceChildren(
      ...rows.map((g) => {
        const s = g.summary;
        const has = s.n > 0;
        let ratio = "–";
        if (g.baseline) ratio = "1 (baseline)";
        else if (g.ratio && g.ciLow && g.ciHigh) ratio = `${formatRatio(g.ratio)} (${g.ciLow.toFixed(2)}–${g.ciHigh.toFixed(2)})`;
        const verdict = el("td", { className: `verdict v-${(g.verdict || "none").replace(/\s+/g, "-")}` }, el("strong", {}, g.verdict || "–"));
        // Fewer than 3 runs a side: the interval rests on an assumed run-to-run spread; the note says so in full.
        if (g.runComparison?.note) verdict.append(el("span", { className: "p", title: g.runComparison.note }, " · few runs"));
        if (g.text) verdict.title = g.text;
        const versions = g.runtimeVersions?.length ? ` ${g.runtimeVersions.join(", ")}` : "";
        const tr = el(
          "tr",
          { className: g.baseline ? "baseline" : "" },
          el("th", { scope: "row" }, runtimeLabel(g.runtime), el("span", { className: "ver" }, versions)),
          el("td", { className: "nw" }, g.browser),
          el("td", {}, g.machine),
          el("td", { className: "num" }, String(g.runs.length)),
          el("td", { className: "num" }, String(s.n)),
          el("td", { className: "num strong" }, has ? formatNs(s.median) : "–"),
          el("td", { className: "num" }, has ? formatNs(s.mad) : "–"),
          el("td", { className: "num" }, has ? formatNs(s.p95) : "–"),
          el("td", { className: "num" }, has ? `${formatNs(s.ciLow)} – ${formatNs(s.ciHigh)}` : "–"),
          el("td", { className: "num" }, ratio),
          verdict,
          el("td", { className: "warn-cell" }, warningList(g.warnings ?? [])),
        );
        tr.dataset.key = g.key;
        tr.dataset.runtime = g.runtime;
        // Narrow screens show each row as a card of labelled values (dashboard.css).
        [...tr.children].forEach((cell, i) => cell.setAttribute("data-label", COMPARE_COLUMNS[i]));
        return tr;
      }),
    );
    const notes: string[] = [];
    if (base) notes.push(`Baseline: ${runtimeLabel(base.runtime)} · ${base.browser} · ${base.machine}.`);
    notes.push("Ratios above 1 mean slower than the baseline, below 1 faster.");
    if (this.compareError) notes.push(`Not current: ${this.compareError}`);
    if (t?.truncated) notes.push("Only the newest runs are included.");
    this.compareNote.textContent = notes.join(" ");
  }

  private renderRuns(all: RunState[]): void {
    const runs = all.slice(0, TABLE_RUNS);
    if (runs.length === 0) {
      this.runsBody.replaceChildren(el("tr", {}, el("td", { colSpan: 11, className: "empty" }, "No runs yet: they appear here as soon as someone presses Benchmark.")));
      return;
    }
    const api = this.cfg.api;
    this.runsBody.replaceChildren(
      ...runs.map((r) => {
        const measured = r.samples.filter((s) => !s.warmup);
        const warm = r.samples.length - measured.length;
        // The server's statistics, as of the last refresh (live runs are described again with the comparison).
        const sum = r.summary;
        const res = Number(r.env?.timerResolutionNs) || 0;
        const iso = r.env?.crossOriginIsolated;
        const timer = res ? `${formatNs(res)}${iso === false ? " (not isolated)" : ""}` : "–";
        const status = el("td", { className: `status s-${r.status}` }, r.status);
        if (r.error) status.append(el("div", { className: "err" }, r.error.length > 300 ? r.error.slice(0, 300) + "…" : r.error));
        const id = encodeURIComponent(r.id);
        const tr = el(
          "tr",
          {},
          el("th", { scope: "row" }, el("code", { title: r.id }, r.id.slice(0, 8))),
          el("td", {}, runtimeLabel(seriesRuntime(r)), el("span", { className: "ver" }, versionOf(r))),
          el("td", { className: "nw" }, r.group?.browser ?? "…"),
          el("td", { className: "nw" }, r.group?.machine ?? "…"),
          status,
          el("td", { className: "num" }, `${measured.length}${warm ? ` + ${warm} warmup` : ""}`),
          el("td", { className: "num strong" }, sum?.n ? formatNs(sum.median) : "–"),
          el("td", { className: "num" }, timer),
          el("td", { className: "nw" }, timeOf(r.created)),
          el("td", {}, el("a", { href: `${api}/runs/${id}?format=csv` }, "CSV"), " ", el("a", { href: `${api}/runs/${id}?format=json` }, "JSON")),
          el("td", { className: "warn-cell" }, r.warnings ? warningList(r.warnings) : "…"),
        );
        tr.dataset.run = r.id;
        tr.dataset.runtime = seriesRuntime(r);
        tr.dataset.status = r.status;
        tr.dataset.samples = String(measured.length);
        tr.dataset.live = String(r.live);
        return tr;
      }),
    );
  }
}

// ---- /bench ------------------------------------------------------------------------------

interface OverviewRow extends Group {
  geomean: number;
  min: number;
  max: number;
  snippets: number;
}

interface OverviewBody {
  baseline: string;
  runtimes: OverviewRow[];
  groups: OverviewRow[];
  snippets: (SnippetInfo & { runs: number; lastRun: string; ratios: Record<string, number>; baselineMedian: number })[];
  computed?: string;
}

const BASELINES = ["cpython-native", "pyodide", "micropython", "pyscript/pyodide", "pyscript/micropython", "go-wasm", "rust-wasm", "native-go"];

class Overview {
  private readonly status: HTMLElement;
  private readonly body: HTMLElement;
  private readonly select: HTMLSelectElement;
  private baseline: string;
  /** The baseline the visitor chose (URL or select), "" for the default. */
  private chosen: string;

  constructor(
    private readonly cfg: DashboardConfig,
    main: HTMLElement,
  ) {
    this.status = $("dashboard-status") ?? main.appendChild(el("p", { id: "dashboard-status" }));
    this.status.setAttribute("role", "status");
    this.chosen = new URLSearchParams(location.search).get("baseline") ?? "";
    this.baseline = this.chosen || cfg.baseline || "cpython-native";
    const sel = (this.select = el("select", { id: "baseline" }, ...BASELINES.map((b) => el("option", { value: b, selected: b === this.baseline }, runtimeLabel(b)))));
    sel.addEventListener("change", () => {
      this.baseline = this.chosen = sel.value;
      const u = new URL(location.href);
      u.searchParams.set("baseline", this.baseline);
      history.replaceState(null, "", u);
      void this.load();
    });
    main.append(
      el(
        "p",
        { className: "lead" },
        "How much slower (or faster) each runtime is than a baseline, across every benchmarked snippet: the geometric mean of the ratios of medians, " +
          "over the snippets measured in both.",
      ),
      el("label", { className: "field" }, "Baseline ", sel),
    );
    this.body = el("div", { className: "overview" });
    main.append(this.body);
    void this.load();
  }

  async load(): Promise<void> {
    this.status.textContent = "Loading…";
    try {
      let ov = await getJSON<OverviewBody>(`${this.cfg.api}/overview?baseline=${encodeURIComponent(this.baseline)}`);
      if (!this.chosen && ov.runtimes.length === 0) {
        // Nothing measured natively yet: compare the browser runtimes with Pyodide instead.
        for (const b of BASELINES.filter((x) => x !== this.baseline)) {
          const alt = await getJSON<OverviewBody>(`${this.cfg.api}/overview?baseline=${encodeURIComponent(b)}`);
          if (alt.runtimes.length > 0) {
            ov = alt;
            this.baseline = b;
            this.select.value = b;
            break;
          }
        }
      }
      this.render(ov);
      this.status.textContent = `${ov.snippets.length} benchmarked ${ov.snippets.length === 1 ? "snippet" : "snippets"}` + (ov.computed ? ` · as of ${shortTime(ov.computed)}` : "");
    } catch (err) {
      this.status.textContent = `The overview could not be loaded: ${(err as Error).message}`;
    }
  }

  private geoTable(caption: string, rows: OverviewRow[], withGroup: boolean): HTMLElement {
    const base = runtimeLabel(this.baseline);
    const head = withGroup ? ["Runtime", "Browser", "Machine"] : ["Runtime"];
    head.push(`Geometric mean of time ratio to ${base}`, "Range over snippets", "Snippets");
    const maxLog = Math.max(1e-9, ...rows.map((r) => Math.abs(Math.log(r.geomean))));
    const body = rows.map((r) => {
      const bar = el("span", { className: "bar" });
      bar.style.width = `${Math.max(2, (Math.abs(Math.log(r.geomean)) / maxLog) * 100)}%`;
      bar.classList.add(r.geomean >= 1 ? "slower" : "faster");
      const words = r.geomean >= 1 ? `${formatRatio(r.geomean)} (slower)` : `${formatRatio(r.geomean)} (${formatRatio(1 / r.geomean)} faster)`;
      const cells: HTMLElement[] = [el("th", { scope: "row" }, runtimeLabel(r.runtime))];
      if (withGroup) cells.push(el("td", {}, r.browser), el("td", {}, r.machine));
      cells.push(
        el("td", { className: "num strong geo" }, el("span", { className: "bar-wrap" }, bar), words),
        el("td", { className: "num" }, `${formatRatio(r.min)} – ${formatRatio(r.max)}`),
        el("td", { className: "num" }, String(r.snippets)),
      );
      return el("tr", {}, ...cells);
    });
    if (body.length === 0)
      body.push(el("tr", {}, el("td", { colSpan: head.length, className: "empty" }, `No snippet has been measured in both ${base} and another runtime yet.`)));
    return el(
      "div",
      { className: "scroll" },
      el("table", { className: "grid" }, el("caption", {}, caption), el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, ...body)),
    );
  }

  private render(ov: OverviewBody): void {
    const base = runtimeLabel(ov.baseline);
    const runtimes = [...new Set(ov.snippets.flatMap((s) => Object.keys(s.ratios ?? {})))].sort();
    const head = ["Snippet", "Runs", "Last run", `${base} median`, ...runtimes.map((rt) => `${runtimeLabel(rt)} ÷ ${base}`)];
    const rows = ov.snippets.map((s) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, el("a", { href: `/bench/${encodeURIComponent(s.id)}` }, s.name || s.id), s.name ? el("code", { className: "ver" }, ` ${s.id}`) : ""),
        el("td", { className: "num" }, String(s.runs)),
        el("td", {}, timeOf(s.lastRun)),
        el("td", { className: "num" }, s.baselineMedian ? formatNs(s.baselineMedian) : "–"),
        ...runtimes.map((rt) => el("td", { className: "num" }, s.ratios?.[rt] ? formatRatio(s.ratios[rt]) : "–")),
      ),
    );
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: head.length, className: "empty" }, "Nothing has been benchmarked yet.")));
    const s1 = el("section", { className: "card" }, el("h2", {}, "Runtimes across snippets"), this.geoTable(`Geometric mean across snippets, per runtime, relative to ${base}`, ov.runtimes, false));
    const s2 = el("section", { className: "card" }, el("h2", {}, "Per browser and machine"), this.geoTable(`Geometric mean across snippets, per runtime × browser × machine, relative to ${base}`, ov.groups, true));
    const s3 = el(
      "section",
      { className: "card" },
      el("h2", {}, "Snippets"),
      el(
        "div",
        { className: "scroll" },
        el("table", { className: "grid" }, el("caption", {}, `Benchmarked snippets, most recently run first; ratios of medians to ${base}`), el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, ...rows)),
      ),
    );
    this.body.replaceChildren(s1, s2, s3);
  }
}

// ---- start ----------------------------------------------------------------------------------

declare global {
  interface Window {
    pyplayDashboard?: SnippetDashboard | Overview | ABDashboard;
  }
}

function start(): void {
  const cfg = readConfig();
  const abMain = $("ab");
  if (abMain) {
    const ab = cfg.ab?.id || abMain.dataset.ab || decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");
    window.pyplayDashboard = new ABDashboard(cfg, ab, abMain);
    return;
  }
  const main = $("dashboard") ?? $("bench-overview") ?? document.querySelector("main") ?? document.body.appendChild(el("main"));
  const id = cfg.snippet?.id ?? main.dataset.snippet;
  if (id) window.pyplayDashboard = new SnippetDashboard(cfg, cfg.snippet ?? { id, title: "", runtime: "" }, main);
  else window.pyplayDashboard = new Overview(cfg, main);
}

start();
