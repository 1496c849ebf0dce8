// Messages between the page (runner.ts) and the runtime worker (worker.ts),
// and the layout of the shared control buffer they both use.

export type RuntimeName = "pyodide" | "micropython";

/**
 * What a runtime worker can load: a Python runtime, or the reference
 * suite's kernels compiled to WebAssembly (bench/kernels.ts), which only
 * the benchmark harness uses.
 */
export type WorkerRuntime = RuntimeName | "go-wasm" | "rust-wasm";

export interface RuntimeInfo {
  version: string;
  base: string; // URL path ending in "/"
  files: Record<string, number>; // file name → size in bytes
  /** Pyodide's packages (pyplay's -packages): the lock file and the base URL of its files. */
  packages?: { lock: string; base: string };
}

/**
 * What a worker loads, known when it is created: it travels in the
 * worker's name (WORKER_NAME_PREFIX + JSON), so the worker starts loading
 * the moment its script is evaluated instead of waiting for a message the
 * page's busy main thread may not deliver for a hundred milliseconds.
 */
export interface StartConfig {
  runtime: WorkerRuntime;
  info: RuntimeInfo;
  build: string;
  /**
   * Memory snapshot of the pristine interpreter (Pyodide): "use" only
   * restores one (the interpreter the visitor waits for: making a
   * snapshot would slow its start), "save" restores one or, when there
   * is none, makes and saves it (the spare, booting in the background),
   * "off" neither.
   */
  snapshot: SnapshotMode;
}

export const WORKER_NAME_PREFIX = "pyplay ";

/** Page → worker. */
export type ToWorker =
  | {
      // The shared buffers (null without cross-origin isolation); the
      // worker reports ready only once it has them.
      type: "init";
      control: SharedArrayBuffer | null;
      interrupt: SharedArrayBuffer | null;
    }
  | { type: "run"; id: number; code: string }
  // Sent with every interrupt: cancels a run that awaits at top level.
  | { type: "stop" }
  | { type: "bench"; id: number; request: BenchRequest }
  // Format (editor/format-worker.ts): answered with "formatted".
  | { type: "format"; id: number; code: string };

export type Stream = "stdout" | "stderr";

export type SnapshotMode = "save" | "use" | "off";

/** Start-up phase durations in milliseconds. */
export interface StartupTimings {
  download: number; // until every fetched runtime file has arrived
  init: number; // compiling, instantiating and initialising (or restoring) after that
  total: number; // from worker start to ready
}

/**
 * How the interpreter started: restored from this browser's memory snapshot
 * ("snapshot"), a normal start that then saved a snapshot ("saved"), a
 * normal start ("normal"), or a normal start after a bad snapshot was
 * thrown away ("repaired").
 */
export type StartPath = "snapshot" | "saved" | "normal" | "repaired";

export type RunStatus = "ok" | "error" | "interrupted";

/**
 * One rich output (editor/richoutput.ts renders it): a MIME type of
 * image/png, image/jpeg (data in base64), image/svg+xml, text/html or
 * text/markdown (data as text). Plain text is printed instead.
 */
export interface DisplayItem {
  mime: string;
  data: string;
}

/**
 * The largest representation one display() sends to the page, in bytes (of
 * the image, or of the UTF-8 text): the worker skips a bigger one with a
 * message on stderr (trying the next representation), the page refuses one.
 */
export const MAX_DISPLAY_BYTES = 5 * 1024 * 1024;

/** Worker → page. */
export type FromWorker =
  | { type: "progress"; phase: "download" | "init"; loaded: number; total: number }
  | {
      type: "ready";
      runtime: WorkerRuntime;
      version: string;
      pythonVersion: string;
      timings: StartupTimings;
      path: StartPath;
      note?: string; // why the fast path was not used, when it was not
    }
  // Loading the packages a program imports (runtime/packages.ts): the status
  // line's text, null when done.
  | { type: "packages"; text: string | null }
  | { type: "out"; chunks: [Stream, string][] }
  // Turtle graphics ops (JSON arrays from turtle.py, drawn by editor/turtle.ts);
  // batched and acknowledged (CTL_OUT_SHOWN) like "out".
  | { type: "turtle"; ops: string[] }
  // display() or a last expression's value (runtime/display.py), after the output before it.
  | { type: "display"; item: DisplayItem }
  | { type: "input"; prompt: string }
  | { type: "done"; id: number; status: RunStatus; ms: number }
  | { type: "bench"; id: number; event: BenchEvent }
  | { type: "formatted"; id: number; code: string | null; error: string | null }
  | { type: "fatal"; message: string };

// Control buffer layout (Int32 slots over a SharedArrayBuffer). The worker
// blocks in Atomics.wait on these slots; the page stores and notifies.
export const CTL_INPUT = 0; // input state: INPUT_IDLE / INPUT_WAITING / INPUT_ANSWERED / INPUT_CANCELLED
export const CTL_INPUT_LEN = 1; // byte length of the answer
export const CTL_WAKE = 2; // bumped by the page to cut a sleep() short on Stop
// Output batches the page has shown: the worker counts those it posted and
// waits while OUT_IN_FLIGHT are not yet shown (backpressure, see worker.ts).
export const CTL_OUT_SHOWN = 3;
export const CTL_HEADER_BYTES = 16;
export const CTL_INPUT_CAPACITY = 64 * 1024;
export const CTL_BYTES = CTL_HEADER_BYTES + CTL_INPUT_CAPACITY;

export const INPUT_IDLE = 0;
export const INPUT_WAITING = 1;
export const INPUT_ANSWERED = 2;
export const INPUT_CANCELLED = 3;

/** Output batches the worker may post before the page has shown them. */
export const OUT_IN_FLIGHT = 4;

/** Value written to the interrupt buffer to raise KeyboardInterrupt (SIGINT). */
export const SIGINT = 2;

/** Cache Storage name for this browser's Pyodide memory snapshots. */
export const SNAPSHOT_CACHE = "pyplay-snapshots";

// ---- benchmarks (bench/harness.ts in the worker, bench/panel.ts on the page) ------------
// The page drives a benchmark one step at a time: "prepare" measures the
// timer, compiles and runs the code once, and warms up; each "sample" takes
// timed samples. Every step ends with the usual "done" message, so Stop
// works as for a run; results arrive before it as "bench" events.

/** How the harness warms up and sizes samples; defaults in bench/harness.ts. */
export interface BenchOptions {
  /** Warm up for at least this long (WebAssembly tiers up meanwhile)… */
  warmupMs: number;
  /** …and for at least this many samples. */
  minWarmup: number;
  /** Warmup ends here even when minWarmup is not reached (slow code). */
  maxWarmupMs: number;
  /** A sample lasts at least this long, and at least 100× the timer resolution. */
  minSampleMs: number;
}

/**
 * A step of a benchmark. `arm` names one of several programs loaded into
 * the same interpreter (A/B benchmarks: "a", "b", "c"); each is prepared
 * and sampled on its own. Without it the step is about the only program.
 */
export type BenchRequest =
  | { op: "prepare"; code: string; options: BenchOptions; arm?: string; kernel?: KernelSpec }
  | { op: "sample"; count: number; arm?: string };

/**
 * A compiled kernel to time instead of Python code (runtimes go-wasm and
 * rust-wasm): one iteration is kernels.run(id, n), whose result must equal
 * check before any sample counts.
 */
export interface KernelSpec {
  id: string;
  n: number;
  check: string;
}

/** One timed sample, as sent over /ws (docs/protocol.md). */
export interface BenchSample {
  seq: number;
  warmup: boolean;
  ns: number; // per iteration
  iters: number;
  hidden?: boolean;
}

/** Where a benchmark ran; sent as the run's env. */
export interface BenchEnv {
  userAgent: string;
  browser: string;
  browserVersion: string;
  platform: string;
  cores: number;
  deviceMemory?: number;
  crossOriginIsolated: boolean;
  timerResolutionNs: number;
  pythonVersion: string;
  hidden: boolean;
}

/**
 * Start-up phases in ms: durations under their names (fetch, compile, init,
 * firstRun, total) and, under "start", when each began, on the worker's
 * clock (0 = worker start), for the waterfall.
 */
export interface StartupPhases {
  fetch: number;
  compile: number;
  init: number;
  firstRun: number;
  /** Loading the packages the program imports (-packages), before the first run; absent when none. */
  packages?: number;
  total: number;
  start: { fetch: number; compile: number; init: number; firstRun: number; packages?: number };
  fetchBytes: number; // bytes transferred (0 when every file came from the cache)
  path: string; // StartPath of the interpreter
}

export type BenchEvent =
  /** Timer measured, code compiled and run once; warmup follows. */
  | {
      kind: "calibrated";
      env: BenchEnv;
      phases: StartupPhases;
      config: Record<string, number | string | boolean>;
    }
  | { kind: "samples"; samples: BenchSample[]; iters: number }
  /** The program raised (the traceback) or the harness failed. */
  | { kind: "error"; message: string };
