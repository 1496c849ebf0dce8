// The reference suite's compiled kernels (issue 15): the Go and Rust
// versions of each workload, compiled to WebAssembly by `pyplay build` into
// static/dist/wasm/ (served at /wasm/). Usable in a Web Worker (module or
// classic) and in Node 20:
//
//   const k = await loadKernels("go-wasm", "/wasm/");
//   k.run("nbody", 2000); // "-0.169075164 -0.169071607", like workloads.json's check
//
// go-wasm is a GOOS=js GOARCH=wasm program run with the Go toolchain's own
// wasm_exec.js, loaded here with import() unless globalThis.Go already
// exists. That script defines stand-ins for globalThis.fs and
// globalThis.process when they are missing (as in a browser); neither has
// `versions`, so nothing mistakes the worker for Node. rust-wasm is a plain
// cdylib without imports: one export per workload, returning the length of
// the checksum it wrote at out_ptr().

export type WasmRuntime = "go-wasm" | "rust-wasm";

export interface WasmKernels {
  runtime: WasmRuntime;
  /** The compiler's version, e.g. "go1.26.8" or "rustc 1.63.0". */
  version: string;
  /** Runs workload id at size n; returns its checksum, formatted like the workload's check. */
  run(id: string, n: number): string;
}

/** One entry of static/dist/wasm/manifest.json. */
export interface WasmManifestEntry {
  version?: string;
  file?: string;
  /** Why this runtime was not built (e.g. rustc is not installed). */
  missing?: string;
}

export type WasmManifest = Partial<Record<WasmRuntime, WasmManifestEntry>>;

/** Thrown by loadKernels when the build left a runtime out. */
export class KernelsMissingError extends Error {
  constructor(
    readonly runtime: WasmRuntime,
    readonly reason: string,
  ) {
    super(`${runtime} kernels are not available: ${reason}`);
    this.name = "KernelsMissingError";
  }
}

/** The Go runner class that wasm_exec.js puts on globalThis. */
interface GoRunner {
  argv: string[];
  importObject: WebAssembly.Imports;
  run(instance: WebAssembly.Instance): Promise<void>;
}
type GoClass = new () => GoRunner;

function resolve(base: string, file: string): string {
  const loc = (globalThis as { location?: { href: string } }).location;
  const abs = loc ? new URL(base, loc.href) : new URL(base);
  if (!abs.pathname.endsWith("/")) abs.pathname += "/";
  return new URL(file, abs).href;
}

async function fetchOK(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

/** Reads base's manifest.json (which runtimes the build made, and their versions). */
export async function loadManifest(base: string): Promise<WasmManifest> {
  return (await (await fetchOK(resolve(base, "manifest.json"))).json()) as WasmManifest;
}

async function instantiate(url: string, imports: WebAssembly.Imports): Promise<WebAssembly.Instance> {
  const res = await fetchOK(url);
  if (res.headers.get("content-type")?.split(";")[0].trim() === "application/wasm") {
    return (await WebAssembly.instantiateStreaming(res, imports)).instance;
  }
  return (await WebAssembly.instantiate(await res.arrayBuffer(), imports)).instance;
}

function checkArgs(runtime: WasmRuntime, id: string, n: number): void {
  if (typeof id !== "string") throw new TypeError(`${runtime}: workload id must be a string`);
  if (!Number.isInteger(n) || n < 0 || n > 1 << 24) {
    throw new RangeError(`${runtime}: size ${n} must be an integer from 0 to ${1 << 24}`);
  }
}

let goInstances = 0;

async function loadGo(base: string, entry: WasmManifestEntry): Promise<WasmKernels> {
  const g = globalThis as unknown as Record<string, unknown>;
  if (typeof g.Go !== "function") {
    await import(resolve(base, "wasm_exec.js"));
    if (typeof g.Go !== "function") throw new Error("go-wasm: wasm_exec.js did not define globalThis.Go");
  }
  const go = new (g.Go as GoClass)();
  // Each instance publishes its run function under its own global name,
  // which is taken and deleted at once.
  const name = `__pyplayGoKernels${++goInstances}`;
  go.argv = ["go-kernels", name];
  const instance = await instantiate(resolve(base, entry.file!), go.importObject);
  let exited: unknown = null;
  go.run(instance).then(
    () => (exited = new Error("go-wasm: the Go program exited")),
    (e: unknown) => (exited = e),
  );
  // go.run runs main until it blocks, so the function is there now.
  const fn = g[name] as ((id: string, n: number) => unknown) | undefined;
  delete g[name];
  if (typeof fn !== "function") throw new Error("go-wasm: the Go program did not register its kernels");
  return {
    runtime: "go-wasm",
    version: entry.version ?? "",
    run(id: string, n: number): string {
      checkArgs("go-wasm", id, n);
      if (exited) throw exited instanceof Error ? exited : new Error(String(exited));
      const out = fn(id, n);
      if (out instanceof Error) throw new Error(`go-wasm: ${out.message}`);
      if (typeof out !== "string") throw new Error(`go-wasm: ${id} returned ${typeof out}`);
      return out;
    },
  };
}

interface RustExports {
  memory: WebAssembly.Memory;
  out_ptr(): number;
  [id: string]: unknown;
}

async function loadRust(base: string, entry: WasmManifestEntry): Promise<WasmKernels> {
  const instance = await instantiate(resolve(base, entry.file!), {});
  const ex = instance.exports as unknown as RustExports;
  const decoder = new TextDecoder();
  return {
    runtime: "rust-wasm",
    version: entry.version ?? "",
    run(id: string, n: number): string {
      checkArgs("rust-wasm", id, n);
      const fn = ex[id];
      if (id === "out_ptr" || id === "memory" || typeof fn !== "function") {
        throw new Error(`rust-wasm: no workload ${JSON.stringify(id)}`);
      }
      const len = (fn as (n: number) => number)(n);
      // Copied: a later call overwrites the buffer and the memory may grow.
      return decoder.decode(new Uint8Array(ex.memory.buffer, ex.out_ptr(), len).slice());
    },
  };
}

/**
 * Loads one runtime's kernels from base, the URL of static/dist/wasm/
 * ("/wasm/" on the server; relative URLs resolve against the worker's
 * location). Throws KernelsMissingError when the build left it out.
 */
export async function loadKernels(runtime: WasmRuntime, base: string): Promise<WasmKernels> {
  if (runtime !== "go-wasm" && runtime !== "rust-wasm") throw new Error(`unknown WebAssembly runtime ${JSON.stringify(runtime)}`);
  const entry = (await loadManifest(base))[runtime];
  if (!entry) throw new KernelsMissingError(runtime, "not in this build's manifest");
  if (entry.missing || !entry.file) throw new KernelsMissingError(runtime, entry.missing ?? "no file");
  return runtime === "go-wasm" ? loadGo(base, entry) : loadRust(base, entry);
}
