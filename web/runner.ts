// Runner owns the runtime worker: starts it, runs programs, stops them
// (interrupt first, terminate and replace if that fails), answers input()
// and restarts. The page talks only to this class.

import {
  CTL_BYTES,
  CTL_HEADER_BYTES,
  CTL_INPUT,
  CTL_INPUT_CAPACITY,
  CTL_INPUT_LEN,
  CTL_WAKE,
  INPUT_ANSWERED,
  INPUT_CANCELLED,
  SIGINT,
  type FromWorker,
  type RunStatus,
  type RuntimeInfo,
  type RuntimeName,
  type StartupTimings,
  type Stream,
  type ToWorker,
} from "./protocol";

/** How long Stop waits for KeyboardInterrupt before replacing the worker. */
export const STOP_GRACE_MS = 1000;

export interface RunnerEvents {
  progress(phase: "download" | "init", loaded: number, total: number): void;
  ready(info: { runtime: RuntimeName; version: string; pythonVersion: string; timings: StartupTimings }): void;
  output(chunks: [Stream, string][]): void;
  input(prompt: string): void;
  done(result: { status: RunStatus; ms: number; restarted: boolean }): void;
  fatal(message: string): void;
}

export class Runner {
  readonly isolated = globalThis.crossOriginIsolated === true;
  private worker: Worker | null = null;
  private control: SharedArrayBuffer | null = null;
  private interrupt: SharedArrayBuffer | null = null;
  private runtime: RuntimeName;
  private ready = false;
  private running: number | null = null;
  private nextId = 1;
  private stopTimer: number | undefined;

  constructor(
    private readonly workerURL: string,
    private readonly runtimes: Record<string, RuntimeInfo>,
    private readonly build: string,
    runtime: RuntimeName,
    private readonly on: RunnerEvents,
  ) {
    this.runtime = runtime;
  }

  get isReady(): boolean {
    return this.ready;
  }
  get isRunning(): boolean {
    return this.running !== null;
  }
  get runtimeName(): RuntimeName {
    return this.runtime;
  }

  /** Starts (or restarts) a fresh interpreter of the given runtime. */
  start(runtime: RuntimeName = this.runtime): void {
    this.dispose();
    this.runtime = runtime;
    const info = this.runtimes[runtime];
    if (!info) {
      this.on.fatal(`runtime ${runtime} is not part of this build`);
      return;
    }
    if (this.isolated) {
      this.control = new SharedArrayBuffer(CTL_BYTES);
      this.interrupt = new SharedArrayBuffer(4);
    }
    const w = new Worker(this.workerURL, { type: "module", name: `pyplay-${runtime}` });
    this.worker = w;
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      if (this.worker === w) this.handle(e.data);
    };
    w.onerror = (e) => {
      if (this.worker === w) this.on.fatal(e.message || "the runtime worker failed to start");
    };
    const init: ToWorker = {
      type: "init",
      runtime,
      info,
      build: this.build,
      control: this.control,
      interrupt: this.interrupt,
    };
    w.postMessage(init);
  }

  private handle(msg: FromWorker): void {
    switch (msg.type) {
      case "progress":
        this.on.progress(msg.phase, msg.loaded, msg.total);
        break;
      case "ready":
        this.ready = true;
        this.on.ready(msg);
        break;
      case "out":
        this.on.output(msg.chunks);
        break;
      case "input":
        this.on.input(msg.prompt);
        break;
      case "done":
        if (msg.id !== this.running) return;
        this.running = null;
        clearTimeout(this.stopTimer);
        this.on.done({ status: msg.status, ms: msg.ms, restarted: false });
        break;
      case "fatal":
        this.ready = false;
        this.on.fatal(msg.message);
        break;
    }
  }

  /** Runs code in a fresh namespace; returns false if not ready or busy. */
  run(code: string): boolean {
    if (!this.worker || !this.ready || this.running !== null) return false;
    const id = this.nextId++;
    this.running = id;
    if (this.interrupt) Atomics.store(new Int32Array(this.interrupt), 0, 0);
    this.worker.postMessage({ type: "run", id, code } satisfies ToWorker);
    return true;
  }

  /** Answers a pending input() with one line. */
  answer(line: string): void {
    if (!this.control) return;
    const bytes = new TextEncoder().encode(line).slice(0, CTL_INPUT_CAPACITY);
    new Uint8Array(this.control).set(bytes, CTL_HEADER_BYTES);
    const ctl = new Int32Array(this.control, 0, CTL_HEADER_BYTES / 4);
    Atomics.store(ctl, CTL_INPUT_LEN, bytes.length);
    Atomics.store(ctl, CTL_INPUT, INPUT_ANSWERED);
    Atomics.notify(ctl, CTL_INPUT);
  }

  /**
   * Stops the running program: raises KeyboardInterrupt through the
   * interrupt buffer (Pyodide), and if the program has not finished after a
   * grace period, or the runtime cannot be interrupted (MicroPython, or no
   * shared memory), terminates the worker and starts a fresh one.
   */
  stop(): void {
    if (this.running === null) return;
    const canInterrupt = this.runtime === "pyodide" && this.interrupt !== null && this.control !== null;
    if (canInterrupt) {
      Atomics.store(new Int32Array(this.interrupt!), 0, SIGINT);
      const ctl = new Int32Array(this.control!, 0, CTL_HEADER_BYTES / 4);
      if (Atomics.load(ctl, CTL_INPUT) !== 0) {
        Atomics.store(ctl, CTL_INPUT, INPUT_CANCELLED);
        Atomics.notify(ctl, CTL_INPUT);
      }
      Atomics.add(ctl, CTL_WAKE, 1);
      Atomics.notify(ctl, CTL_WAKE);
    }
    clearTimeout(this.stopTimer);
    this.stopTimer = window.setTimeout(() => this.forceStop(), canInterrupt ? STOP_GRACE_MS : 0);
  }

  private forceStop(): void {
    if (this.running === null) return;
    this.running = null;
    this.start(this.runtime);
    this.on.done({ status: "interrupted", ms: 0, restarted: true });
  }

  private dispose(): void {
    clearTimeout(this.stopTimer);
    this.worker?.terminate();
    this.worker = null;
    this.ready = false;
    this.running = null;
  }
}
