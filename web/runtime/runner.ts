// Runner owns the runtime worker: starts it, runs programs, stops them
// (interrupt first, terminate and replace if that fails), answers input()
// and restarts. The page talks only to this class.

import {
  CTL_BYTES,
  CTL_HEADER_BYTES,
  CTL_INPUT,
  CTL_INPUT_CAPACITY,
  CTL_INPUT_LEN,
  CTL_OUT_SHOWN,
  CTL_WAKE,
  INPUT_ANSWERED,
  INPUT_CANCELLED,
  SIGINT,
  type BenchEvent,
  type BenchRequest,
  type DisplayItem,
  type FromWorker,
  type RunStatus,
  type RuntimeInfo,
  type SnapshotMode,
  type StartConfig,
  type StartPath,
  type StartupTimings,
  type Stream,
  type ToWorker,
  type WorkerRuntime,
  WORKER_NAME_PREFIX,
} from "./messages";

/** How long Stop waits for KeyboardInterrupt before replacing the worker. */
export const STOP_GRACE_MS = 1000;

export interface ReadyInfo {
  runtime: WorkerRuntime;
  version: string;
  pythonVersion: string;
  timings: StartupTimings;
  path: StartPath;
  note?: string;
  /** A pre-started spare interpreter took over: no start-up wait at all. */
  spare: boolean;
}

export interface RunnerEvents {
  progress(phase: "download" | "init", loaded: number, total: number): void;
  ready(info: ReadyInfo): void;
  /**
   * Program output. A returned promise resolves once it is on screen: until
   * then it counts against the worker's OUT_IN_FLIGHT batches (backpressure).
   */
  output(chunks: [Stream, string][]): void | Promise<void>;
  /** Turtle graphics ops, after the output before them; a promise as for output(). */
  turtle?(ops: string[]): void | Promise<void>;
  /** Rich output (display(), a last expression's value), in order with output; backpressure as for output. */
  display?(item: DisplayItem): void | Promise<void>;
  input(prompt: string): void;
  done(result: { status: RunStatus; ms: number; restarted: boolean }): void;
  fatal(message: string): void;
  /** Packages a program imports are loading (text for the status line); null when done. */
  packages?(text: string | null): void;
}

/** One worker with its interpreter and shared buffers. */
export class Slot {
  readonly worker: Worker;
  readonly control: SharedArrayBuffer | null;
  readonly interrupt: SharedArrayBuffer | null;
  ready: Extract<FromWorker, { type: "ready" }> | null = null;
  failed = false;

  constructor(
    readonly runtime: WorkerRuntime,
    workerURL: string,
    info: RuntimeInfo,
    build: string,
    isolated: boolean,
    snapshot: SnapshotMode,
  ) {
    this.control = isolated ? new SharedArrayBuffer(CTL_BYTES) : null;
    this.interrupt = isolated ? new SharedArrayBuffer(4) : null;
    const start: StartConfig = { runtime, info, build, snapshot };
    this.worker = new Worker(workerURL, { type: "module", name: WORKER_NAME_PREFIX + JSON.stringify(start) });
    const init: ToWorker = { type: "init", control: this.control, interrupt: this.interrupt };
    // Until a Runner adopts this slot (a spare, or the boot worker while the
    // editor bundle loads), remember how start-up ended.
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (e.data.type === "ready") this.ready = e.data;
      else if (e.data.type === "fatal") this.failed = true;
    };
    this.worker.onerror = () => {
      this.failed = true;
    };
    this.worker.postMessage(init);
  }

  dispose(): void {
    this.worker.terminate();
  }
}

/** How long after start-up the spare interpreter starts booting. */
const SPARE_DELAY_MS = 1500;

export class Runner {
  readonly isolated = globalThis.crossOriginIsolated === true;
  /** Keep a pre-started interpreter so Restart and a forced Stop are instant. */
  spareEnabled = true;
  /** Use this browser's memory snapshot of Pyodide (see worker.ts). */
  snapshotEnabled = true;
  private slot: Slot | null = null;
  private spare: Slot | null = null;
  private spareTimer: number | undefined;
  private spareHeld = false;
  private runtime: WorkerRuntime;
  private running: number | null = null;
  private queued: string | null = null;
  private nextId = 1;
  private stopTimer: number | undefined;
  private benchListener: ((e: BenchEvent) => void) | null = null;
  /** Format requests waiting for their answer, by id. */
  private formats = new Map<number, (r: { code: string | null; error: string | null }) => void>();

  constructor(
    private readonly workerURL: string,
    private readonly runtimes: Record<string, RuntimeInfo>,
    private readonly build: string,
    runtime: WorkerRuntime,
    private readonly on: RunnerEvents,
    /** A worker already started at page load (editor/boot.ts), adopted by the first start(). */
    private boot: Slot | null = null,
  ) {
    this.runtime = runtime;
  }

  get isReady(): boolean {
    return this.slot?.ready != null;
  }
  get isRunning(): boolean {
    return this.running !== null;
  }
  get hasQueuedRun(): boolean {
    return this.queued !== null;
  }
  get runtimeName(): WorkerRuntime {
    return this.runtime;
  }

  /**
   * Starts (or restarts) a fresh interpreter of the given runtime, taking
   * over the pre-started spare when there is one.
   */
  start(runtime: WorkerRuntime = this.runtime): void {
    clearTimeout(this.stopTimer);
    clearTimeout(this.spareTimer);
    this.slot?.dispose();
    this.slot = null;
    this.running = null;
    for (const answer of this.formats.values()) answer({ code: null, error: "the interpreter was restarted" });
    this.formats.clear();
    this.runtime = runtime;
    const boot = this.boot;
    this.boot = null;
    if (boot && boot.runtime === runtime && !boot.failed) {
      this.adopt(boot, false);
      return;
    }
    boot?.dispose();
    const spare = this.spare;
    this.spare = null;
    if (spare && spare.runtime === runtime && !spare.failed) {
      this.adopt(spare, true);
      return;
    }
    spare?.dispose();
    const info = this.runtimes[runtime];
    if (!info) {
      this.on.fatal(`runtime ${runtime} is not part of this build`);
      return;
    }
    const mode: SnapshotMode = this.snapshotEnabled ? "use" : "off";
    this.adopt(new Slot(runtime, this.workerURL, info, this.build, this.isolated, mode), false);
  }

  private adopt(slot: Slot, fromSpare: boolean): void {
    this.slot = slot;
    slot.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (this.slot === slot) this.handle(slot, e.data, fromSpare);
    };
    slot.worker.onerror = (e) => {
      if (this.slot !== slot) return;
      slot.failed = true;
      this.on.fatal(e.message || "the runtime worker failed to start");
    };
    if (slot.ready) this.becameReady(slot, fromSpare);
    else if (fromSpare) this.on.progress("init", 0, 0);
  }

  /**
   * While held (a benchmark is measuring), no spare boots and one still
   * booting is dropped, so that it does not compete for the CPU.
   */
  holdSpare(on: boolean): void {
    this.spareHeld = on;
    if (on) {
      clearTimeout(this.spareTimer);
      if (this.spare && !this.spare.ready) {
        this.spare.dispose();
        this.spare = null;
      }
    } else if (this.slot?.ready && !this.spare) {
      this.spareTimer = window.setTimeout(() => this.startSpare(), SPARE_DELAY_MS);
    }
  }

  private startSpare(): void {
    if (!this.spareEnabled || this.spareHeld || this.spare || !this.slot?.ready) return;
    const info = this.runtimes[this.runtime];
    if (!info) return;
    const mode: SnapshotMode = this.snapshotEnabled ? "save" : "off";
    this.spare = new Slot(this.runtime, this.workerURL, info, this.build, this.isolated, mode);
  }

  private becameReady(slot: Slot, fromSpare: boolean): void {
    const r = slot.ready!;
    this.on.ready({
      runtime: r.runtime,
      version: r.version,
      pythonVersion: r.pythonVersion,
      timings: r.timings,
      path: r.path,
      note: r.note,
      spare: fromSpare,
    });
    clearTimeout(this.spareTimer);
    // With no snapshot yet, the spare (which makes one) starts at once, so
    // that even a short first visit leaves a fast start behind.
    const noSnapshot = this.snapshotEnabled && r.runtime === "pyodide" && (r.path === "normal" || r.path === "repaired");
    this.spareTimer = window.setTimeout(() => this.startSpare(), noSnapshot ? 0 : SPARE_DELAY_MS);
    if (this.queued !== null) {
      const code = this.queued;
      this.queued = null;
      this.run(code);
    }
  }

  private handle(slot: Slot, msg: FromWorker, fromSpare: boolean): void {
    switch (msg.type) {
      case "progress":
        this.on.progress(msg.phase, msg.loaded, msg.total);
        break;
      case "ready":
        slot.ready = msg;
        this.becameReady(slot, fromSpare);
        break;
      case "out": {
        const shown = this.on.output(msg.chunks);
        if (shown) void shown.then(() => this.shown(slot));
        else this.shown(slot);
        break;
      }
      case "turtle": {
        const shown = this.on.turtle?.(msg.ops);
        if (shown) void shown.then(() => this.shown(slot));
        else this.shown(slot);
        break;
      }
      case "display": {
        const shown = this.on.display?.(msg.item);
        if (shown) void shown.then(() => this.shown(slot));
        else this.shown(slot);
        break;
      }
      case "input":
        this.on.input(msg.prompt);
        break;
      case "packages":
        this.on.packages?.(msg.text);
        break;
      case "bench":
        if (msg.id === this.running) this.benchListener?.(msg.event);
        break;
      case "formatted":
        this.formats.get(msg.id)?.({ code: msg.code, error: msg.error });
        this.formats.delete(msg.id);
        break;
      case "done":
        if (msg.id !== this.running) return;
        this.running = null;
        this.benchListener = null;
        clearTimeout(this.stopTimer);
        this.on.done({ status: msg.status, ms: msg.ms, restarted: false });
        break;
      case "fatal":
        slot.failed = true;
        this.queued = null;
        this.on.fatal(msg.message);
        break;
    }
  }

  /**
   * Runs code as a fresh __main__ module (worker.ts). While the runtime is still starting,
   * the run is queued and starts the moment it is ready. Returns false when
   * a program is already running.
   */
  run(code: string): boolean {
    const slot = this.slot;
    if (!slot || slot.failed || this.running !== null) return false;
    if (!slot.ready) {
      this.queued = code;
      return true;
    }
    const id = this.nextId++;
    this.running = id;
    if (slot.interrupt) Atomics.store(new Int32Array(slot.interrupt), 0, 0);
    slot.worker.postMessage({ type: "run", id, code } satisfies ToWorker);
    return true;
  }

  /**
   * Sends one benchmark step to the harness (bench/harness.ts): its events go to
   * onEvent, and it ends with done() like a run, so stop() stops it too.
   * Returns false when not ready or busy.
   */
  bench(request: BenchRequest, onEvent: (e: BenchEvent) => void): boolean {
    const slot = this.slot;
    if (!slot?.ready || slot.failed || this.running !== null) return false;
    const id = this.nextId++;
    this.running = id;
    this.benchListener = onEvent;
    if (slot.interrupt) Atomics.store(new Int32Array(slot.interrupt), 0, 0);
    slot.worker.postMessage({ type: "bench", id, request } satisfies ToWorker);
    return true;
  }

  /** Tells the worker one more output batch is on screen. */
  private shown(slot: Slot): void {
    if (!slot.control) return;
    const ctl = new Int32Array(slot.control, 0, CTL_HEADER_BYTES / 4);
    Atomics.add(ctl, CTL_OUT_SHOWN, 1);
    Atomics.notify(ctl, CTL_OUT_SHOWN);
  }

  /**
   * Formats code in the interpreter (editor/format-worker.ts); null when
   * it cannot now (not started, or a program is running: the worker would
   * answer only after it).
   */
  format(code: string): Promise<{ code: string | null; error: string | null }> | null {
    const slot = this.slot;
    if (!slot?.ready || slot.failed || this.running !== null) return null;
    const id = this.nextId++;
    slot.worker.postMessage({ type: "format", id, code } satisfies ToWorker);
    return new Promise((resolve) => this.formats.set(id, resolve));
  }

  /** Answers a pending input() with one line. */
  answer(line: string): void {
    const control = this.slot?.control;
    if (!control) return;
    const bytes = new TextEncoder().encode(line).slice(0, CTL_INPUT_CAPACITY);
    new Uint8Array(control).set(bytes, CTL_HEADER_BYTES);
    const ctl = new Int32Array(control, 0, CTL_HEADER_BYTES / 4);
    Atomics.store(ctl, CTL_INPUT_LEN, bytes.length);
    Atomics.store(ctl, CTL_INPUT, INPUT_ANSWERED);
    Atomics.notify(ctl, CTL_INPUT);
  }

  /**
   * Stops the running program: raises KeyboardInterrupt through the
   * interrupt buffer (Pyodide), and if the program has not finished after a
   * grace period, or the runtime cannot be interrupted (MicroPython, or no
   * shared memory), terminates the worker and switches to a fresh one.
   */
  stop(): void {
    this.queued = null;
    const slot = this.slot;
    if (this.running === null || !slot) return;
    const canInterrupt = this.runtime === "pyodide" && slot.interrupt !== null && slot.control !== null;
    if (canInterrupt) {
      Atomics.store(new Int32Array(slot.interrupt!), 0, SIGINT);
      const ctl = new Int32Array(slot.control!, 0, CTL_HEADER_BYTES / 4);
      if (Atomics.load(ctl, CTL_INPUT) !== 0) {
        Atomics.store(ctl, CTL_INPUT, INPUT_CANCELLED);
        Atomics.notify(ctl, CTL_INPUT);
      }
      Atomics.add(ctl, CTL_WAKE, 1);
      Atomics.notify(ctl, CTL_WAKE);
      // A program waiting for the page to show its output stops waiting.
      Atomics.notify(ctl, CTL_OUT_SHOWN);
      // A program awaiting at top level runs no Python to see the interrupt.
      slot.worker.postMessage({ type: "stop" } satisfies ToWorker);
    }
    clearTimeout(this.stopTimer);
    this.stopTimer = window.setTimeout(() => this.forceStop(), canInterrupt ? STOP_GRACE_MS : 0);
  }

  private forceStop(): void {
    if (this.running === null) return;
    this.running = null;
    this.benchListener = null;
    this.on.done({ status: "interrupted", ms: 0, restarted: true });
    this.start(this.runtime);
  }

  /** Stops every worker (page unload, tests). */
  dispose(): void {
    clearTimeout(this.stopTimer);
    clearTimeout(this.spareTimer);
    this.slot?.dispose();
    this.spare?.dispose();
    this.slot = this.spare = null;
    this.running = null;
  }
}
