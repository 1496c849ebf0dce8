// Messages between the playground (mode.ts) and the PyScript preview
// document (preview.ts), which live on different origins and talk only by
// postMessage, each checking the other's origin.

import type { BenchEvent, BenchRequest, RunStatus } from "../runtime/messages";

/** The interpreter PyScript runs the page's code with. */
export type Interpreter = "pyodide" | "micropython";

/** Playground → preview: render this page (once per preview document). */
export interface ToPreview {
  type: "run";
  interpreter: Interpreter;
  code: string; // becomes <script type="py" worker> (or "mpy") at the end of the body
  html: string; // the page body, written before the code runs
  /**
   * Benchmark the page (bench/panel.ts): after the code's own run, the harness
   * (pyscript/bench.ts) takes over PyScript's worker and waits for steps.
   */
  bench?: boolean;
}

/** Playground → preview: the line typed for a pending input(). */
export interface InputAnswer {
  type: "input-answer";
  line: string;
}

/** Playground → preview: one more "out" message is on screen (backpressure). */
export interface OutputShown {
  type: "out-shown";
}

/** Playground → preview, benchmarks only: the harness's next step. */
export interface BenchStep {
  type: "bench-step";
  request: BenchRequest;
}

/** Preview → playground. Times are milliseconds on the preview's clock. */
export type FromPreview =
  | { type: "hello" } // listening: send the ToPreview message now
  | { type: "progress"; text: string } // PyScript's py:progress / mpy:progress
  | { type: "ready"; loadMs: number; isolated: boolean } // py:ready: the code starts now
  | { type: "out"; stream: "stdout" | "stderr"; text: string }
  | { type: "done"; runMs: number; error: boolean } // py:done
  | { type: "uncaught"; text: string } // an error after py:done (event handlers, tasks)
  | { type: "input"; prompt: string } // input() waits for an InputAnswer (its output so far came first)
  | { type: "fatal"; message: string } // PyScript could not start at all
  // Benchmarks: the page ran (pageRunMs, in its worker) and the harness waits for a step,
  | { type: "bench-ready"; pageRunMs: number; pythonVersion: string }
  // the harness reports (samples, calibration, errors),
  | { type: "bench-event"; event: BenchEvent }
  // and a step ended; the harness waits for the next.
  | { type: "bench-done"; status: RunStatus };

/**
 * A PyScript benchmark's step channel (bench.ts, preview.ts): a shared
 * buffer of Int32 [0] 1 when a step is stored, [1] its length in bytes,
 * then the step as JSON.
 */
export const STEP_HEADER = 8;
/** The largest step (JSON; a prepare step carries the program's code). */
export const STEP_MAX = 4 << 20;
