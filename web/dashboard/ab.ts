// The A/B benchmark pages (bundle "dashboard"): /bench/ab/{id}, one A/B
// benchmark live, and the list of A/B benchmarks on a snippet's dashboard.
// The live page leads with the server's verdict in one sentence per runtime
// and arm, then a picture of the per-round ratios with the interval and the
// threshold, then the table; it follows the arms' snippets over /ws and
// fetches GET /api/bench/ab/{id} again (debounced) whenever one of the
// benchmark's runs stores samples or ends. Every number is the server's.

import uPlot from "uplot";
import "./ab.css";
import { armLabel, getJSON, type ABDiff, type ABListItem, type ABResult, type ABView } from "../bench/api";
import { ViewerStream, wsURL, type RunInfo } from "../bench/stream";
import { el } from "../dom";
import { axisColors, dataTable, Figure, runColor, RUNTIME_LABELS } from "./charts";

/** What the server tells the A/B page before the results load (server/bench/ab.go, abInfo). */
export interface ABInfo {
  id: string;
  /** The arms' snippet IDs, A first. */
  arms: string[];
  runtimes: string[];
  /** GET this for the results. */
  api: string;
}

/** What the A/B pages need of the page's config (#pyplay-config). */
export interface ABPageConfig {
  api: string;
  ws: string;
  /** The A/B benchmark of /bench/ab/{id}. */
  ab?: ABInfo;
}

/** A change to the benchmark's runs refetches it after this long (more changes meanwhile wait for it). */
export const REFETCH_MS = 500;

const runtimeLabel = (rt: string) => RUNTIME_LABELS[rt] ?? rt;

/** "+9.6 %", "−3.1 %", "0.0 %": a ratio as the difference it means. */
export function percent(ratio: number): string {
  const p = (ratio - 1) * 100;
  if (!Number.isFinite(p)) return "–";
  const s = Math.abs(p) < 0.05 ? "0.0" : Math.abs(p).toFixed(1);
  return `${p >= 0.05 ? "+" : p <= -0.05 ? "−" : ""}${s} %`;
}

function when(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

function snippetLink(id: string, self?: string): HTMLElement {
  const a = el("a", { href: `/s/${encodeURIComponent(id)}` }, el("code", {}, id));
  return id === self ? el("span", {}, a, " (this snippet)") : a;
}

/** text with a line-break opportunity after prefix (a <wbr>, which the text itself does not contain). */
function breakable(text: string, prefix: string): (string | Node)[] {
  return text.startsWith(prefix) && text.length > prefix.length ? [prefix, el("wbr"), text.slice(prefix.length)] : [text];
}

/** The key of one line of the picture and one row of the table. */
const keyOf = (x: { runtime: string; arm: string }) => `${x.runtime}/${x.arm}`;

// ---- the picture ------------------------------------------------------------------------

interface Line {
  key: string;
  label: string;
  color: string;
  band: string;
  result?: ABResult;
  diffs: ABDiff[];
}

/**
 * Per-round ratios (the arm's sample over A's in the same round), one
 * series of dots per runtime and arm, in the order they were measured
 * (interpreter by interpreter), with the estimate, its 95 % interval as a
 * band, ±threshold as dashed lines and the interpreters' boundaries.
 */
export class RoundsChart extends Figure {
  private lines: Line[] = [];
  private yRange: [number, number] = [0.9, 1.1];
  private bounds: number[] = [];
  private readonly key: HTMLElement;

  constructor(host: HTMLElement) {
    super(host, "Per-round ratios", 280);
    this.key = el("ul", { className: "phase-legend" });
    this.figure.insertBefore(this.key, this.caption);
    this.details.addEventListener("toggle", () => this.fillTable());
  }

  update(view: ABView): void {
    const diffs = view.diffs ?? [];
    const keys = new Map<string, Line>();
    const add = (x: { runtime: string; arm: string }) => {
      const k = keyOf(x);
      if (!keys.has(k)) {
        const n = [...keys.values()].filter((l) => l.key.startsWith(x.runtime + "/")).length;
        keys.set(k, {
          key: k,
          label: `${runtimeLabel(x.runtime)} · ${armLabel(x.arm)}/A`,
          color: runColor(x.runtime, n),
          band: runColor(x.runtime, n, 0.16),
          diffs: [],
        });
      }
      return keys.get(k)!;
    };
    for (const r of view.results) add(r).result = r;
    for (const d of diffs) add(d).diffs.push(d);
    this.lines = [...keys.values()];
    for (const l of this.lines) l.diffs.sort((p, q) => p.interpreter - q.interpreter || p.round - q.round);
    const n = Math.max(0, ...this.lines.map((l) => l.diffs.length));
    const t = view.threshold;
    const pct = `${+(t * 100).toFixed(2)} %`;
    const ciText = this.lines
      .filter((l) => l.result && l.result.rounds > 0)
      .map((l) => `${l.label}: ${l.result!.ratio.toFixed(3)} [${l.result!.ciLow.toFixed(3)}–${l.result!.ciHigh.toFixed(3)}]`)
      .join("; ");
    this.describe(
      `Per-round time ratios to A, ${n} rounds${ciText ? `; estimate and 95 % interval ${ciText}` : ""}; threshold ±${pct}`,
      n === 0
        ? "No complete rounds yet: each round will show as a dot here."
        : `Each dot is one round: the arm's time over A's in that round (above 1: slower than A). The line is the estimate and the band its 95 % interval; ` +
            `the dashed lines mark the threshold (±${pct}), within which the versions count as the same; dotted vertical lines separate fresh interpreters. ` +
            "Widely spread rounds are drawn on a logarithmic scale, the outermost 2 % of rounds may lie beyond it.",
    );
    this.key.replaceChildren(
      ...this.lines.map((l) => {
        const sw = el("span", { className: "swatch" });
        sw.style.background = l.color;
        return el("li", {}, sw, l.label);
      }),
    );
    if (this.details.open) this.fillTable();
    if (n === 0) return this.clear("No complete rounds yet.");

    // The interpreters' boundaries, from the first line's order.
    const first = this.lines.find((l) => l.diffs.length > 0)!;
    this.bounds = [];
    first.diffs.forEach((d, i) => {
      if (i > 0 && d.interpreter !== first.diffs[i - 1].interpreter) this.bounds.push(i + 0.5);
    });

    // The y range: the bulk of the rounds (2nd to 98th percentile), the intervals and the threshold.
    const all = this.lines.flatMap((l) => l.diffs.map((d) => d.ratio)).filter((r) => r > 0 && Number.isFinite(r)).sort((a, b) => a - b);
    const q = (p: number) => all[Math.min(all.length - 1, Math.max(0, Math.round(p * (all.length - 1))))];
    const ys = [q(0.02), q(0.98), 1 - t, 1 + t, ...this.lines.flatMap((l) => (l.result && l.result.rounds > 0 ? [l.result.ciLow, l.result.ciHigh] : []))];
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    // Ratios spread over more than a factor of 1.5 read better on a log scale (½× and 2× equally far from 1).
    const log = hi / Math.max(lo, 1e-9) > 1.5 && lo > 0;
    if (log) this.yRange = [lo / 1.08, hi * 1.08];
    else {
      const pad = Math.max(0.005, (hi - lo) * 0.06);
      this.yRange = [Math.max(1e-3, lo - pad), hi + pad];
    }

    const xs = Array.from({ length: n }, (_, i) => i + 1);
    const data: (number | null)[][] = [xs];
    const series: uPlot.Series[] = [{ label: "Round" }];
    const bands: uPlot.Band[] = [];
    const flat = (v: number | undefined) => xs.map(() => (v === undefined ? null : v));
    const fmt = (_u: uPlot, v: number | null) => (v == null ? "–" : v.toFixed(3));
    for (const l of this.lines) {
      data.push(xs.map((_, i) => l.diffs[i]?.ratio ?? null));
      series.push({ label: `${l.label} per round`, stroke: l.color, paths: () => null, points: { show: true, size: 4, fill: l.color, stroke: l.color }, value: fmt });
      const r = l.result && l.result.rounds > 0 ? l.result : undefined;
      const hiIdx = series.length;
      data.push(flat(r?.ciHigh), flat(r?.ciLow), flat(r?.ratio));
      series.push(
        { label: `${l.label} 95 % interval, high`, stroke: "transparent", points: { show: false }, value: fmt },
        { label: `${l.label} 95 % interval, low`, stroke: "transparent", points: { show: false }, value: fmt },
        { label: `${l.label} estimate`, stroke: l.color, width: 2, points: { show: false }, value: fmt },
      );
      bands.push({ series: [hiIdx, hiIdx + 1], fill: l.band });
    }
    const c = axisColors();
    data.push(flat(1 + t), flat(1 - t), flat(1));
    series.push(
      { label: `+${pct} threshold`, stroke: c.stroke, dash: [6, 4], width: 1, points: { show: false }, value: fmt },
      { label: `−${pct} threshold`, stroke: c.stroke, dash: [6, 4], width: 1, points: { show: false }, value: fmt },
      { label: "same time as A", stroke: c.grid, width: 1, points: { show: false }, value: fmt },
    );
    this.draw(
      this.lines.map((l) => l.key + (l.result ? "+" : "")).join(",") + `|${t}|${log}`,
      () => ({
        width: this.width(),
        height: this.height,
        scales: { x: { time: false }, y: log ? { distr: 3, log: 10, range: () => this.yRange } : { range: () => this.yRange } },
        series,
        bands,
        legend: { show: false },
        cursor: { drag: { x: true, y: false } },
        axes: [
          { label: "round, interpreter by interpreter", stroke: c.stroke, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid } },
          { label: "time ratio to A", stroke: c.stroke, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid }, size: 56, values: (_u, s) => s.map((v) => (v == null ? "" : log ? String(+v.toPrecision(2)) : v.toFixed(2))) },
        ],
        hooks: {
          draw: [
            (u: uPlot) => {
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = c.stroke;
              ctx.setLineDash([2, 4]);
              ctx.lineWidth = 1;
              for (const b of this.bounds) {
                const x = u.valToPos(b, "x", true);
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
              }
              ctx.restore();
            },
          ],
        },
      }),
      data as uPlot.AlignedData,
    );
    // The range is read on redraw: set it anew when only the data changed.
    this.plot?.setScale("y", { min: this.yRange[0], max: this.yRange[1] });
  }

  private fillTable(): void {
    if (!this.details.open) return;
    const rows: (string | number)[][] = [];
    for (const l of this.lines) for (const d of l.diffs) rows.push([l.label, d.interpreter + 1, d.round + 1, d.ratio.toFixed(4)]);
    this.details.replaceChildren(this.details.firstElementChild!, dataTable("Every round's time ratio to A", ["Runtime · arm", "Interpreter", "Round", "Ratio"], rows));
  }
}

// ---- /bench/ab/{id} ----------------------------------------------------------------------

/** The live page of one A/B benchmark. */
export class ABDashboard {
  view: ABView | null = null;
  /** Live counters, for the status line and for tests. */
  readonly live = { messages: 0, fetches: 0 };
  private readonly status: HTMLElement;
  private readonly sentences: HTMLElement;
  private readonly about: HTMLElement;
  private readonly chart: RoundsChart;
  private readonly tbody: HTMLTableSectionElement;
  private viewer: ViewerStream | null = null;
  private connection = "connecting";
  private error = "";
  /** The benchmark's runs and the other runs of its snippets, as the fan-out announced them. */
  private readonly ours = new Set<string>();
  private readonly others = new Set<string>();
  private timer: number | undefined;
  private busy = false;
  private again = false;

  constructor(
    private readonly cfg: ABPageConfig,
    readonly id: string,
    main: HTMLElement,
  ) {
    this.status = document.getElementById("dashboard-status") ?? main.appendChild(el("p", { id: "dashboard-status" }));
    this.status.setAttribute("role", "status");
    this.sentences = el("div", { className: "ab-sentences" });
    this.about = el("p", { className: "lead" });
    // The verdict leads, right under the heading; the details follow the status line.
    const h1 = main.querySelector("h1");
    if (h1) h1.after(this.sentences);
    else main.prepend(this.sentences);
    main.append(this.about);

    const pic = el("section", { className: "card" }, el("h2", { id: "ab-rounds-title" }, "Rounds"));
    pic.setAttribute("aria-labelledby", "ab-rounds-title");
    main.append(pic);
    this.chart = new RoundsChart(pic);

    const tab = el("section", { className: "card" }, el("h2", { id: "ab-table-title" }, "Results"));
    tab.setAttribute("aria-labelledby", "ab-table-title");
    this.tbody = el("tbody");
    // Soft hyphens: the table fits a phone's width.
    const cols = ["Runtime", "Arm", "Ratio to A", "95 % interval", "Verdict", "Rounds", "Inter\u00adpreters"];
    tab.append(
      el(
        "div",
        { className: "scroll" },
        el(
          "table",
          { className: "grid ab" },
          el("caption", {}, "Each arm against A, per runtime: the time ratio (above 1: slower) with its 95 % interval, from paired rounds"),
          el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", { scope: "col" }, c)))),
          this.tbody,
        ),
      ),
    );
    main.append(tab);
    this.render();
    // The arms are known from the page: follow them at once, then load the results.
    if (cfg.ab?.arms?.length) this.follow(cfg.ab.arms);
    void this.fetch();
  }

  private follow(snippets: string[]): void {
    if (this.viewer) return;
    this.viewer = new ViewerStream(wsURL(this.cfg.ws), snippets, {
      connected: (first) => {
        this.connection = "live";
        this.render();
        if (!first) this.schedule(); // catch up on what was missed
      },
      started: (run) => this.onStarted(run),
      samples: (run) => this.onChange(run),
      ended: (run) => this.onChange(run),
    });
    this.viewer.onState = (state) => {
      if (state !== "open") this.connection = state === "closed" ? "reconnecting" : "connecting";
      this.render();
    };
    this.viewer.open();
  }

  private onStarted(run: RunInfo): void {
    this.live.messages++;
    if (run.ab?.id === this.id) {
      this.ours.add(run.id);
      this.schedule();
    } else this.others.add(run.id);
  }

  private onChange(run: string): void {
    this.live.messages++;
    // A run started before this page connected and after the last fetch is not known: it may be ours.
    if (this.ours.has(run) || !this.others.has(run)) this.schedule();
  }

  /** Fetches the benchmark again in REFETCH_MS, once however many changes come meanwhile. */
  private schedule(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      void this.fetch();
    }, REFETCH_MS);
  }

  async fetch(): Promise<void> {
    this.busy = true;
    try {
      const v = await getJSON<ABView>(`${this.cfg.api}/ab/${encodeURIComponent(this.id)}`);
      this.view = v;
      this.live.fetches++;
      this.error = "";
      for (const r of v.runs ?? []) this.ours.add(r.id);
      this.follow([v.a, v.b, v.c].filter((s): s is string => !!s));
    } catch (err) {
      this.error = `The comparison could not be loaded: ${(err as Error).message}`;
      this.again = true;
    }
    this.busy = false;
    this.render();
    if (this.again) {
      this.again = false;
      this.schedule();
    }
  }

  render(): void {
    const v = this.view;
    const parts: string[] = [];
    if (v) {
      parts.push(v.done ? "Finished" : this.connection === "live" ? "Live" : this.connection === "reconnecting" ? "Reconnecting to the live stream…" : "Connecting…");
      parts.push(`${v.rounds} complete ${v.rounds === 1 ? "round" : "rounds"}`);
      parts.push(v.decided ? "decided" : v.done ? "not decided" : "measuring");
    } else parts.push("Loading the comparison…");
    if (this.error) parts.push(this.error);
    this.status.textContent = parts.join(" · ");
    this.status.dataset.state = v?.done ? "done" : this.connection;
    if (!v) return;

    // The verdict first, in words: the server's sentence per runtime and arm.
    const several = v.runtimes.length > 1;
    const lines = v.results.map((r) => {
      const p = el("p", { className: `sentence v-${r.verdict}` }, several ? el("strong", {}, `${runtimeLabel(r.runtime)}: `) : "", r.summary);
      p.dataset.runtime = r.runtime;
      p.dataset.arm = r.arm;
      p.dataset.verdict = r.verdict;
      return p;
    });
    if (lines.length === 0) lines.push(el("p", { className: "sentence v-none" }, v.done ? "No verdict: no complete rounds were stored." : "No verdict yet: waiting for the first rounds."));
    this.sentences.replaceChildren(...lines);

    const arms = [v.a, v.b, ...(v.c ? [v.c] : [])];
    const about: (string | Node)[] = [
      `${v.runtimes.map(runtimeLabel).join(" and ")}; threshold ±${+(v.threshold * 100).toFixed(2)} %, budget ${Math.round(v.budgetMs / 1000)} s, ` +
        `${v.interpreters} fresh interpreters; started ${when(v.created)}. Every run of `,
    ];
    arms.forEach((id, i) => {
      if (i) about.push(i === arms.length - 1 ? " and " : ", ");
      about.push(el("a", { href: `/bench/${encodeURIComponent(id)}` }, armLabel("abc"[i])));
    });
    about.push(". Data: ", el("a", { href: `${this.cfg.api}/ab/${encodeURIComponent(v.id)}` }, "JSON"), ".");
    this.about.replaceChildren(...about);

    this.chart.update(v);

    const rows = v.results.map((r) => {
      const has = r.rounds > 0;
      const tr = el(
        "tr",
        {},
        el("th", { scope: "row" }, ...breakable(runtimeLabel(r.runtime), "Micro")),
        el("td", {}, `${armLabel(r.arm)}/A`),
        el("td", { className: "num strong" }, ...(has ? [r.ratio.toFixed(3), " ", el("span", { className: "pct" }, `(${percent(r.ratio)})`)] : ["–"])),
        el("td", { className: "num" }, ...(has ? [`${r.ciLow.toFixed(3)}–`, el("wbr"), r.ciHigh.toFixed(3)] : ["–"])),
        el("td", { className: `verdict v-${r.verdict}` }, el("strong", {}, r.verdict)),
        el("td", { className: "num" }, String(r.rounds)),
        el("td", { className: "num" }, String(r.interpreters)),
      );
      tr.dataset.runtime = r.runtime;
      tr.dataset.arm = r.arm;
      tr.dataset.verdict = r.verdict;
      return tr;
    });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 7, className: "empty" }, "No results yet.")));
    this.tbody.replaceChildren(...rows);
  }
}

// ---- on a snippet's dashboard ---------------------------------------------------------

/** The A/B benchmarks a snippet takes part in (GET /api/bench/ab?snippet=ID), newest first. */
export class ABList {
  private readonly body: HTMLTableSectionElement;
  private readonly note: HTMLElement;
  private timer: number | undefined;
  items: ABListItem[] = [];

  constructor(
    host: HTMLElement,
    private readonly api: string,
    private readonly snippet: string,
  ) {
    const s = el("section", { className: "card" }, el("h2", { id: "ab-list-title" }, "A/B benchmarks"));
    s.setAttribute("aria-labelledby", "ab-list-title");
    s.append(
      el(
        "p",
        { className: "intro" },
        "Comparisons of this snippet with other versions of the code, measured round by round in the same fresh interpreters. " +
          "Start one in the editor: Benchmark, then Compare with.",
      ),
    );
    this.body = el("tbody");
    const cols = ["Comparison", "A (baseline)", "B", "Runtimes", "Verdict", "Started"];
    s.append(
      el(
        "div",
        { className: "scroll" },
        el(
          "table",
          { className: "grid ab-list" },
          el("caption", {}, "A/B benchmarks involving this snippet, newest first"),
          el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", { scope: "col" }, c)))),
          this.body,
        ),
      ),
    );
    this.note = el("p", { className: "note", hidden: true });
    s.append(this.note);
    host.append(s);
    this.render();
    void this.load();
  }

  /** Loads the list again soon (a new A/B run of the snippet started). */
  refresh(): void {
    if (this.timer !== undefined) return;
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      void this.load();
    }, 1000);
  }

  async load(): Promise<void> {
    try {
      const body = await getJSON<{ abs: ABListItem[] }>(`${this.api}/ab?snippet=${encodeURIComponent(this.snippet)}`);
      this.items = body.abs ?? [];
      this.note.hidden = true;
    } catch (err) {
      this.note.textContent = `The A/B benchmarks could not be loaded: ${(err as Error).message}`;
      this.note.hidden = false;
    }
    this.render();
  }

  private render(): void {
    const rows = this.items.map((ab) => {
      const verdicts = ab.results.length
        ? el(
            "div",
            {},
            ...ab.results.map((r) => {
              const d = el("div", { className: `v-${r.verdict}` }, ab.runtimes.length > 1 ? `${runtimeLabel(r.runtime)}: ` : "", r.summary);
              d.dataset.verdict = r.verdict;
              return d;
            }),
          )
        : ab.done
          ? "no verdict"
          : "measuring…";
      const tr = el(
        "tr",
        {},
        el("th", { scope: "row" }, el("a", { href: `/bench/ab/${encodeURIComponent(ab.id)}` }, `A/B ${ab.id.slice(0, 8)}`)),
        el("td", {}, snippetLink(ab.a, this.snippet)),
        el("td", {}, snippetLink(ab.b, this.snippet), ...(ab.c ? [el("br"), "C: ", snippetLink(ab.c, this.snippet)] : [])),
        el("td", {}, ab.runtimes.map(runtimeLabel).join(", ")),
        el("td", { className: "verdicts" }, verdicts),
        el("td", { className: "nw" }, when(ab.created)),
      );
      tr.dataset.ab = ab.id;
      return tr;
    });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 6, className: "empty" }, "None yet.")));
    this.body.replaceChildren(...rows);
  }
}
