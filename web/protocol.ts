// Messages between the page (runner.ts) and the runtime worker (worker.ts),
// and the layout of the shared control buffer they both use.

export type RuntimeName = "pyodide" | "micropython";

export interface RuntimeInfo {
  version: string;
  base: string; // URL path ending in "/"
  files: Record<string, number>; // file name → size in bytes
}

/** Page → worker. */
export type ToWorker =
  | {
      type: "init";
      runtime: RuntimeName;
      info: RuntimeInfo;
      build: string;
      control: SharedArrayBuffer | null;
      interrupt: SharedArrayBuffer | null;
      /**
       * Memory snapshot of the pristine interpreter (Pyodide): "save" uses
       * one and saves one when missing, "use" only uses one (spare
       * interpreters, so that two workers never write at once), "off" neither.
       */
      snapshot: SnapshotMode;
    }
  | { type: "run"; id: number; code: string };

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

/** Worker → page. */
export type FromWorker =
  | { type: "progress"; phase: "download" | "init"; loaded: number; total: number }
  | {
      type: "ready";
      runtime: RuntimeName;
      version: string;
      pythonVersion: string;
      timings: StartupTimings;
      path: StartPath;
      note?: string; // why the fast path was not used, when it was not
    }
  | { type: "out"; chunks: [Stream, string][] }
  | { type: "input"; prompt: string }
  | { type: "done"; id: number; status: RunStatus; ms: number }
  | { type: "fatal"; message: string };

// Control buffer layout (Int32 slots over a SharedArrayBuffer). The worker
// blocks in Atomics.wait on these slots; the page stores and notifies.
export const CTL_INPUT = 0; // input state: INPUT_IDLE / INPUT_WAITING / INPUT_ANSWERED / INPUT_CANCELLED
export const CTL_INPUT_LEN = 1; // byte length of the answer
export const CTL_WAKE = 2; // bumped by the page to cut a sleep() short on Stop
export const CTL_HEADER_BYTES = 16;
export const CTL_INPUT_CAPACITY = 64 * 1024;
export const CTL_BYTES = CTL_HEADER_BYTES + CTL_INPUT_CAPACITY;

export const INPUT_IDLE = 0;
export const INPUT_WAITING = 1;
export const INPUT_ANSWERED = 2;
export const INPUT_CANCELLED = 3;

/** Value written to the interrupt buffer to raise KeyboardInterrupt (SIGINT). */
export const SIGINT = 2;

/** Cache Storage name for this browser's Pyodide memory snapshots. */
export const SNAPSHOT_CACHE = "pyplay-snapshots";
