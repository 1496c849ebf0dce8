// The reference suite's compiled kernels (runtimes go-wasm and rust-wasm)
// as a runtime of the benchmark worker (runtime/worker.ts): instead of a
// Python interpreter the worker loads the kernels (runtime/wasmkernels.ts)
// and the harness (harness.ts) times kernels.run(id, n) by its usual rules.
// Such a worker only benchmarks: it runs no Python programs.

import type { RuntimeInfo, WorkerRuntime } from "../runtime/messages";
import { loadKernels, type WasmKernels, type WasmRuntime } from "../runtime/wasmkernels";

export type { WasmKernels };

/** The runtimes whose "interpreter" is a set of compiled kernels. */
export function isKernelRuntime(rt: WorkerRuntime | string): rt is WasmRuntime {
  return rt === "go-wasm" || rt === "rust-wasm";
}

/** A worker runtime made of kernels: what worker.ts's Runtime needs. */
export interface KernelRuntime {
  version: string;
  pythonVersion: string;
  path: "normal";
  kernels: WasmKernels;
  run(): "error";
  runPython(): never;
  global(): never;
}

const NOT_PYTHON = "this worker runs the reference suite's compiled kernels, not Python";

/**
 * Loads the kernels of runtime from info.base (the URL of static/dist/wasm/,
 * "/wasm/"); the version is the compiler's (the manifest's).
 */
export async function loadKernelRuntime(runtime: WasmRuntime, info: RuntimeInfo): Promise<KernelRuntime> {
  const kernels = await loadKernels(runtime, new URL(info.base, location.href).href);
  return {
    version: kernels.version || info.version,
    pythonVersion: "",
    path: "normal",
    kernels,
    run: () => "error",
    runPython: () => {
      throw new Error(NOT_PYTHON);
    },
    global: () => {
      throw new Error(NOT_PYTHON);
    },
  };
}
