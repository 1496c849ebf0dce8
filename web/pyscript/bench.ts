// The benchmark harness inside PyScript's worker, on the preview origin.
// The preview (preview.ts) imports this bundle from its onAfterRunAsync
// worker hook once the page's code has run, and hands it the page's own
// interpreter: the harness (bench/harness.ts, the same rules as the console's)
// then waits for steps from the playground and runs them. Calls to the frame
// are synchronous calls through PyScript's `sync` channel, which return at
// once. The next step does not come that way: while a sync call waits,
// coincident spins the worker's core (Atomics.pause in a loop), and waiting
// for a step means waiting while every other runtime takes its samples, so a
// spinning page would slow them (by about 20 % on two cores: measured with
// /bench/suite). The step comes through a shared buffer of our own instead,
// on which the worker truly sleeps (Atomics.wait) until the frame stores it.

import { handleBench, type BenchHost } from "../bench/harness";
import type { BenchEvent, BenchRequest, RunStatus, RuntimeName } from "../runtime/messages";
import { STEP_HEADER, STEP_MAX } from "./messages";

/** What the preview tells the harness about the page's interpreter. */
export interface PyScriptBenchSetup {
  interpreter: RuntimeName;
  version: string; // the interpreter's version
  base: string; // URL path of its files, ending in "/"
  /** When the page's code started, on the worker's clock (the onBeforeRunAsync hook). */
  runStart: number;
}

/** The frame's functions, as PyScript's worker sees them. */
interface FrameSync {
  /** Hands the frame the shared buffer the steps come through. */
  pyplay_bench_channel(sab: SharedArrayBuffer): void;
  /** The last step's status (null before the first); the frame then stores the next step (JSON null to end). */
  pyplay_bench_status(status: RunStatus | null, ready?: { pageRunMs: number; pythonVersion: string }): void;
  pyplay_bench_event(event: BenchEvent): void;
  /** Puts the page body back as it was before the code's first run. */
  pyplay_bench_reset(): void;
}

interface Interpreter {
  runPython(code: string): unknown;
  globals: { get(name: string): unknown };
}

/** Runs the harness until the playground ends the benchmark (or unloads the frame). */
export function runBench(wrap: { interpreter: Interpreter }, xworker: { sync: FrameSync }, setup: PyScriptBenchSetup): void {
  const pageRunMs = performance.now() - setup.runStart;
  const py = wrap.interpreter;
  py.runPython(
    setup.interpreter === "micropython"
      ? "import sys\n_pyplay_version = '.'.join(str(p) for p in sys.implementation.version[:3])"
      : "import sys\n_pyplay_version = sys.version.split()[0]",
  );
  const pythonVersion = String(py.globals.get("_pyplay_version"));
  const g = globalThis as { pyplayMuted?: boolean };
  const sync = xworker.sync;
  const host: BenchHost = {
    runtime: setup.interpreter,
    pythonVersion,
    startPath: "pyscript",
    info: { version: setup.version, base: setup.base, files: {} },
    readyAt: performance.now(),
    runPython: (code) => py.runPython(code),
    global: (name) => py.globals.get(name),
    // The preview's output ring drops what the program writes meanwhile.
    mute: (on) => {
      g.pyplayMuted = on;
    },
    // Stop unloads the frame, which ends this worker mid-step.
    interrupted: () => false,
    clearInterrupt: () => {},
    send: (event) => sync.pyplay_bench_event(event),
    beforeIteration: () => sync.pyplay_bench_reset(),
  };
  const sab = new SharedArrayBuffer(STEP_HEADER + STEP_MAX);
  const ctl = new Int32Array(sab, 0, 2);
  const data = new Uint8Array(sab, STEP_HEADER);
  const decoder = new TextDecoder();
  sync.pyplay_bench_channel(sab);
  const next = (status: RunStatus | null, ready?: { pageRunMs: number; pythonVersion: string }): BenchRequest | null => {
    sync.pyplay_bench_status(status, ready);
    while (Atomics.load(ctl, 0) === 0) Atomics.wait(ctl, 0, 0);
    const request = JSON.parse(decoder.decode(data.slice(0, Atomics.load(ctl, 1)))) as BenchRequest | null;
    Atomics.store(ctl, 0, 0);
    return request;
  };
  let request = next(null, { pageRunMs, pythonVersion });
  while (request) {
    const status = handleBench(request, host);
    request = next(status);
  }
}
