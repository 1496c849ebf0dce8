// The dashboard's charts, drawn with uPlot: per-sample time series (warmup
// greyed), distributions (histograms on a log scale) and the start-up
// waterfall. Each chart lives in a <figure> with an aria-label saying what
// it shows, a caption in words, and its data as a table under a
// disclosure: canvases say nothing to a screen reader.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { BenchSample } from "../runtime/messages";
import { el, formatNs } from "../dom";

const RUNTIME_HUES: Record<string, number> = {
  pyodide: 210,
  micropython: 25,
  "cpython-native": 135,
  pyscript: 285,
  "pyscript/pyodide": 265,
  "pyscript/micropython": 330,
  "go-wasm": 185,
  "rust-wasm": 5,
  "native-go": 160,
};
/** Runtimes as runs are compared (server/bench_groups.go): PyScript per interpreter. */
export const RUNTIME_LABELS: Record<string, string> = {
  pyodide: "Pyodide",
  micropython: "MicroPython",
  "cpython-native": "CPython (native)",
  pyscript: "PyScript",
  "pyscript/pyodide": "PyScript · Pyodide",
  "pyscript/micropython": "PyScript · MicroPython",
  "go-wasm": "Go→WASM",
  "rust-wasm": "Rust→WASM",
  "native-go": "native Go",
};

/** A run's colour: its runtime's hue, lighter or darker for the k-th run of that runtime. */
export function runColor(runtime: string, k = 0, alpha = 1): string {
  const hue = RUNTIME_HUES[runtime] ?? 0;
  const sat = RUNTIME_HUES[runtime] === undefined ? 0 : 70;
  const light = [45, 32, 58, 38, 52, 28][k % 6];
  return `hsla(${hue}, ${sat}%, ${light}%, ${alpha})`;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function axisColors() {
  return { stroke: cssVar("--muted", "#5d6577"), grid: cssVar("--line", "#d9dde5") };
}

const nsTicks = (_u: uPlot, splits: number[]) => splits.map((v) => (v == null ? "" : formatNs(v)));

/** A table for a chart's text alternative. */
export function dataTable(caption: string, head: string[], rows: (string | number)[][]): HTMLTableElement {
  return el(
    "table",
    { className: "data" },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c, i) => (i === 0 ? el("th", { scope: "row" }, String(c)) : el("td", {}, String(c))))))),
  );
}

/**
 * A figure holding one uPlot chart: the chart is created on the first
 * update with data and resized with its container.
 */
export abstract class Figure {
  readonly figure: HTMLElement;
  protected readonly plotBox: HTMLElement;
  protected readonly caption: HTMLElement;
  protected readonly details: HTMLDetailsElement;
  protected plot: uPlot | null = null;
  private resize: ResizeObserver;

  constructor(
    host: HTMLElement,
    protected readonly name: string,
    protected height = 280,
  ) {
    this.plotBox = el("div", { className: "plot" });
    this.plotBox.setAttribute("role", "img");
    this.caption = el("figcaption", {});
    this.details = el("details", { className: "alt" }, el("summary", {}, `${name}: the data as a table`));
    this.figure = el("figure", { className: "chart" }, this.plotBox, this.caption, this.details);
    host.append(this.figure);
    this.resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: this.height }));
    this.resize.observe(this.plotBox);
  }

  protected width(): number {
    return Math.max(280, Math.floor(this.plotBox.clientWidth || this.figure.clientWidth || 600));
  }

  protected describe(label: string, caption: string): void {
    this.plotBox.setAttribute("aria-label", label);
    this.caption.textContent = caption;
  }

  /** Rebuilds the chart (series changed) or just replaces its data. */
  protected draw(key: string, opts: () => uPlot.Options, data: uPlot.AlignedData): void {
    if (this.plot && this.plotBox.dataset.key === key) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.plotBox.replaceChildren();
    this.plotBox.dataset.key = key;
    this.plot = new uPlot(opts(), data, this.plotBox);
  }

  protected clear(message: string): void {
    this.plot?.destroy();
    this.plot = null;
    this.plotBox.dataset.key = "";
    this.plotBox.replaceChildren(el("p", { className: "empty" }, message));
  }
}

// ---- time series ---------------------------------------------------------------

export interface RunSeries {
  id: string;
  label: string;
  runtime: string;
  samples: BenchSample[]; // sorted by seq
}

/** Per-sample time per iteration against the sample's position, one line per run. */
export class TimeSeriesChart extends Figure {
  private runs: RunSeries[] = [];

  constructor(host: HTMLElement) {
    super(host, "Samples over time", 300);
    this.details.addEventListener("toggle", () => this.fillTable());
  }

  update(runs: RunSeries[]): void {
    this.runs = runs.filter((r) => r.samples.length > 0);
    const n = this.runs.reduce((a, r) => a + r.samples.length, 0);
    this.describe(
      `Time per iteration of every sample, by position in its run, for ${this.runs.length} runs; warmup samples in grey`,
      n === 0
        ? "No samples yet."
        : `Each line is one run (${n} samples in all); grey points are warmup samples, which are shown but left out of every statistic. ` +
            "The vertical axis is logarithmic.",
    );
    if (this.details.open) this.fillTable();
    if (n === 0) return this.clear("No samples yet: they appear here live as a benchmark runs.");
    const maxSeq = Math.max(...this.runs.map((r) => r.samples[r.samples.length - 1].seq));
    const xs = Array.from({ length: maxSeq + 1 }, (_, i) => i);
    const data: (number | null)[][] = [xs];
    const counts: Record<string, number> = {};
    const series: uPlot.Series[] = [{ label: "Sample" }];
    for (const r of this.runs) {
      const k = (counts[r.runtime] = (counts[r.runtime] ?? -1) + 1);
      const measured: (number | null)[] = new Array(xs.length).fill(null);
      const warm: (number | null)[] = new Array(xs.length).fill(null);
      for (const s of r.samples) (s.warmup ? warm : measured)[s.seq] = s.ns > 0 ? s.ns : null;
      data.push(measured, warm);
      const color = runColor(r.runtime, k);
      series.push(
        { label: r.label, stroke: color, width: 1.5, points: { show: true, size: 4, fill: color }, spanGaps: false, value: (_u, v) => (v == null ? "–" : formatNs(v)) },
        {
          label: `${r.label} (warmup)`,
          stroke: "rgba(128,128,128,0.55)",
          width: 1,
          points: { show: true, size: 4, fill: "rgba(128,128,128,0.55)" },
          value: (_u, v) => (v == null ? "–" : formatNs(v)),
        },
      );
    }
    const key = this.runs.map((r) => r.id).join(",");
    this.draw(
      key,
      () => {
        const c = axisColors();
        return {
          width: this.width(),
          height: this.height,
          scales: { x: { time: false }, y: { distr: 3, log: 10 } },
          series,
          axes: [
            { label: "sample", stroke: c.stroke, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid } },
            { label: "time per iteration", stroke: c.stroke, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid }, values: nsTicks, size: 70 },
          ],
          legend: { live: true },
          cursor: { drag: { x: true, y: false } },
          hooks: {
            ready: [
              (u: uPlot) => {
                // Warmup series stay out of the legend: the grey says it.
                u.root.querySelectorAll<HTMLElement>(".u-legend .u-series").forEach((row, i) => {
                  if (i > 0 && i % 2 === 0) row.style.display = "none";
                });
              },
            ],
          },
        };
      },
      data as uPlot.AlignedData,
    );
  }

  private fillTable(): void {
    if (!this.details.open) return;
    const rows: (string | number)[][] = [];
    for (const r of this.runs)
      for (const s of r.samples) rows.push([r.label, s.seq, s.warmup ? "warmup" : "measured", formatNs(s.ns), s.iters, s.hidden ? "hidden tab" : ""]);
    this.details.replaceChildren(
      this.details.firstElementChild!,
      dataTable("Every sample, per run", ["Run", "Sample", "Kind", "Time per iteration", "Iterations", "Note"], rows),
    );
  }
}

// ---- distributions ---------------------------------------------------------------

export interface Distribution {
  key: string;
  label: string;
  runtime: string;
  values: number[]; // measured ns per iteration
}

/** Histograms of the measured samples of each group, on shared log-spaced bins. */
export class HistogramChart extends Figure {
  private groups: Distribution[] = [];

  constructor(host: HTMLElement) {
    super(host, "Distributions", 260);
  }

  update(groups: Distribution[]): void {
    this.groups = groups.filter((g) => g.values.some((v) => v > 0));
    const all = this.groups.flatMap((g) => g.values.filter((v) => v > 0));
    this.describe(
      `Histogram of the time per iteration of the measured samples, one outline per runtime, browser and machine (${this.groups.length} groups)`,
      all.length === 0
        ? "No measured samples yet."
        : "Share of each group's measured samples per time bin; bins are equally wide on the logarithmic time axis. Narrow peaks mean steady timings.",
    );
    if (all.length === 0) {
      this.details.replaceChildren(this.details.firstElementChild!);
      return this.clear("No measured samples yet.");
    }
    let lo = Math.min(...all);
    let hi = Math.max(...all);
    if (hi / lo < 1.05) {
      lo /= 1.05;
      hi *= 1.05;
    }
    const bins = Math.max(12, Math.min(48, Math.round(4 * Math.sqrt(all.length / Math.max(1, this.groups.length)))));
    const step = Math.log(hi / lo) / bins;
    // x holds each bin's lower edge, plus the upper edge of the last one.
    const edges = Array.from({ length: bins + 1 }, (_, i) => lo * Math.exp(i * step));
    const shares = this.groups.map((g) => {
      const h: number[] = new Array(bins + 1).fill(0);
      const vs = g.values.filter((v) => v > 0);
      for (const v of vs) h[Math.min(bins - 1, Math.max(0, Math.floor(Math.log(v / lo) / step)))]++;
      return { n: vs.length, share: h.map((c, i) => (i === bins || c === 0 ? null : c / vs.length)) };
    });
    // The text alternative is the histogram itself: each non-empty bin's share per group.
    const pct = (v: number | null) => (v == null ? "–" : `${(100 * v).toFixed(0)}%`);
    this.details.replaceChildren(
      this.details.firstElementChild!,
      dataTable(
        "Share of each group's measured samples per time bin",
        ["Time per iteration", ...this.groups.map((g, i) => `${g.label} (${shares[i].n} samples)`)],
        edges
          .slice(0, bins)
          .map((e, b) => [`${formatNs(e)} – ${formatNs(edges[b + 1])}`, ...shares.map((sh) => pct(sh.share[b]))])
          .filter((row) => row.slice(1).some((c) => c !== "–")),
      ),
    );
    const data: (number | null)[][] = [edges, ...shares.map((sh) => sh.share)];
    const counts: Record<string, number> = {};
    const series: uPlot.Series[] = [{ label: "Time", value: (_u, v) => (v == null ? "–" : formatNs(v)) }];
    for (const g of this.groups) {
      const k = (counts[g.runtime] = (counts[g.runtime] ?? -1) + 1);
      series.push({
        label: g.label,
        stroke: runColor(g.runtime, k),
        fill: runColor(g.runtime, k, 0.18),
        width: 1.5,
        paths: uPlot.paths.bars!({ align: 1, size: [1, Infinity], gap: 1 }),
        points: { show: false },
        value: (_u, v) => pct(v),
      });
    }
    this.draw(
      this.groups.map((g) => g.key).join(",") + `|${bins}`,
      () => {
        const c = axisColors();
        return {
          width: this.width(),
          height: this.height,
          scales: { x: { time: false, distr: 3, log: 10 }, y: { range: (_u, _min, max) => [0, Math.max(0.05, max * 1.1)] } },
          series,
          axes: [
            { label: "time per iteration", stroke: c.stroke, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid }, values: nsTicks },
            { label: "share of samples", stroke: c.stroke, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid }, values: (_u, s) => s.map((v) => `${Math.round(v * 100)}%`) },
          ],
          cursor: { drag: { x: false, y: false } },
        };
      },
      data as uPlot.AlignedData,
    );
  }
}

// ---- start-up waterfall ---------------------------------------------------------------

export interface Phases {
  fetch?: number;
  compile?: number;
  init?: number;
  firstRun?: number;
  packages?: number; // loading the packages the program imports (-packages)
  total?: number;
  start?: { fetch?: number; compile?: number; init?: number; firstRun?: number; packages?: number };
  path?: string;
  fetchBytes?: number;
}

export interface WaterfallRow {
  label: string;
  runtime: string;
  phases: Phases;
}

const PHASES = [
  { key: "fetch", label: "fetch (download runtime files)", color: "hsl(200, 60%, 55%)" },
  { key: "compile", label: "compile + instantiate WebAssembly", color: "hsl(35, 85%, 55%)" },
  { key: "init", label: "interpreter init", color: "hsl(280, 45%, 58%)" },
  { key: "packages", label: "load packages (-packages)", color: "hsl(330, 55%, 55%)" },
  { key: "firstRun", label: "first run (compile + run once)", color: "hsl(140, 50%, 45%)" },
] as const;

/** Start of each phase: the recorded offsets, or back to back when there are none. */
function spans(p: Phases): { key: string; start: number; end: number }[] {
  let t = 0;
  const out: { key: string; start: number; end: number }[] = [];
  for (const { key } of PHASES) {
    const d = p[key];
    if (typeof d !== "number" || !(d >= 0)) continue;
    const s = p.start?.[key];
    const start = typeof s === "number" && s >= 0 ? s : t;
    out.push({ key, start, end: start + d });
    t = Math.max(t, start + d);
  }
  return out;
}

/** One row of bars per run: when each start-up phase ran, in ms after the worker started. */
export class WaterfallChart extends Figure {
  private rows: WaterfallRow[] = [];

  private readonly legend = el("ul", { className: "phase-legend" });

  constructor(host: HTMLElement) {
    super(host, "Start-up", 100);
    this.figure.insertBefore(this.legend, this.caption);
  }

  update(input: WaterfallRow[]): void {
    this.rows = input.filter((r) => spans(r.phases).length > 0);
    // The legend names the phases some run has (loading packages only happens with -packages).
    const present = PHASES.filter((p) => this.rows.some((r) => typeof r.phases[p.key] === "number"));
    this.legend.replaceChildren(
      ...present.map((p) => {
        const sw = el("span", { className: "swatch" });
        sw.style.background = p.color;
        return el("li", {}, sw, p.label);
      }),
    );
    this.describe(
      `Start-up waterfall of ${this.rows.length} runs: fetch, compile, interpreter init and first run, in milliseconds after the worker started`,
      this.rows.length === 0
        ? "No start-up timings yet."
        : "Each row is one run's fresh interpreter: downloading the runtime files, compiling WebAssembly (which may overlap the download), " +
            "initialising the interpreter and the program's first run. Runs marked “snapshot” restored a memory snapshot instead of initialising.",
    );
    this.details.replaceChildren(
      this.details.firstElementChild!,
      dataTable(
        "Start-up phases per run, in milliseconds",
        ["Run", "Fetch", "Compile", "Init", "Packages", "First run", "Ready after", "Downloaded"],
        this.rows.map((r) => {
          const p = r.phases;
          const ms = (x?: number) => (typeof x === "number" ? x.toFixed(0) : "–");
          const kb = typeof p.fetchBytes === "number" ? (p.fetchBytes === 0 ? "from cache" : `${(p.fetchBytes / 1e6).toFixed(1)} MB`) : "–";
          return [r.label, ms(p.fetch), ms(p.compile), ms(p.init), ms(p.packages), ms(p.firstRun), ms(p.total), kb];
        }),
      ),
    );
    if (this.rows.length === 0) return this.clear("No start-up timings yet.");
    const rows = this.rows;
    const labels = rows.map((r) => r.label + (r.phases.path === "snapshot" ? " (snapshot)" : ""));
    const maxEnd = Math.max(...rows.flatMap((r) => spans(r.phases).map((s) => s.end)));
    const height = Math.max(140, 64 + 34 * rows.length);
    this.height = height;
    // The labels get at most 40% of the width, cut short to fit, so that a
    // phone still has room for the bars.
    const labelSize = Math.min(320, Math.floor(this.width() * 0.4), 16 + 7 * Math.max(...labels.map((l) => l.length)));
    const fit = Math.max(4, Math.floor((labelSize - 16) / 7));
    const shown = labels.map((l) => (l.length > fit ? l.slice(0, fit - 1) + "…" : l));
    const data: uPlot.AlignedData = [
      [0, maxEnd * 1.02],
      [null, null],
    ];
    this.draw(
      shown.join("\n") + `|${maxEnd}`,
      () => {
        const c = axisColors();
        return {
          width: this.width(),
          height,
          scales: { x: { time: false, range: [0, maxEnd * 1.02] }, y: { range: [-0.5, rows.length - 0.5] } },
          series: [{}, { show: true, stroke: "transparent", points: { show: false } }],
          legend: { show: false },
          cursor: { show: false },
          axes: [
            { label: "ms after the worker started", stroke: c.stroke, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid } },
            {
              stroke: c.stroke,
              grid: { show: false },
              ticks: { show: false },
              size: labelSize,
              splits: () => rows.map((_, i) => i),
              values: (_u, s) => s.map((i) => shown[rows.length - 1 - i] ?? ""),
            },
          ],
          hooks: {
            draw: [
              (u: uPlot) => {
                const ctx = u.ctx;
                const bar = Math.max(6, Math.min(18, (u.bbox.height / rows.length) * 0.55));
                ctx.save();
                rows.forEach((r, i) => {
                  const y = u.valToPos(rows.length - 1 - i, "y", true);
                  for (const s of spans(r.phases)) {
                    const x0 = u.valToPos(s.start, "x", true);
                    const x1 = Math.max(x0 + 2, u.valToPos(s.end, "x", true));
                    ctx.fillStyle = PHASES.find((p) => p.key === s.key)!.color;
                    ctx.fillRect(x0, y - bar / 2, x1 - x0, bar);
                  }
                });
                ctx.restore();
              },
            ],
          },
        };
      },
      data,
    );
    this.plot?.setSize({ width: this.width(), height });
  }
}
