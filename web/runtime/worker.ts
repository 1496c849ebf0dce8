// The runtime worker: loads one Python runtime (Pyodide or MicroPython) from
// pyplay's own files, runs programs on request and streams their output.
// It runs in a module Web Worker so the page stays responsive while Python
// computes. Blocking input(), interruptible sleep() and output backpressure
// wait on the shared control buffer with Atomics.wait, which only a worker
// may do.

import {
  CTL_HEADER_BYTES,
  CTL_INPUT,
  CTL_INPUT_LEN,
  CTL_OUT_SHOWN,
  CTL_WAKE,
  INPUT_ANSWERED,
  INPUT_CANCELLED,
  INPUT_IDLE,
  INPUT_WAITING,
  OUT_IN_FLIGHT,
  SIGINT,
  SNAPSHOT_CACHE,
  type FromWorker,
  type RunStatus,
  type RuntimeInfo,
  type SnapshotMode,
  type StartConfig,
  type StartPath,
  type Stream,
  type ToWorker,
  type WorkerRuntime,
  WORKER_NAME_PREFIX,
} from "./messages";
import { handleBench } from "../bench/harness";
import { isKernelRuntime, loadKernelRuntime, type WasmKernels } from "../bench/kernels";
import { STDLIB_MODULES } from "./stdlib";
import { formatIn } from "../editor/format-worker";
import { TurtleDrawing } from "./turtle-worker";
import { MICROPYTHON_DISPLAY, PYODIDE_DISPLAY } from "./display";
import { PackageLoader, packageOptions, usesRuntimeLock, type PackagePyodide } from "./packages";

const scope = globalThis as unknown as {
  name: string;
  postMessage(msg: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

const started = performance.now();
let control: Int32Array | null = null;
let controlBytes: Uint8Array | null = null;
let interrupt: Int32Array | null = null;
// Resolved by the page's init message, which brings the shared buffers.
let buffersArrived!: () => void;
const buffers = new Promise<void>((resolve) => (buffersArrived = resolve));

function post(msg: FromWorker): void {
  scope.postMessage(msg);
}

// ---- output batching -------------------------------------------------------
// Output is posted in batches: at most one message per FLUSH_MS (or per
// BATCH_CHARS) while a program prints quickly, immediately after a quiet
// spell, and always before blocking (input, sleep) and at the end of a run.
//
// Backpressure: the page counts the batches it has shown (CTL_OUT_SHOWN).
// With OUT_IN_FLIGHT batches posted and not yet shown, the program waits
// in its print() until the page catches up, as a program writing to a
// terminal does, so a print loop cannot bury the page under messages. Stop
// gets through the wait (the interrupt ends it; KeyboardInterrupt follows).

const FLUSH_MS = 25;
const BATCH_CHARS = 64 * 1024;
/**
 * How long a batch waits for the page before it is posted anyway: a page
 * that cannot show output (it is not rendering at all) slows a program
 * down to a batch a second instead of stopping it.
 */
const SHOWN_PATIENCE_MS = 1000;
let pending: [Stream, string][] = [];
let pendingChars = 0;
let lastFlush = 0;
let posted = 0; // batches posted since the worker started
let flushTimer: ReturnType<typeof setTimeout> | undefined;

let muted = false; // a benchmark is sampling: output is dropped

function emit(stream: Stream, text: string): void {
  if (!text || muted) return;
  if (drawing.pending) flush(); // turtle drawing made before this text goes first
  const last = pending[pending.length - 1];
  if (last && last[0] === stream) last[1] += text;
  else pending.push([stream, text]);
  pendingChars += text.length;
  soon(pendingChars >= BATCH_CHARS);
}

/** Posts now if a batch is full or due, otherwise soon. */
function soon(full: boolean): void {
  if (full || performance.now() - lastFlush >= FLUSH_MS) flush();
  // While a run awaits (top-level await), nothing else would post it.
  else flushTimer ??= setTimeout(flush, FLUSH_MS);
}

function flush(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (pending.length > 0) {
    awaitShown();
    post({ type: "out", chunks: pending });
    posted++;
    pending = [];
    pendingChars = 0;
  }
  if (drawing.pending) {
    awaitShown();
    post({ type: "turtle", ops: drawing.take() });
    posted++;
  }
  lastFlush = performance.now();
}

// Turtle graphics (turtle-worker.ts): ops share the output's batches and backpressure.
const drawing = new TurtleDrawing({ flush, soon, textPending: () => pending.length > 0, muted: () => muted });

/** Waits while OUT_IN_FLIGHT batches are not yet shown, unless Stop was pressed. */
function awaitShown(): void {
  if (!control) return; // no shared memory: no backpressure
  const deadline = performance.now() + SHOWN_PATIENCE_MS;
  for (;;) {
    const shown = Atomics.load(control, CTL_OUT_SHOWN);
    if (posted - shown < OUT_IN_FLIGHT || interrupted()) return;
    const left = deadline - performance.now();
    if (left <= 0) return;
    // The page notifies when it shows a batch and when Stop is pressed.
    Atomics.wait(control, CTL_OUT_SHOWN, shown, Math.min(left, 100));
  }
}

// ---- blocking helpers exposed to Python as the module pyplay_io ------------

function interrupted(): boolean {
  return interrupt !== null && Atomics.load(interrupt, 0) === SIGINT;
}

const io = {
  /**
   * Blocks until the page answers; returns undefined (None in Python; null
   * would be Pyodide's distinct jsnull) when Stop cancelled it.
   */
  readline(prompt: string): string | undefined {
    flush();
    if (!control || !controlBytes) {
      emit("stderr", "\ninput() needs a cross-origin isolated page (SharedArrayBuffer); it is unavailable here.\n");
      return undefined;
    }
    Atomics.store(control, CTL_INPUT, INPUT_WAITING);
    post({ type: "input", prompt });
    for (;;) {
      Atomics.wait(control, CTL_INPUT, INPUT_WAITING, 100);
      const state = Atomics.load(control, CTL_INPUT);
      if (state === INPUT_ANSWERED) {
        const len = Atomics.load(control, CTL_INPUT_LEN);
        // TextDecoder refuses views on shared memory: copy first.
        const text = new TextDecoder().decode(controlBytes.slice(CTL_HEADER_BYTES, CTL_HEADER_BYTES + len));
        Atomics.store(control, CTL_INPUT, INPUT_IDLE);
        return text;
      }
      if (state === INPUT_CANCELLED || interrupted()) {
        Atomics.store(control, CTL_INPUT, INPUT_IDLE);
        // Python raises KeyboardInterrupt itself now; clear the pending
        // signal so it does not fire again while the traceback prints.
        if (interrupt) Atomics.store(interrupt, 0, 0);
        return undefined;
      }
    }
  },
  /** Sleeps without spinning, waking early on Stop. */
  sleep(seconds: number): void {
    flush();
    const end = performance.now() + seconds * 1000;
    for (;;) {
      const left = end - performance.now();
      if (left <= 0 || interrupted()) return;
      if (control) Atomics.wait(control, CTL_WAKE, Atomics.load(control, CTL_WAKE), Math.min(left, 100));
      else {
        // Without shared memory there is nothing to wait on: spin.
        while (performance.now() < Math.min(end, performance.now() + 100)) {
          /* busy */
        }
      }
    }
  },
  flush,
  /** Rich output (runtime/display.py): posted after what was printed before it, under the same backpressure. */
  display(mime: string, data: string): void {
    flush();
    if (muted) return;
    awaitShown();
    post({ type: "display", item: { mime: String(mime), data: String(data) } });
    posted++;
  },
};

// ---- runtimes ---------------------------------------------------------------

interface Runtime {
  version: string;
  pythonVersion: string;
  path: StartPath;
  note?: string;
  /** Runs a program; a promise when it awaits at top level (Pyodide). */
  run(code: string): RunStatus | Promise<RunStatus>;
  /** Lets Stop raise KeyboardInterrupt (Pyodide; MicroPython's worker is replaced instead). */
  setInterrupt?(buf: Int32Array): void;
  /** Stop while a run awaits at top level: no Python runs to see the interrupt, so cancel it. */
  stopAwaiting?(): void;
  runPython(code: string): unknown; // for the benchmark harness
  global(name: string): unknown;
  /** go-wasm, rust-wasm: the compiled kernels the harness times (bench/kernels.ts). */
  kernels?: WasmKernels;
  /** Loads the packages a program imports (Pyodide with -packages; packages.ts). */
  packages?: PackageLoader;
}

const NOT_OFFLINE =
  "pyplay serves only the Python standard library, offline; third-party packages such as this one are not available " +
  "unless the server's operator provides them (pyplay's -packages flag, for Pyodide).";
/** MicroPython's note for a standard-library module it lacks; {name} is the module. */
const NOT_IN_MICROPYTHON =
  "{name} is part of Python's standard library, but not available in MicroPython: switch the Runtime to Pyodide to use it.";

// Standard-library modules imported before the snapshot is taken (pure
// Python state, no JavaScript references): the driver needs the first
// ones, programs commonly use the rest, and a restored interpreter then
// has them without reading the stdlib zip.
const PRELOAD = `
import builtins, linecache, sys, time, traceback, io, math, random, re, collections, itertools, functools, json, string
`;

// Installed once per interpreter. Each run is a fresh module registered as
// sys.modules["__main__"], as with `python main.py` (so doctest.testmod()
// finds the program's doctests and pickle finds its classes), Pyodide's own
// __main__ is put back afterwards; code with a top-level await runs as a
// coroutine, which the worker awaits. Frames of this driver are cut from
// tracebacks so line numbers point at main.py.
//
// It refers to no JavaScript object until it runs (pyplay_io is imported
// when called), so it can be part of the memory snapshot: a restored
// interpreter has it compiled and installed already.
const PYODIDE_DRIVER = PYODIDE_DISPLAY + `
import ast, builtins, linecache, sys, time, traceback, types

def _pyplay_input(prompt=""):
    import pyplay_io
    prompt = str(prompt)
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = pyplay_io.readline(prompt)
    if line is None:
        raise KeyboardInterrupt
    return line

def _pyplay_sleep(secs):
    import pyplay_io
    secs = float(secs)
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    sys.stdout.flush()
    sys.stderr.flush()
    pyplay_io.sleep(secs)

builtins.input = _pyplay_input
time.sleep = _pyplay_sleep

def _pyplay_clean(e, seen=None):
    # Unlink this driver's frames from the traceback (and from chained
    # exceptions) so that every frame shown is the user's code.
    seen = seen or set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        keep = []
        tb = e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != _PYPLAY_DRIVER:
                keep.append(tb)
            tb = tb.tb_next
        for a, b in zip(keep, keep[1:]):
            a.tb_next = b
        if keep:
            keep[-1].tb_next = None
        e.__traceback__ = keep[0] if keep else None
        if e.__cause__ is not None:
            _pyplay_clean(e.__cause__, seen)
        e = e.__context__

def _pyplay_report(e):
    # The run's status for an exception that ended it, after printing its traceback.
    if isinstance(e, SystemExit):
        if e.code is None or e.code == 0:
            return "ok"
        print(e.code if isinstance(e.code, str) else f"exit status {e.code}", file=sys.stderr)
        return "error"
    _pyplay_clean(e)
    if isinstance(e, ModuleNotFoundError) and e.name and e.name.split(".")[0] not in sys.stdlib_module_names:
        e.args = (f"No module named {e.name!r}",)
        e.add_note(globals().get("_PYPLAY_NO_MODULE", ${JSON.stringify(NOT_OFFLINE)}))
    traceback.print_exception(e)
    return "interrupted" if isinstance(e, KeyboardInterrupt) else "error"

def _pyplay_enter(code):
    # A fresh __main__ for one run; returns what _pyplay_leave puts back.
    linecache.cache["main.py"] = (len(code), None, code.splitlines(True), "main.py")
    main = types.ModuleType("__main__")
    main.__file__ = "main.py"
    main.__builtins__ = builtins
    saved = (sys.modules.get("__main__"), sys.argv)
    sys.modules["__main__"] = main
    sys.argv = ["main.py"]
    return main, saved

def _pyplay_leave(saved):
    own, argv = saved
    if own is None:
        sys.modules.pop("__main__", None)
    else:
        sys.modules["__main__"] = own
    sys.argv = argv
    _pyplay_close_figures()
    sys.stdout.flush()
    sys.stderr.flush()

_pyplay_task = None
_pyplay_stopped = False

async def _pyplay_await(coro, saved):
    import asyncio
    try:
        await coro
        return "ok"
    except BaseException as e:
        if isinstance(e, asyncio.CancelledError) and _pyplay_stopped:
            # Stop while the program awaited: report it as Stop does elsewhere.
            # It ends where the program awaited, not in asyncio's machinery.
            tb, last = e.__traceback__, None
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == "main.py":
                    last = tb
                tb = tb.tb_next
            if last is not None:
                last.tb_next = None
            stop = KeyboardInterrupt()
            stop.__traceback__ = e.__traceback__
            e = stop
        return _pyplay_report(e)
    finally:
        _pyplay_leave(saved)

def _pyplay_stop():
    # Stop pressed while the program awaits (nothing runs to see the interrupt):
    # cancel it where it waits.
    global _pyplay_stopped
    if _pyplay_task is not None and not _pyplay_task.done():
        _pyplay_stopped = True
        _pyplay_task.cancel()

def _pyplay_run(code):
    global _pyplay_task, _pyplay_stopped
    main, saved = _pyplay_enter(code)
    awaiting = False
    _pyplay_task, _pyplay_stopped = None, False
    try:
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        co = _pyplay_compile(code, flags)  # display.py: a last expression's value is shown
        if co.co_flags & 0x80:  # CO_COROUTINE: the program awaits at top level
            import asyncio
            awaiting = True
            _pyplay_task = asyncio.ensure_future(_pyplay_await(eval(co, main.__dict__), saved))
            return _pyplay_task
        exec(co, main.__dict__)
        return "ok"
    except BaseException as e:
        awaiting = False
        return _pyplay_report(e)
    finally:
        if not awaiting:
            _pyplay_leave(saved)

_PYPLAY_DRIVER = _pyplay_run.__code__.co_filename
_PYPLAY_VERSION = sys.version.split()[0]
`;

const MICROPYTHON_DRIVER = `
import sys, io
import pyplay_io
${MICROPYTHON_DISPLAY}

_PYPLAY_STDLIB = set(${JSON.stringify(STDLIB_MODULES.join(" "))}.split())

def _pyplay_input(prompt=""):
    prompt = str(prompt)
    sys.stdout.write(prompt)
    line = pyplay_io.readline(prompt)
    if line is None:
        raise KeyboardInterrupt
    return line

def _pyplay_missing(e):
    # What is true of a module MicroPython could not import: a standard-library
    # module it lacks (Pyodide has it), or a third-party package.
    msg = str(e)
    name = msg.split("'")[1] if msg.count("'") >= 2 else ""
    top = name.split(".")[0]
    if top in _PYPLAY_STDLIB:
        return ${JSON.stringify(NOT_IN_MICROPYTHON)}.replace("{name}", top)
    return ${JSON.stringify(NOT_OFFLINE)}

def _pyplay_run(code):
    ns = {"__name__": "__main__", "input": _pyplay_input, "display": _pyplay_display}
    try:
        exec(compile(code, "main.py", "exec"), ns)
        return "ok"
    except SystemExit as e:
        c = e.args[0] if e.args else None
        if c is None or c == 0:
            return "ok"
        print(c if isinstance(c, str) else "exit status " + str(c), file=sys.stderr)
        return "error"
    except BaseException as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        lines = buf.getvalue().split("\\n")
        keep = []
        for line in lines:
            if line.startswith('  File "<stdin>"'):
                continue
            keep.append(line)
        sys.stderr.write("\\n".join(keep))
        if isinstance(e, ImportError):
            sys.stderr.write(_pyplay_missing(e) + "\\n")
        return "interrupted" if isinstance(e, KeyboardInterrupt) else "error"
`;

// ---- download progress --------------------------------------------------------
// Runtime files are counted as they arrive by reading a clone of each
// response: the original goes untouched to WebAssembly.instantiateStreaming,
// so the browser can still cache the compiled module. Sizes come from the
// build manifest (the transfer may be compressed, so Content-Length would
// not match).

function trackDownloads(info: RuntimeInfo, tracked: string[]): Promise<void> {
  const sizes = new Map<string, number>();
  for (const name of tracked) if (info.files[name]) sizes.set(info.base + name, info.files[name]);
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  let loaded = 0;
  let remaining = sizes.size;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  if (remaining === 0) resolveAll();
  let lastPost = 0;
  const report = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastPost < 50) return;
    lastPost = now;
    post({ type: "progress", phase: "download", loaded, total });
  };
  const count = async (body: ReadableStream<Uint8Array>) => {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        loaded += value.byteLength;
        report(false);
      }
    } catch {
      // The real consumer reports the failure.
    }
    report(true);
    if (--remaining === 0) resolveAll();
  };
  const realFetch = globalThis.fetch.bind(globalThis);
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const res = await realFetch(input, init);
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url, location.href);
    if (!sizes.has(url.pathname) || !res.ok) return res;
    sizes.delete(url.pathname);
    const copy = res.clone();
    if (copy.body) void count(copy.body);
    return res;
  };
  report(true);
  return all;
}

// ---- memory snapshots ---------------------------------------------------------
// A snapshot of a pristine Pyodide (taken right after start-up, before any
// of our or the user's code ran) is kept in this browser's Cache Storage,
// keyed by runtime version and build, and restored on later visits: that
// skips initialising the interpreter, the bulk of start-up. It is never sent
// anywhere. Any failure falls back to a normal start and replaces the entry.

function snapshotKey(info: RuntimeInfo, build: string): string {
  return new URL(`/__pyplay/snapshot/pyodide/${info.version}/${build}`, location.href).href;
}

async function openSnapshots(): Promise<Cache | null> {
  try {
    return await caches.open(SNAPSHOT_CACHE);
  } catch {
    return null; // no Cache Storage (e.g. an opaque origin): no fast path
  }
}

/**
 * Looks the snapshot up and, when there is one, returns a promise of its
 * bytes (checked for truncation) without waiting for them: loadPyodide
 * awaits them only once its scripts are loaded, so reading 30 MB overlaps
 * with loading and compiling. (The promise is wrapped in an object because
 * an async function that returns a promise resolves to its value.)
 */
async function findSnapshot(cache: Cache, key: string): Promise<{ bytes: Promise<Uint8Array> } | null> {
  const res = await cache.match(key);
  if (!res) return null;
  const want = Number(res.headers.get("x-pyplay-length"));
  const bytes = res.arrayBuffer().then((buf) => {
    const b = new Uint8Array(buf);
    if (!want || b.length !== want) throw new Error(`snapshot has ${b.length} bytes, expected ${want}`);
    return b;
  });
  bytes.catch(() => {}); // reported through loadPyodide, which awaits it
  return { bytes };
}

async function saveSnapshot(cache: Cache, key: string, bytes: Uint8Array): Promise<void> {
  // Old builds' snapshots can never be used again.
  for (const req of await cache.keys()) if (req.url !== key) await cache.delete(req);
  if (await cache.match(key)) return; // another tab saved one meanwhile
  await cache.put(
    key,
    new Response(bytes as unknown as BodyInit, {
      headers: { "content-type": "application/octet-stream", "x-pyplay-length": String(bytes.length) },
    }),
  );
}

// ---- loaders -----------------------------------------------------------------

interface PyodideAPI {
  version: string;
  runPython(code: string): unknown;
  registerJsModule(name: string, module: object): void;
  setStdout(opts: { write: (buf: Uint8Array) => number; isatty?: boolean }): void;
  setStderr(opts: { write: (buf: Uint8Array) => number; isatty?: boolean }): void;
  setStdin(opts: { stdin: () => string | null | undefined; isatty?: boolean }): void;
  setInterruptBuffer(buf: Int32Array): void;
  makeMemorySnapshot(): Uint8Array;
  FS: { mkdirTree(path: string): void; writeFile(path: string, data: string): void };
  globals: { get(name: string): unknown };
}

function streamWriter(stream: Stream) {
  const decoder = new TextDecoder();
  return (buf: Uint8Array): number => {
    emit(stream, decoder.decode(buf, { stream: true }));
    return buf.length;
  };
}

async function loadPyodideRuntime(info: RuntimeInfo, build: string, mode: SnapshotMode): Promise<Runtime> {
  const downloads = trackDownloads(info, [
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    ...(usesRuntimeLock(info) ? ["pyodide-lock.json"] : []),
  ]);
  const modPromise = import(/* @vite-ignore */ info.base + "pyodide.mjs") as Promise<{
    loadPyodide(opts: object): Promise<PyodideAPI>;
  }>;
  void downloads.then(() => post({ type: "progress", phase: "init", loaded: 0, total: 0 }));
  const base = { indexURL: info.base, env: { PYTHON_COLORS: "0", HOME: "/home/pyodide" }, ...packageOptions(info) };
  const key = snapshotKey(info, build);
  const cache = mode !== "off" ? await openSnapshots() : null;
  const save = cache !== null && mode === "save";
  let path: StartPath = "normal";
  let note: string | undefined;
  let py: PyodideAPI | null = null;
  if (cache) {
    try {
      const snap = await findSnapshot(cache, key);
      if (snap) {
        py = await (await modPromise).loadPyodide({ ...base, _loadSnapshot: snap.bytes });
        // A broken restore fails here, not in the user's run.
        if (py.runPython("'_pyplay_run' in globals()") !== true) throw new Error("the snapshot holds no pyplay driver");
        path = "snapshot";
      }
    } catch (err) {
      py = null;
      path = "repaired";
      note = `the cached snapshot could not be used (${(err as Error)?.message ?? err}); started normally and replaced it`;
      console.warn("pyplay:", note);
      await cache.delete(key).catch(() => {});
    }
  }
  if (!py) {
    py = await (await modPromise).loadPyodide({ ...base, _makeSnapshot: save });
    if (save) py.runPython(PRELOAD);
    py.runPython(PYODIDE_DRIVER);
    if (cache && save) {
      try {
        // Taken before any program runs: the snapshot holds a pristine
        // interpreter with pyplay's driver, never anything a program did.
        const snap = py.makeMemorySnapshot();
        // Saving happens in the background; the first run need not wait.
        void saveSnapshot(cache, key, snap).catch((err) => console.warn("pyplay: snapshot not saved:", err));
        if (path === "normal") path = "saved";
      } catch (err) {
        note = `no snapshot was made (${(err as Error)?.message ?? err})`;
      }
    }
  }
  py.setStdout({ write: streamWriter("stdout"), isatty: false });
  py.setStderr({ write: streamWriter("stderr"), isatty: false });
  py.setStdin({ stdin: () => io.readline(""), isatty: false });
  py.registerJsModule("pyplay_io", io);
  drawing.install(py);
  const runFn = py.globals.get("_pyplay_run") as (code: string) => string;
  const pythonVersion = String(py.globals.get("_PYPLAY_VERSION"));
  // After any snapshot was made or restored: packages never enter one.
  const packages = info.packages
    ? new PackageLoader(py as unknown as PackagePyodide, info.packages, {
        status: (text) => post({ type: "packages", text }),
        stderr: (text) => emit("stderr", text),
        clearInterrupt: () => {
          if (interrupt) Atomics.store(interrupt, 0, 0);
        },
      })
    : undefined;
  return {
    packages,
    version: py.version,
    pythonVersion,
    path,
    note,
    // The page clears the interrupt buffer before it posts a run; clearing
    // it here too would lose a Stop pressed before this worker got to it.
    run: (code: string) => {
      const r = runFn(code) as string | (PromiseLike<string> & { destroy(): void });
      if (typeof r === "string") return r as RunStatus;
      // A task (top-level await) on Pyodide's event loop: this thread is free while it waits.
      return (async () => {
        try {
          return (await r) as RunStatus;
        } finally {
          r.destroy();
        }
      })();
    },
    setInterrupt: (buf: Int32Array) => py!.setInterruptBuffer(buf),
    stopAwaiting: () => {
      // The pending interrupt would fire in whatever Python runs next (the
      // cancellation itself): the cancellation stands in for it.
      if (interrupt) Atomics.store(interrupt, 0, 0);
      (py!.globals.get("_pyplay_stop") as () => void)();
    },
    runPython: (code: string) => py!.runPython(code),
    global: (name: string) => py!.globals.get(name),
  };
}

interface MicroPythonAPI {
  FS: { mkdirTree(path: string): void; writeFile(path: string, data: string): void };
  runPython(code: string): unknown;
  registerJsModule(name: string, module: object): void;
  globals: { get(name: string): unknown };
}

async function loadMicroPythonRuntime(info: RuntimeInfo): Promise<Runtime> {
  const downloads = trackDownloads(info, ["micropython.wasm"]);
  const mod = (await import(/* @vite-ignore */ info.base + "micropython.mjs")) as {
    loadMicroPython(opts: object): Promise<MicroPythonAPI>;
  };
  void downloads.then(() => post({ type: "progress", phase: "init", loaded: 0, total: 0 }));
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const mp = await mod.loadMicroPython({
    url: info.base + "micropython.wasm",
    heapsize: 64 * 1024 * 1024,
    linebuffer: false,
    stdout: (b: Uint8Array) => emit("stdout", decoders.stdout.decode(b, { stream: true })),
    stderr: (b: Uint8Array) => emit("stderr", decoders.stderr.decode(b, { stream: true })),
  });
  mp.registerJsModule("pyplay_io", io);
  drawing.install(mp);
  mp.runPython(MICROPYTHON_DRIVER);
  const runFn = mp.globals.get("_pyplay_run") as (code: string) => string;
  mp.runPython("import sys\n_pyplay_version = '.'.join(str(p) for p in sys.implementation.version[:3])");
  const pythonVersion = String(mp.globals.get("_pyplay_version"));
  return {
    version: info.version,
    pythonVersion,
    path: "normal",
    run: (code: string) => runFn(code) as RunStatus,
    runPython: (code: string) => mp.runPython(code),
    global: (name: string) => mp.globals.get(name),
  };
}

// ---- message loop --------------------------------------------------------------

let runtime: Runtime | null = null;
let runtimeName: WorkerRuntime = "pyodide";
let runtimeInfo: RuntimeInfo | null = null;
let readyAt = 0;
/** A run awaits at top level (Pyodide): Stop cancels it (stopAwaiting). */
let awaitingRun = false;

async function start(cfg: StartConfig): Promise<void> {
  runtimeName = cfg.runtime;
  try {
    const t0 = performance.now();
    runtime = isKernelRuntime(cfg.runtime)
      ? await loadKernelRuntime(cfg.runtime, cfg.info)
      : cfg.runtime === "micropython"
        ? await loadMicroPythonRuntime(cfg.info)
        : await loadPyodideRuntime(cfg.info, cfg.build, cfg.snapshot);
    await buffers; // input() and Stop need them before anything runs
    if (interrupt) runtime.setInterrupt?.(interrupt);
    const downloadEnd = Math.max(
      0,
      ...performance
        .getEntriesByType("resource")
        .filter((r) => r.name.includes(cfg.info.base))
        .map((r) => (r as PerformanceResourceTiming).responseEnd),
    );
    const now = performance.now();
    runtimeInfo = cfg.info;
    readyAt = now;
    post({
      type: "ready",
      runtime: runtimeName,
      version: runtime.version,
      pythonVersion: runtime.pythonVersion,
      timings: { download: Math.max(0, downloadEnd - t0), init: now - Math.max(downloadEnd, t0), total: now - started },
      path: runtime.path,
      note: runtime.note,
    });
  } catch (err) {
    post({ type: "fatal", message: `could not start ${cfg.runtime}: ${(err as Error)?.message ?? err}` });
  }
}

function startConfig(name: string): StartConfig | null {
  if (!name.startsWith(WORKER_NAME_PREFIX)) return null;
  try {
    return JSON.parse(name.slice(WORKER_NAME_PREFIX.length)) as StartConfig;
  } catch {
    return null;
  }
}

// Loading starts now, while the page's init message (the shared buffers)
// may still be on its way.
const cfg = startConfig(scope.name);
if (cfg) void start(cfg);
else post({ type: "fatal", message: "the runtime worker was started without its configuration" });

scope.onmessage = async (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === "init") {
    if (msg.control) {
      control = new Int32Array(msg.control, 0, CTL_HEADER_BYTES / 4);
      controlBytes = new Uint8Array(msg.control);
    }
    if (msg.interrupt) interrupt = new Int32Array(msg.interrupt);
    buffersArrived();
    return;
  }
  if (msg.type === "stop") {
    // Sent with every interrupt; it matters only while a run awaits (this
    // thread is free then), otherwise the interrupt has done its work.
    if (runtime?.packages?.stop()) return; // Stop while loading packages
    if (awaitingRun) runtime?.stopAwaiting?.();
    return;
  }
  if (msg.type === "bench") {
    const rt = runtime;
    // Packages a benchmarked program imports load first, timed as their own phase.
    let packages: { start: number; ms: number } | undefined;
    if (rt?.packages && msg.request.op === "prepare") {
      const start = performance.now();
      const failed = await rt.packages.load(msg.request.code);
      packages = { start, ms: performance.now() - start };
      if (failed) {
        flush();
        post({ type: "done", id: msg.id, status: failed, ms: 0 });
        return;
      }
    }
    const status: RunStatus =
      rt && runtimeInfo
        ? handleBench(msg.request, {
            runtime: runtimeName,
            pythonVersion: rt.pythonVersion,
            startPath: rt.path,
            info: runtimeInfo,
            readyAt,
            packages,
            runPython: rt.runPython,
            global: rt.global,
            kernels: rt.kernels,
            mute: (on) => {
              muted = on;
            },
            interrupted,
            clearInterrupt: () => {
              if (interrupt) Atomics.store(interrupt, 0, 0);
            },
            send: (event) => post({ type: "bench", id: msg.id, event }),
          })
        : "error";
    flush();
    post({ type: "done", id: msg.id, status, ms: 0 });
    return;
  }
  if (msg.type === "format") {
    post({ type: "formatted", id: msg.id, ...formatIn(runtime, runtimeName, msg.code) });
    return;
  }
  if (msg.type === "run") {
    if (!runtime) {
      post({ type: "done", id: msg.id, status: "error", ms: 0 });
      return;
    }
    const failed = await runtime.packages?.load(msg.code).catch((err: unknown) => {
      emit("stderr", `could not load packages: ${(err as Error)?.message ?? err}\n`);
      return "error" as const;
    });
    if (failed) {
      flush();
      post({ type: "done", id: msg.id, status: failed, ms: 0 });
      return;
    }
    const t0 = performance.now();
    let status: RunStatus;
    try {
      const result = runtime.run(msg.code);
      awaitingRun = typeof result !== "string";
      status = await result;
    } catch (err) {
      emit("stderr", `${(err as Error)?.message ?? err}\n`);
      status = "error";
    }
    awaitingRun = false;
    const ms = performance.now() - t0;
    // Stop pressed while the program's last statement ended (a time.sleep or
    // input() it woke from): Python never got to raise KeyboardInterrupt, but
    // the run was stopped, and the signal must not fire in the next one.
    if (interrupt && Atomics.load(interrupt, 0) !== 0) {
      Atomics.store(interrupt, 0, 0);
      if (status === "ok") status = "interrupted";
    }
    drawing.endRun(runtime.runPython);
    flush();
    post({ type: "done", id: msg.id, status, ms });
  }
};
