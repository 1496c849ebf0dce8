// The benchmark harness, inside the runtime worker (runtime/worker.ts hands it the
// page's "bench" requests). It times the user's code the way pyperf does:
// measure the timer first, compile once, warm up until WebAssembly has tiered
// up, then take samples that each loop the code often enough to last far
// longer than the timer's resolution. Every timing is taken here, in JS,
// around a loop that runs in Python, so the clock is the same for every
// runtime. Each iteration gets a fresh namespace and its output is dropped.
// An A/B benchmark (ab.ts) loads several programs ("arms") into one
// interpreter: each is compiled, warmed up, calibrated and sampled on its own.
//
// The reference suite's compiled kernels (go-wasm, rust-wasm) are timed by
// the same rules: only what one iteration is differs (kernelLoop), and a
// kernel's result must equal the workload's check before any sample counts.
//
// It also records how the runtime started (fetch, compile/instantiate,
// interpreter init, first run) from Resource Timing entries and probes on
// WebAssembly's compile functions, installed when this module loads, before
// any runtime does.

import type {
  BenchEnv,
  BenchEvent,
  BenchOptions,
  BenchRequest,
  BenchSample,
  KernelSpec,
  RunStatus,
  RuntimeInfo,
  StartupPhases,
  WorkerRuntime,
} from "../runtime/messages";
import type { WasmKernels } from "../runtime/wasmkernels";

/** What the worker gives the harness: its interpreter and a few controls. */
export interface BenchHost {
  runtime: WorkerRuntime;
  pythonVersion: string;
  startPath: string;
  info: RuntimeInfo;
  /** When the interpreter became ready, on this worker's clock (ms). */
  readyAt: number;
  /** Loading the packages the program imports, before "prepare" (-packages). */
  packages?: { start: number; ms: number };
  runPython(code: string): unknown;
  global(name: string): unknown;
  /** Drops program output while on (what Python-level redirection misses). */
  mute(on: boolean): void;
  /** Stop was pressed (interrupt buffer); false without shared memory. */
  interrupted(): boolean;
  clearInterrupt(): void;
  send(event: BenchEvent): void;
  /**
   * Called before every iteration, untimed: PyScript pages reset their page
   * body so that code touching the DOM finds the same page each time. With
   * it, iterations are timed one by one (a call into Python each) and a
   * sample's time is the sum of its iterations', without the resets.
   */
  beforeIteration?: () => void;
  /**
   * go-wasm, rust-wasm: the compiled kernels. A step then names one
   * (request.kernel) instead of Python code, and an iteration is one
   * kernels.run(id, n); everything else is as for Python.
   */
  kernels?: WasmKernels;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  warmupMs: 1000,
  minWarmup: 5,
  maxWarmupMs: 10000,
  minSampleMs: 5,
};

/** A sample lasts at least this many timer ticks: quantisation stays under 1%. */
export const TICKS_PER_SAMPLE = 100;

// ---- start-up probes --------------------------------------------------------

const wasmSpans: { start: number; end: number }[] = [];

function probe(name: "compile" | "compileStreaming" | "instantiate" | "instantiateStreaming"): void {
  const wasm = WebAssembly as unknown as Record<string, unknown>;
  const original = wasm[name];
  if (typeof original !== "function") return;
  wasm[name] = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const span = { start: performance.now(), end: NaN };
    wasmSpans.push(span);
    const p = (original as (...a: unknown[]) => Promise<unknown>).apply(WebAssembly, args);
    const done = () => {
      span.end = performance.now();
    };
    p.then(done, done);
    return p;
  };
}

for (const name of ["compile", "compileStreaming", "instantiate", "instantiateStreaming"] as const) probe(name);

/** Start-up phases from the worker's Resource Timing entries and probes. */
export function startupPhases(host: BenchHost, firstRun: { start: number; ms: number }): StartupPhases {
  const files = performance
    .getEntriesByType("resource")
    .filter((e) => e.name.includes(host.info.base)) as PerformanceResourceTiming[];
  const fetchStart = files.length ? Math.min(...files.map((e) => e.startTime)) : 0;
  const fetchEnd = files.length ? Math.max(...files.map((e) => e.responseEnd)) : 0;
  const spans = wasmSpans.filter((s) => s.end <= host.readyAt);
  const compileStart = spans.length ? Math.min(...spans.map((s) => s.start)) : fetchEnd;
  const compileEnd = spans.length ? Math.max(...spans.map((s) => s.end)) : fetchEnd;
  const initStart = Math.max(compileEnd, fetchEnd);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    fetch: round(fetchEnd - fetchStart),
    compile: round(compileEnd - compileStart),
    init: round(host.readyAt - initStart),
    firstRun: round(firstRun.ms),
    total: round(host.readyAt),
    start: {
      fetch: round(fetchStart),
      compile: round(compileStart),
      init: round(initStart),
      firstRun: round(firstRun.start),
      ...(host.packages ? { packages: round(host.packages.start) } : {}),
    },
    fetchBytes: files.reduce((n, e) => n + (e.transferSize || 0), 0),
    path: host.startPath,
    ...(host.packages ? { packages: round(host.packages.ms) } : {}),
  };
}

// ---- timer and environment ---------------------------------------------------

/**
 * The timer's resolution in ns: the median step between distinct readings
 * of performance.now(). Browsers coarsen it (5 µs when cross-origin isolated,
 * 100 µs otherwise) and add jitter, so single steps vary; the median does not.
 */
export function timerResolutionNs(): number {
  const steps: number[] = [];
  let last = performance.now();
  const deadline = last + 50;
  while (steps.length < 201) {
    const t = performance.now();
    if (t !== last) {
      steps.push(t - last);
      last = t;
    }
    if (t > deadline) break;
  }
  if (steps.length === 0) return 1e6;
  steps.sort((a, b) => a - b);
  return Math.max(1, Math.round(steps[steps.length >> 1] * 1e6));
}

interface UAData {
  brands?: { brand: string; version: string }[];
  platform?: string;
}

/** Browser name and version from the user agent (Client Hints when present). */
export function browserOf(ua: string, data?: UAData): { name: string; version: string } {
  const patterns: [RegExp, string][] = [
    [/Edg\/([\d.]+)/, "Edge"],
    [/OPR\/([\d.]+)/, "Opera"],
    [/Firefox\/([\d.]+)/, "Firefox"],
    [/HeadlessChrome\/([\d.]+)/, "Chrome Headless"],
    [/(?:Chrome|Chromium|CriOS)\/([\d.]+)/, "Chrome"],
    [/Version\/([\d.]+).*Safari/, "Safari"],
  ];
  for (const [re, name] of patterns) {
    const m = re.exec(ua);
    if (m) return { name, version: m[1] };
  }
  const brand = data?.brands?.find((b) => !/Not.?A.?Brand|Chromium/i.test(b.brand));
  if (brand) return { name: brand.brand, version: brand.version };
  return { name: "unknown", version: "" };
}

function environment(host: BenchHost, timerNs: number): BenchEnv {
  const nav = navigator as Navigator & { userAgentData?: UAData; deviceMemory?: number };
  const browser = browserOf(nav.userAgent, nav.userAgentData);
  const env: BenchEnv = {
    userAgent: nav.userAgent.slice(0, 400),
    browser: browser.name,
    browserVersion: browser.version,
    platform: (nav.platform || nav.userAgentData?.platform || "unknown").slice(0, 100),
    cores: nav.hardwareConcurrency || 0,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    timerResolutionNs: timerNs,
    pythonVersion: host.pythonVersion,
    hidden: false, // the page knows; it fills this in
  };
  if (typeof nav.deviceMemory === "number") env.deviceMemory = nav.deviceMemory;
  return env;
}

// ---- Python drivers ---------------------------------------------------------------
// _pyplay_bench_loop(n) runs the compiled code n times, each in a fresh
// namespace, with stdout dropped and input() refused, and returns None, or
// the traceback text, or "KeyboardInterrupt".

const NO_INPUT = "input() is not available while benchmarking: the benchmark runs the program many times";

const PYODIDE_BENCH = `
import builtins, linecache, sys, traceback

class _PyplayNull:
    def write(self, s):
        return len(s)
    def flush(self):
        pass
    def isatty(self):
        return False

_pyplay_null = _PyplayNull()
_pyplay_bench_codes = {}
_pyplay_bench_pads = []

def _pyplay_bench_pad(nbytes, nobjs):
    _pyplay_bench_pads.append((bytearray(nbytes), [[] for _ in range(nobjs)]))

def _pyplay_no_input(prompt=""):
    raise RuntimeError(${JSON.stringify(NO_INPUT)})

def _pyplay_bench_file(arm):
    return "main.py" if not arm else "main_" + arm + ".py"

def _pyplay_bench_compile(code, arm=""):
    name = _pyplay_bench_file(arm)
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    try:
        _pyplay_bench_codes[arm] = compile(code, name, "exec")
    except BaseException as e:
        return "".join(traceback.format_exception_only(e))

def _pyplay_bench_loop(n, arm=""):
    code = _pyplay_bench_codes[arm]
    name = _pyplay_bench_file(arm)
    out = sys.stdout
    sys.stdout = _pyplay_null
    try:
        for _ in range(n):
            try:
                exec(code, {"__name__": "__main__", "__builtins__": builtins, "__file__": name, "input": _pyplay_no_input})
            except SystemExit as e:
                if e.code is not None and e.code != 0:
                    raise
    except KeyboardInterrupt:
        return "KeyboardInterrupt"
    except BaseException as e:
        if "_pyplay_clean" in globals():
            _pyplay_clean(e)
        return "".join(traceback.format_exception(e))
    finally:
        sys.stdout = out
`;

// MicroPython cannot replace sys.stdout: print is replaced in the namespace
// (still formatting its arguments, as the real one would) and the worker
// drops whatever else reaches the output.
const MICROPYTHON_BENCH = `
import sys, io

def _pyplay_bench_print(*args, sep=" ", end="\\n", file=None, flush=False):
    sep.join([str(a) for a in args])

def _pyplay_no_input(prompt=""):
    raise RuntimeError(${JSON.stringify(NO_INPUT)})

_pyplay_bench_codes = {}
_pyplay_bench_pads = []

def _pyplay_bench_pad(nbytes, nobjs):
    _pyplay_bench_pads.append((bytearray(nbytes), [[] for _ in range(nobjs)]))

def _pyplay_bench_compile(code, arm=""):
    try:
        _pyplay_bench_codes[arm] = compile(code, "main.py" if not arm else "main_" + arm + ".py", "exec")
    except BaseException as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        return buf.getvalue()

def _pyplay_bench_loop(n, arm=""):
    code = _pyplay_bench_codes[arm]
    try:
        for _ in range(n):
            try:
                exec(code, {"__name__": "__main__", "print": _pyplay_bench_print, "input": _pyplay_no_input})
            except SystemExit as e:
                c = e.args[0] if e.args else None
                if c is not None and c != 0:
                    raise
    except KeyboardInterrupt:
        return "KeyboardInterrupt"
    except BaseException as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        return "\\n".join(l for l in buf.getvalue().split("\\n") if not l.startswith('  File "<stdin>"'))
`;

// ---- the benchmark -----------------------------------------------------------------

class Interrupted extends Error {}
class ProgramError extends Error {}

interface Prepared {
  loop: (n: number) => string | undefined | null;
  seq: number;
  iters: number;
}

let installed = false;
/**
 * Each arm's compiled code and iteration count, by arm ("" for a plain
 * benchmark): an A/B benchmark loads every arm into one interpreter, warms
 * each up and calibrates it on its own, then samples them in turns.
 */
const prepared = new Map<string, Prepared>();

/**
 * The loop of a compiled kernel: n calls of kernels.run(id, n). The last
 * result is checked (a string compare, next to a kernel's milliseconds), so
 * that a kernel that goes wrong midway fails the run too.
 */
function kernelLoop(kernels: WasmKernels, spec: KernelSpec): (n: number) => string | undefined {
  return (n) => {
    let out = "";
    for (let i = 0; i < n; i++) out = kernels.run(spec.id, spec.n);
    return checkKernel(kernels, spec, out);
  };
}

/** undefined when out is the workload's check, else the error to fail with. */
export function checkKernel(kernels: { runtime: string }, spec: KernelSpec, out: unknown): string | undefined {
  if (out === spec.check) return undefined;
  return `${kernels.runtime} kernel ${spec.id}(${spec.n}) returned ${JSON.stringify(String(out)).slice(0, 200)}, expected ${JSON.stringify(spec.check)}: its result is wrong, so its timing does not count`;
}

function install(host: BenchHost): void {
  if (installed) return;
  host.runPython(host.runtime === "micropython" ? MICROPYTHON_BENCH : PYODIDE_BENCH);
  installed = true;
}

/** Runs the loop n times and returns the elapsed ms. */
function timeLoop(host: BenchHost, p: Prepared, n: number): number {
  host.mute(true);
  let result: string | undefined | null;
  let ms = 0;
  try {
    if (host.beforeIteration) {
      for (let i = 0; i < n && !result; i++) {
        host.beforeIteration();
        const t0 = performance.now();
        result = p.loop(1);
        ms += performance.now() - t0;
      }
    } else {
      const t0 = performance.now();
      result = p.loop(n);
      ms = performance.now() - t0;
    }
  } finally {
    host.mute(false);
  }
  if (result === "KeyboardInterrupt") throw new Interrupted();
  if (result) throw new ProgramError(String(result));
  return ms;
}

/** Iterations for one sample to last targetMs, given ms per iteration. */
export function itersFor(targetMs: number, perIterMs: number): number {
  if (!(perIterMs > 0)) return 1_000_000;
  return Math.max(1, Math.min(1_000_000_000, Math.ceil(targetMs / perIterMs)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Posts samples at most every 50 ms while a step runs, and at its end. */
class SampleSender {
  private buf: BenchSample[] = [];
  private last = performance.now();
  constructor(
    private readonly host: BenchHost,
    private readonly p: Prepared,
  ) {}
  push(s: BenchSample): void {
    this.buf.push(s);
    if (performance.now() - this.last >= 50) this.flush();
  }
  flush(): void {
    this.last = performance.now();
    if (this.buf.length === 0) return;
    this.host.send({ kind: "samples", samples: this.buf, iters: this.p.iters });
    this.buf = [];
  }
}

function prepare(host: BenchHost, code: string, opts: BenchOptions, arm: string, kernel?: KernelSpec): void {
  const options = { ...DEFAULT_BENCH_OPTIONS, ...opts };
  prepared.delete(arm);
  const timerNs = timerResolutionNs();
  let p: Prepared;
  let compile: () => string | undefined | null;
  if (host.kernels || kernel) {
    // A compiled kernel: nothing to compile; the first run checks its result.
    if (!host.kernels || !kernel) throw new Error(host.kernels ? "this runtime times compiled kernels: the step names none" : `${host.runtime} cannot run compiled kernels`);
    p = { loop: kernelLoop(host.kernels, kernel), seq: 0, iters: 1 };
    compile = () => undefined;
  } else {
    install(host);
    const compileFn = host.global("_pyplay_bench_compile") as (code: string, arm?: string) => string | undefined | null;
    const loopFn = host.global("_pyplay_bench_loop") as (n: number, arm?: string) => string | undefined | null;
    p = { loop: arm ? (n) => loopFn(n, arm) : loopFn, seq: 0, iters: 1 };
    compile = () => (arm ? compileFn(code, arm) : compileFn(code));
  }

  // An arm of an A/B benchmark first moves the interpreter's heap on by a
  // random amount (a buffer of up to 256 KiB and up to 1000 small objects,
  // kept for the interpreter's life): its code and data then land at
  // addresses of their own in every interpreter, so that memory layout, which
  // can favour one arm by a few per cent, varies between interpreters like
  // the rest of their personality instead of repeating in all of them
  // (layout randomisation, as Stabilizer does for native code).
  if (arm && !host.kernels) host.runPython(`_pyplay_bench_pad(${Math.floor(Math.random() * 262144)}, ${Math.floor(Math.random() * 1000)})`);

  // The first run: compiling plus one execution, as a user's first Run.
  const firstStart = performance.now();
  const err = compile();
  if (err) throw new ProgramError(String(err));
  timeLoop(host, p, 1);
  const firstMs = performance.now() - firstStart;

  const targetMs = Math.max((TICKS_PER_SAMPLE * timerNs) / 1e6, options.minSampleMs);
  host.send({
    kind: "calibrated",
    env: environment(host, timerNs),
    phases: startupPhases(host, { start: firstStart, ms: firstMs }),
    config: {
      harness: "pyplay-harness/1",
      warmupMs: options.warmupMs,
      minWarmup: options.minWarmup,
      maxWarmupMs: options.maxWarmupMs,
      minSampleMs: options.minSampleMs,
      targetSampleMs: Math.round(targetMs * 1000) / 1000,
      ticksPerSample: TICKS_PER_SAMPLE,
      freshNamespace: !kernel,
      stdout: "suppressed",
      timedEachIteration: host.beforeIteration !== undefined,
      ...(kernel ? { kernel: kernel.id, kernelN: kernel.n, kernelCheck: kernel.check } : {}),
    },
  });

  // Warmup: time-based with a minimum count, recalibrating the iterations
  // as the code speeds up; the samples are reported, flagged.
  const send = new SampleSender(host, p);
  const perIter: number[] = [];
  p.iters = itersFor(targetMs, firstMs);
  const start = performance.now();
  for (let n = 0; ; n++) {
    if (host.interrupted()) throw new Interrupted();
    const ms = timeLoop(host, p, p.iters);
    perIter.push(ms / p.iters);
    send.push({ seq: p.seq++, warmup: true, ns: (ms * 1e6) / p.iters, iters: p.iters });
    p.iters = itersFor(targetMs, ms / p.iters);
    const elapsed = performance.now() - start;
    if ((elapsed >= options.warmupMs && n + 1 >= options.minWarmup) || elapsed >= options.maxWarmupMs) break;
  }
  // Measured samples all loop the same count, from the settled warmup.
  p.iters = itersFor(targetMs, median(perIter.slice(-Math.min(5, perIter.length))));
  send.flush();
  prepared.set(arm, p);
}

function sample(host: BenchHost, count: number, arm: string): void {
  const p = prepared.get(arm);
  if (!p) throw new Error(arm ? `arm ${arm} of the benchmark is not prepared` : "benchmark not prepared");
  const send = new SampleSender(host, p);
  try {
    for (let i = 0; i < count; i++) {
      if (host.interrupted()) throw new Interrupted();
      const ms = timeLoop(host, p, p.iters);
      send.push({ seq: p.seq++, warmup: false, ns: (ms * 1e6) / p.iters, iters: p.iters });
    }
  } finally {
    send.flush();
  }
}

/** Carries out one benchmark step; the worker then posts "done" with the status. */
export function handleBench(request: BenchRequest, host: BenchHost): RunStatus {
  // Not cleared here: the page clears the interrupt before posting a step,
  // and clearing again would lose a Stop pressed in between.
  try {
    if (request.op === "prepare") prepare(host, request.code, request.options, request.arm ?? "", request.kernel);
    else sample(host, request.count, request.arm ?? "");
    return "ok";
  } catch (err) {
    if (err instanceof Interrupted) {
      host.clearInterrupt();
      return "interrupted";
    }
    const message = err instanceof ProgramError ? err.message : `benchmark failed: ${(err as Error)?.message ?? err}`;
    host.send({ kind: "error", message });
    return "error";
  }
}
