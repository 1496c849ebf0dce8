// A PyScript page as a benchmark lane (bench.ts): a preview frame of its own
// in the preview pane, rendered with `bench` (pyscript-protocol.ts), whose
// PyScript worker runs the page once and then the harness's steps on the
// page's interpreter (pyscript-bench.ts). It offers bench.ts what a console
// Runner does: start, one step at a time, stop, dispose.

import type { BenchEvent, BenchRequest, RunStatus } from "./protocol";
import { PREVIEW_SANDBOX } from "./pyscript";
import type { BenchStep, FromPreview, Interpreter, ToPreview } from "./pyscript-protocol";

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
  private stepping: ((e: BenchEvent) => void) | null = null;
  private stderr = "";
  private readonly listener = (e: MessageEvent) => this.onMessage(e);

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
    for (const p of this.pane.querySelectorAll(".preview-placeholder")) p.remove();
    this.pane.append(frame);
    this.frame = frame;
    this.startedAt = performance.now();
    addEventListener("message", this.listener);
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
    this.frame?.remove();
    this.frame = null;
    this.ready = false;
    this.stepping = null;
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
        if (!this.ready) this.on.fatal(msg.error ? this.stderr.trim() || "the page raised an exception" : "the page ended before the benchmark could start");
        break;
      case "uncaught":
        if (!this.ready) this.on.fatal(String(msg.text).trim());
        break;
      case "fatal":
        this.on.fatal(`PyScript could not start: ${msg.message}`);
        break;
      case "input":
        // Nobody answers during a benchmark (the harness refuses input() in its own runs too).
        this.on.fatal("input() is not available while benchmarking: the benchmark runs the page many times");
        this.dispose();
        break;
    }
  }
}
