// A PyScript page as a benchmark lane (bench/panel.ts): a preview frame of its own
// in the preview pane's benchmark container, rendered with `bench` (messages.ts), whose
// PyScript worker runs the page once and then the harness's steps on the
// page's interpreter (bench.ts). It offers the panel what a console
// Runner does: start, one step at a time, stop, dispose.
//
// Nothing else may end a lane silently: a frame taken out of the page, a page
// that loads again (its worker is gone with the old document) and an error
// the worker reports after the page ran (its step may never end) all fail
// the lane, so the panel never waits for a step that cannot finish.

import type { BenchEvent, BenchRequest, RunStatus } from "../runtime/messages";
import { PREVIEW_SANDBOX } from "./mode";
import type { BenchStep, FromPreview, Interpreter, ToPreview } from "./messages";

export interface PyScriptLaneEvents {
  progress(text: string): void;
  /** The page ran and the harness waits for steps. Times in ms: Run → py:ready, and the page's own run. */
  ready(info: { pythonVersion: string; loadMs: number; pageRunMs: number }): void;
  done(status: RunStatus): void;
  fatal(message: string): void;
}

/** The most of the page's stderr kept for an error message. */
const MAX_STDERR = 16 << 10;

export class PyScriptBenchRunner {
  private frame: HTMLIFrameElement | null = null;
  private startedAt = 0;
  private loadMs = 0;
  private ready = false;
  /** The page was sent to the frame (a second "hello" means it loaded again). */
  private sent = false;
  private failed = false;
  private stepping: ((e: BenchEvent) => void) | null = null;
  private stderr = "";
  private readonly listener = (e: MessageEvent) => this.onMessage(e);
  /** Notices the frame leaving the document, which ends its page and worker. */
  private readonly watcher = new MutationObserver(() => {
    if (this.frame && !this.frame.isConnected) this.fail("its preview frame was removed from the page, which ended its worker");
  });

  constructor(
    private readonly previewURL: URL,
    private readonly pane: HTMLElement,
    private readonly page: { interpreter: Interpreter; code: string; html: string; label: string },
    private readonly on: PyScriptLaneEvents,
  ) {}

  /** Loads the page in a fresh preview frame; ready() follows once it ran. */
  start(): void {
    this.dispose();
    const url = new URL(this.previewURL);
    url.searchParams.set("parent", location.origin);
    const frame = document.createElement("iframe");
    frame.title = `PyScript benchmark: ${this.page.label}`;
    frame.setAttribute("sandbox", PREVIEW_SANDBOX);
    frame.setAttribute("allow", "cross-origin-isolated");
    frame.src = url.href;
    this.pane.append(frame);
    this.frame = frame;
    this.failed = false;
    this.startedAt = performance.now();
    addEventListener("message", this.listener);
    this.watcher.observe(document, { childList: true, subtree: true });
  }

  /** Sends one harness step; its events go to onEvent and done() ends it. False when not ready or busy. */
  bench(request: BenchRequest, onEvent: (e: BenchEvent) => void): boolean {
    if (!this.ready || this.stepping || !this.frame) return false;
    this.stepping = onEvent;
    this.post({ type: "bench-step", request });
    return true;
  }

  /** Unloads the page, which ends its worker whatever it is doing; a step in progress ends "interrupted". */
  stop(): void {
    const wasStepping = this.stepping !== null;
    this.dispose();
    if (wasStepping) this.on.done("interrupted");
  }

  dispose(): void {
    removeEventListener("message", this.listener);
    this.watcher.disconnect();
    this.frame?.remove();
    this.frame = null;
    this.ready = false;
    this.sent = false;
    this.stepping = null;
  }

  /**
   * Ends the lane with an error: the start-up or step in progress (if any)
   * settles as fatal, and the next step is refused, so the panel fails the
   * run with message. The page is unloaded.
   */
  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.dispose();
    this.on.fatal(message);
  }

  private get origin(): string {
    return this.previewURL.origin;
  }

  private post(msg: ToPreview | BenchStep): void {
    this.frame?.contentWindow?.postMessage(msg, this.origin);
  }

  private onMessage(e: MessageEvent): void {
    // Only this lane's frame, from the preview origin, is heard.
    if (!this.frame || e.source !== this.frame.contentWindow || e.origin !== this.origin) return;
    const msg = e.data as FromPreview;
    switch (msg?.type) {
      case "hello":
        // Once only: a page that loads again (say it reloaded itself) lost its worker and the harness with it.
        if (this.sent) return this.fail("the page loaded again during the benchmark, which ended its worker");
        this.sent = true;
        this.post({ type: "run", interpreter: this.page.interpreter, code: this.page.code, html: this.page.html, bench: true });
        break;
      case "progress":
        if (!this.loadMs) this.on.progress(msg.text);
        break;
      case "ready":
        this.loadMs = performance.now() - this.startedAt;
        this.on.progress("running the page");
        break;
      case "out":
        if (msg.stream === "stderr") this.stderr = (this.stderr + msg.text).slice(-MAX_STDERR);
        break;
      case "bench-ready":
        this.ready = true;
        this.on.ready({ pythonVersion: msg.pythonVersion, loadMs: this.loadMs, pageRunMs: msg.pageRunMs });
        break;
      case "bench-event":
        this.stepping?.(msg.event);
        break;
      case "bench-done": {
        const step = this.stepping;
        this.stepping = null;
        if (step) this.on.done(msg.status);
        break;
      }
      case "done":
        // py:done before the harness took over: the page's own run raised.
        if (!this.ready) this.fail(msg.error ? this.stderr.trim() || "the page raised an exception" : "the page ended before the benchmark could start");
        break;
      case "uncaught":
        // Before the harness took over, the page failed to load or run; afterwards the worker
        // reported an error of its own (xworker.onerror): it may be dead, and its step would never end.
        if (!this.ready) this.fail(String(msg.text).trim());
        else this.fail(`the page's worker reported an error during the benchmark: ${String(msg.text).trim()}`);
        break;
      case "fatal":
        this.fail(`PyScript could not start: ${msg.message}`);
        break;
      case "input":
        // Nobody answers during a benchmark (the harness refuses input() in its own runs too).
        this.fail("input() is not available while benchmarking: the benchmark runs the page many times");
        break;
    }
  }
}

/** A PyScript lane's start-up, on the playground's clock (ready()). */
export interface PyScriptPhases {
  loadMs: number;
  pageRunMs: number;
}

/**
 * A PyScript run's start-up on the playground's clock, from Run (0): the
 * page's load until py:ready (the frame, PyScript and its interpreter,
 * which starts in PyScript's worker) as "init", and the page's own first run
 * as "firstRun", so that the dashboard's waterfall shows them like the
 * console runtimes' phases; harnessFirstRun is the harness's compile + one
 * run in a fresh namespace.
 */
export function pyscriptPhases(p: PyScriptPhases | undefined, harnessFirstRun: number): Record<string, unknown> {
  const round = (x: number) => Math.round(x * 100) / 100;
  const load = round(p?.loadMs ?? 0);
  const page = round(p?.pageRunMs ?? 0);
  return {
    init: load,
    firstRun: page,
    total: load,
    start: { init: 0, firstRun: load },
    load,
    pageRun: page,
    harnessFirstRun: round(harnessFirstRun),
    path: "pyscript",
  };
}
