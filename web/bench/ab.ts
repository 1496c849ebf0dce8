// A/B benchmarks of code versions, the measuring side (docs/harness.md,
// "A/B benchmarks"). ABBench measures 2–3 programs ("arms", A the baseline)
// on one or more runtimes the way pyperf measures with several processes
// and tachometer with round robins: the benchmark happens in K fresh
// interpreters per runtime, all alive at once, each of which loads every
// arm, warms each up and calibrates its iteration count on its own. Then
// come rounds: in a round every interpreter (in a shuffled order) takes
// exactly one measured sample of every arm on every runtime (in a shuffled
// order), so whatever the machine does at a moment hits every arm alike,
// and the server pairs samples by (runtime, interpreter, round) — the k-th
// measured sample of a run is round k.
//
// Each (interpreter, runtime, arm) is one ordinary run of that arm's
// snippet, streamed like any run with run.start's `ab` field. The server
// does the statistics: every few rounds the benchmark asks it (GET
// /api/bench/ab/{id}) and stops once it says the result is decided, or when
// the time budget is used up. Because the interpreters progress together,
// the server's stop rule can look at the first n rounds of every
// interpreter while the benchmark runs (looks at 10, 15, 22… rounds each).

import type { BenchEvent, BenchRequest, BenchSample, RunStatus, RuntimeInfo, RuntimeName } from "../runtime/messages";
import { Runner } from "../runtime/runner";
import { armLabel, getJSON, type ABArm, type ABView } from "./api";
import { newRunID, type ProducerStream } from "./stream";

// ---- naming the other version ---------------------------------------------------

/** Snippet IDs (snippets/id.go): 11–43 base64url characters, not ending in - or _. */
const SNIPPET_ID = /^[A-Za-z0-9_-]{10,42}[A-Za-z0-9]$/;
/** Pages that name a snippet: the editor, its code, its embed and its dashboard. */
const SNIPPET_PATH = /^\/(?:s|embed|bench)\/([^/]+?)(?:\.py)?\/?$/;

/** What "Compare with" names: a snippet ID (and whether the link was to another server), or why not. */
export type SnippetRef = { id: string; elsewhere?: string } | { error: string };

/**
 * Reads a snippet link (/s/ID, an absolute URL of a snippet page, or a
 * bare ID) as typed into "Compare with".
 */
export function parseSnippetRef(text: string, here: string): SnippetRef {
  const t = text.trim();
  const example = "a link like /s/AbCdEfGh123 or the ID alone";
  if (!t) return { error: `Compare with needs a snippet: ${example}.` };
  let id = t;
  let elsewhere: string | undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(t) || t.startsWith("/") || t.startsWith("s/")) {
    let url: URL;
    try {
      url = new URL(t.startsWith("s/") ? "/" + t : t, here);
    } catch {
      return { error: `“${t}” is not a link: use ${example}.` };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return { error: `“${t}” is not a snippet link: use ${example}.` };
    const m = SNIPPET_PATH.exec(url.pathname);
    if (!m) return { error: `“${t}” does not link to a snippet: use ${example}.` };
    id = decodeURIComponent(m[1]);
    if (url.host !== new URL(here).host) elsewhere = url.host;
  }
  if (!SNIPPET_ID.test(id)) return { error: `“${t}” is not a snippet link or ID: use ${example}.` };
  return elsewhere ? { id, elsewhere } : { id };
}

// ---- the benchmark ------------------------------------------------------------------

/** Polls GET /api/bench/ab/{id} every this many rounds (and after each interpreter). */
export const POLL_EVERY_ROUNDS = 10;
/** Every interpreter takes at least this many rounds, even when its share of the budget is spent. */
export const MIN_ROUNDS = 2;
/** How long the end of an interpreter waits for the server to store its samples before asking for the verdict. */
const DRAIN_WAIT_MS = 10000;

export type ABLaneState = "waiting" | "starting" | "warming up" | "sampling" | "done" | "failed" | "stopped";

/** One arm on one runtime in one interpreter: one run. */
export interface ABLane {
  runtime: RuntimeName;
  arm: ABArm;
  snippet: string;
  interpreter: number;
  runID: string;
  state: ABLaneState;
  announced: boolean;
  warmup: number;
  measured: number;
  error?: string;
}

export interface ABArmSpec {
  arm: ABArm;
  snippet: string;
  code: string;
}

export interface ABBenchSpec {
  /** The A/B benchmark's ID (POST /api/bench/ab). */
  id: string;
  arms: ABArmSpec[];
  runtimes: RuntimeName[];
  budgetMs: number;
  interpreters: number;
  /** Each arm's warmup per interpreter, at most (shortened when the budget is tight). */
  warmupMs: number;
}

export interface ABBenchEvents {
  /** A line for the status: what happens now. */
  say(text: string): void;
  /** Lanes, rounds or the verdict changed: render. */
  changed(): void;
}

/** The environment a page gives the benchmark. */
export interface ABBenchHost {
  worker: string;
  build: string;
  runtimes: Record<string, RuntimeInfo>;
  stream: ProducerStream;
  /** The API prefix, "/api/bench". */
  api?: string;
}

const LABELS: Record<string, string> = { pyodide: "Pyodide", micropython: "MicroPython" };

/** One fresh interpreter of one runtime, and the step in progress. */
interface Worker {
  runtime: RuntimeName;
  interpreter: number;
  runner: Runner;
  starting: boolean;
  version?: string;
  fatal?: string;
  settle: ((status: RunStatus | "fatal") => void) | null;
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export class ABBench {
  /** Every run so far, by interpreter (tests and the panel read these). */
  readonly lanes: ABLane[] = [];
  /** The server's view of the benchmark, as last fetched. */
  view: ABView | null = null;
  /** Every poll (diagnostics, make bench-trust): when it was sent (ms after the start), how long it took, rounds measured then, rounds the server had stored, and whether it was decided. */
  readonly polls: { at: number; ms: number; measured: number; stored: number; decided: boolean }[] = [];
  /** The interpreter starting or warming up (0-based). */
  interpreter = 0;
  /** Complete rounds in each interpreter, and over all interpreters. */
  roundsHere = 0;
  rounds = 0;
  startedAt = 0;
  /** Set when a program failed or a runtime could not start: the message. */
  error = "";
  /** How it ended, once it has: decided, budget, stopped, failed. */
  outcome: "" | "decided" | "budget" | "stopped" | "failed" = "";
  private stopping = false;
  private workers: Worker[] = [];
  private polling: Promise<void> | null = null;
  private hiddenEpoch = 0;
  private readonly onVisibility = () => {
    if (document.hidden) this.hiddenEpoch++;
  };

  constructor(
    readonly spec: ABBenchSpec,
    private readonly host: ABBenchHost,
    private readonly events: ABBenchEvents,
  ) {}

  get decided(): boolean {
    return this.view?.decided === true;
  }

  /** Stops at once: the step in progress is interrupted and every run ends "stopped". */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const w of this.workers) {
      if (w.starting) w.settle?.("fatal");
      else w.runner.stop();
    }
  }

  /** Measures until decided, out of budget, stopped or failed; resolves with a sentence saying which. */
  async run(): Promise<string> {
    this.startedAt = performance.now();
    document.addEventListener("visibilitychange", this.onVisibility);
    try {
      await this.measure();
      this.outcome ||= this.stopping ? "stopped" : this.decided ? "decided" : "budget";
    } catch (err) {
      this.error ||= String((err as Error)?.message ?? err);
      this.outcome = "failed";
    } finally {
      document.removeEventListener("visibilitychange", this.onVisibility);
      for (const w of this.workers) w.runner.dispose();
      this.finishAll();
    }
    // The last verdict, once the server has every sample.
    await Promise.race([this.host.stream.drained(), new Promise((r) => setTimeout(r, DRAIN_WAIT_MS))]);
    await this.poll();
    const started = this.workers.filter((w) => w.version !== undefined).length / Math.max(1, this.spec.runtimes.length);
    const rounds =
      this.roundsHere > 0
        ? `${this.roundsHere} ${this.roundsHere === 1 ? "round" : "rounds"} in each of ${this.spec.interpreters} interpreters (${this.rounds} in all)`
        : `no complete round (${Math.floor(started)} of ${this.spec.interpreters} interpreters started)`;
    switch (this.outcome) {
      case "decided":
        return `Settled after ${rounds}: the server's stop rule has its answer.`;
      case "stopped":
        return `Stopped after ${rounds}.`;
      case "failed":
        return `The comparison failed after ${rounds}.`;
      default:
        return `The time budget of ${Math.round(this.spec.budgetMs / 1000)} s is used up: ${rounds}${this.decided ? "." : ", not decided."}`;
    }
  }

  private newWorker(runtime: RuntimeName, interpreter: number): Worker {
    const w: Worker = { runtime, interpreter, runner: null as unknown as Runner, starting: false, settle: null };
    w.runner = new Runner(this.host.worker, this.host.runtimes, this.host.build, runtime, {
      progress: () => {},
      ready: (info) => {
        w.version = info.version;
        if (w.starting) w.settle?.("ok");
      },
      output: () => {},
      input: () => {},
      done: (r) => w.settle?.(r.restarted ? "interrupted" : r.status),
      fatal: (message) => {
        w.fatal = message;
        w.settle?.("fatal");
      },
    });
    // A fresh interpreter each time (no spare), started from scratch, not
    // from this browser's memory snapshot: interpreters restored from one
    // snapshot are clones (the same hash seed, the same addresses for the
    // same objects), so whatever favours one arm in one of them would favour
    // it in all, and the spread between interpreters, which the verdict's
    // interval rests on, would be missing. A cold start is slower; it is
    // not what an A/B benchmark measures.
    w.runner.spareEnabled = false;
    w.runner.snapshotEnabled = false;
    return w;
  }

  private wait(w: Worker, begin: () => boolean): Promise<RunStatus | "fatal"> {
    return new Promise((resolve) => {
      w.settle = (s) => {
        w.settle = null;
        resolve(s);
      };
      if (!begin()) w.settle("fatal");
    });
  }

  private async measure(): Promise<void> {
    const { interpreters: K, budgetMs } = this.spec;
    const deadline = this.startedAt + budgetMs;
    // The server's stop rule looks at the first maxRounds rounds of each
    // interpreter at most: more would be measured for nothing.
    await this.poll();
    const cap = this.view?.maxRounds && this.view.maxRounds > 0 ? this.view.maxRounds : Infinity;

    // Every interpreter of every runtime is alive together, so that the
    // rounds go round all of them and the stop rule can look at every
    // interpreter's first n rounds while the benchmark runs.
    const byInterp: ABLane[][] = [];
    for (let k = 0; k < K; k++) {
      const lanes = this.spec.runtimes.flatMap((runtime) =>
        this.spec.arms.map(
          (a): ABLane => ({ runtime, arm: a.arm, snippet: a.snippet, interpreter: k, runID: newRunID(), state: "waiting", announced: false, warmup: 0, measured: 0 }),
        ),
      );
      byInterp.push(lanes);
      this.lanes.push(...lanes);
    }
    this.events.changed();

    // Fresh interpreters, one after the other.
    for (let k = 0; k < K; k++) {
      for (const runtime of this.spec.runtimes) {
        if (this.stopping) return;
        const w = this.newWorker(runtime, k);
        this.workers.push(w);
        const mine = byInterp[k].filter((l) => l.runtime === runtime);
        for (const l of mine) l.state = "starting";
        this.interpreter = k;
        this.events.say(`Starting ${LABELS[runtime]}, interpreter ${k + 1} of ${K}…`);
        this.events.changed();
        w.starting = true;
        const st = await this.wait(w, () => {
          w.runner.start(runtime);
          return true;
        });
        w.starting = false;
        if (this.stopping) return;
        if (st !== "ok") return this.fail(mine[0], `${LABELS[runtime]} did not start: ${w.fatal ?? "unknown error"}`);
        for (const l of mine) l.state = "waiting";
      }
    }

    // Every arm warms up and calibrates on its own in every interpreter, in a shuffled order.
    const all = shuffle(this.lanes);
    const perLane = Math.max(0, deadline - performance.now()) / (2 * all.length);
    const warmupMs = Math.max(0, Math.min(this.spec.warmupMs, perLane / 2));
    const options = { warmupMs, minWarmup: warmupMs > 0 ? 5 : 1, maxWarmupMs: Math.max(warmupMs, perLane), minSampleMs: 5 };
    for (const lane of all) {
      if (this.stopping) return;
      lane.state = "warming up";
      this.interpreter = lane.interpreter;
      this.events.say(`Interpreter ${lane.interpreter + 1} of ${K}: ${LABELS[lane.runtime]} · ${armLabel(lane.arm)}, first run and warmup…`);
      this.events.changed();
      const code = this.spec.arms.find((a) => a.arm === lane.arm)!.code;
      const st = await this.step(lane, { op: "prepare", code, options, arm: lane.arm });
      if (st !== "ok") return this.ended(lane, st);
      lane.state = "sampling";
    }

    // Rounds: in each, every interpreter (in a shuffled order) takes one
    // measured sample of every arm on every runtime, in a shuffled order.
    // An interpreter's samples of one round follow each other, so what the
    // machine does at a moment hits every arm alike.
    while (!this.stopping && !this.decided && this.roundsHere < cap && (performance.now() < deadline || this.roundsHere < MIN_ROUNDS)) {
      for (const k of shuffle([...byInterp.keys()])) {
        for (const lane of shuffle(byInterp[k])) {
          if (this.stopping) return;
          const st = await this.step(lane, { op: "sample", count: 1, arm: lane.arm });
          if (st !== "ok") return this.ended(lane, st);
        }
      }
      if (this.stopping) return;
      this.roundsHere++;
      this.rounds += K;
      this.events.say(`Round ${this.roundsHere} in each of ${K} interpreters (${this.rounds} in all)`);
      this.events.changed();
      if (this.roundsHere % POLL_EVERY_ROUNDS === 0 && !this.polling) void this.poll();
    }
    if (this.stopping) return;
    if (this.decided) this.outcome = "decided";
  }

  private workerOf(lane: ABLane): Worker | undefined {
    return this.workers.find((x) => x.runtime === lane.runtime && x.interpreter === lane.interpreter);
  }

  /** A step that did not end "ok": stopped, or the arm's program failed. */
  private ended(lane: ABLane, st: RunStatus | "fatal"): void {
    if (this.stopping || st === "interrupted") {
      this.stopping = true;
      return;
    }
    const w = this.workerOf(lane);
    this.fail(lane, lane.error ?? w?.fatal ?? "the benchmark step failed");
  }

  private fail(lane: ABLane | undefined, message: string): void {
    this.outcome = "failed";
    this.error = lane ? `${LABELS[lane.runtime]} · ${armLabel(lane.arm)}: ${message}` : message;
    if (lane) {
      lane.error = message;
      this.finish(lane, "failed", message);
    }
  }

  /** One harness step on the lane's runtime; its samples go to the stream as they come. */
  private step(lane: ABLane, request: BenchRequest): Promise<RunStatus | "fatal"> {
    const w = this.workerOf(lane)!;
    const epoch = this.hiddenEpoch;
    const hiddenAtStart = document.hidden;
    const hidden = () => hiddenAtStart || document.hidden || this.hiddenEpoch !== epoch;
    return this.wait(w, () => w.runner.bench(request, (e) => this.onEvent(lane, w, e, hidden)));
  }

  private onEvent(lane: ABLane, w: Worker, e: BenchEvent, hidden: () => boolean): void {
    switch (e.kind) {
      case "calibrated":
        if (lane.announced) break;
        lane.announced = true;
        this.host.stream.startRun({
          id: lane.runID,
          snippet: lane.snippet,
          runtime: lane.runtime,
          runtimeVersion: w.version,
          env: { ...e.env, hidden: document.hidden },
          phases: { ...e.phases },
          config: {
            ...e.config,
            ab: true,
            arms: this.spec.arms.map((a) => a.arm).join(","),
            runtimes: this.spec.runtimes.join(","),
            interpreters: this.spec.interpreters,
            budgetMs: this.spec.budgetMs,
            rounds: "one measured sample per arm and runtime per round, order shuffled per round",
          },
          ab: { id: this.spec.id, arm: lane.arm, interpreter: lane.interpreter },
        });
        break;
      case "samples": {
        const h = hidden();
        const samples: BenchSample[] = e.samples.map((s) => (h ? { ...s, hidden: true } : s));
        for (const s of samples) {
          if (s.warmup) lane.warmup++;
          else lane.measured++;
        }
        this.host.stream.addSamples(lane.runID, samples);
        break;
      }
      case "error":
        lane.error = e.message;
        break;
    }
  }

  private finish(lane: ABLane, state: "done" | "failed" | "stopped", note?: string): void {
    if (lane.state === "done" || lane.state === "failed" || lane.state === "stopped") return;
    lane.state = state;
    if (!lane.announced && state !== "failed") return;
    if (!lane.announced) {
      // A run that failed before it was calibrated is still recorded, with its error.
      lane.announced = true;
      this.host.stream.startRun({ id: lane.runID, snippet: lane.snippet, runtime: lane.runtime, ab: { id: this.spec.id, arm: lane.arm, interpreter: lane.interpreter } });
    }
    this.host.stream.endRun(lane.runID, state, note);
  }

  /**
   * Ends every run: together at the end, so that the benchmark's runs are
   * running while it is. They end "done" when every interpreter ran;
   * otherwise "stopped" (Stop, a failure, or a budget used up early), which
   * is how the server knows that no more interpreters are coming.
   */
  private finishAll(): void {
    const ran = new Set(this.lanes.filter((l) => l.announced).map((l) => l.interpreter)).size;
    let state: "done" | "stopped" = "done";
    let note: string | undefined;
    if (this.outcome === "failed") {
      state = "stopped";
      note = `the A/B benchmark ended: ${this.error}`;
    } else if (this.outcome === "stopped") state = "stopped";
    else if (ran < this.spec.interpreters) {
      state = "stopped";
      note = `the time budget ended after ${ran} of ${this.spec.interpreters} interpreters`;
    }
    for (const l of this.lanes) this.finish(l, state, note);
    this.events.changed();
  }

  /** Asks the server for the benchmark's statistics; never throws. */
  poll(): Promise<void> {
    if (this.polling) return this.polling;
    const api = this.host.api ?? "/api/bench";
    const at = performance.now();
    const measured = this.rounds;
    this.polling = getJSON<ABView>(`${api}/ab/${encodeURIComponent(this.spec.id)}`)
      .then((v) => {
        this.view = v;
        this.polls.push({ at: at - this.startedAt, ms: performance.now() - at, measured, stored: v.rounds, decided: v.decided });
        this.events.changed();
      })
      .catch((err) => console.warn("pyplay: A/B benchmark", this.spec.id, err))
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }
}
