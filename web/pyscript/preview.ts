// The PyScript preview document, served from the preview origin (never the
// playground's). It waits for one page from the playground (postMessage,
// accepted from the playground's origin only), writes the user's body and a
// <script type="py" worker> (or "mpy") with the code, starts @pyscript/core
// with pyplay's own interpreter files, and reports PyScript's lifecycle and
// the program's output back to the playground.
//
// The code runs in PyScript's worker: the frame is same-site with the
// playground, so Chromium runs its main thread on the playground's renderer
// thread, and code there (a `while True: pass`, Pyodide compiling) would
// freeze the whole tab, Stop included. In the worker it freezes nothing, and
// unloading the frame ends it. PyScript proxies `document`/`window` to the
// worker through SharedArrayBuffer and Atomics (the frame is cross-origin
// isolated), so display(), `from pyscript import document` and @when work.

import "./preview.css";
import type { BenchRequest, RunStatus } from "../runtime/messages";
import type { PyScriptBenchSetup } from "./bench";
import { STEP_HEADER, STEP_MAX, type BenchStep, type FromPreview, type InputAnswer, type Interpreter, type OutputShown, type ToPreview } from "./messages";

interface PreviewConfig {
  parent: string; // the playground's origin: the only one this page talks to
  core: string; // @pyscript/core's core.js
  version: string;
  interpreters: Record<Interpreter, string>; // → URL of pyodide.mjs / micropython.mjs
  versions: Record<Interpreter, string>;
  bench: string; // the harness bundle (bench.ts) that PyScript's worker imports
}

interface PyScriptIO {
  stdout(data: unknown): void;
  stderr(data: unknown, ...rest: unknown[]): void;
}

/** The main-thread side of a PyScript worker (polyscript's XWorker). */
interface XWorker extends EventTarget {
  sync: Record<string, unknown>; // functions the worker may call synchronously
  onerror: (event: { error?: unknown; message?: string }) => void; // the worker failed to start or to run
}

/** What the worker-side hooks receive: the worker's end of the same channel. */
interface WorkerSide {
  sync: Record<string, (...args: unknown[]) => unknown>;
}

type WorkerHook = (wrap: { io: PyScriptIO }, xworker: WorkerSide) => void;
type AsyncWorkerHook = (wrap: { interpreter: unknown }, xworker: WorkerSide) => Promise<void>;

interface PyScriptCore {
  hooks: {
    main: {
      onReady: Set<(wrap: { io: PyScriptIO }, element: Element) => void>;
      onWorker: Set<(interpreter: unknown, xworker: XWorker) => void>;
    };
    worker: {
      onReady: Set<WorkerHook>;
      onBeforeRunAsync: Set<AsyncWorkerHook>;
      onAfterRunAsync: Set<AsyncWorkerHook>;
      codeBeforeRun: Set<string>;
      codeBeforeRunAsync: Set<string>;
    };
  };
}

const cfg = JSON.parse(document.getElementById("pyplay-preview")?.textContent ?? "{}") as PreviewConfig;

// Output is batched per task so a print loop does not flood the parent with
// one message per line; lifecycle messages flush it first to keep the order.
//
// Backpressure: the playground answers each "out" message with "out-shown"
// once it is on screen. With OUT_IN_FLIGHT of them unanswered, the rings
// (below) are not drained, so a fast printer's ring fills and its worker
// waits, as a program writing to a terminal waits for it.
let queued: { stream: "stdout" | "stderr"; text: string }[] = [];
let flushTimer: number | undefined;
const OUT_IN_FLIGHT = 4;
let unshown = 0;
/** Rings with output waiting for the playground to catch up. */
const deferred = new Set<{ ring(): void }>();

function flush(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  for (const o of queued) window.parent.postMessage({ type: "out", ...o } satisfies FromPreview, cfg.parent);
  unshown += queued.length;
  queued = [];
}

function shown(): void {
  unshown = Math.max(0, unshown - 1);
  if (unshown >= OUT_IN_FLIGHT) return;
  const rings = [...deferred];
  deferred.clear();
  for (const r of rings) r.ring();
}

function post(msg: FromPreview): void {
  flush();
  window.parent.postMessage(msg, cfg.parent);
}

function out(stream: "stdout" | "stderr", text: string): void {
  if (!text) return;
  const last = queued[queued.length - 1];
  if (last?.stream === stream) last.text += text;
  else queued.push({ stream, text });
  flushTimer ??= window.setTimeout(flush, 0);
}

let started = false;
/** A benchmark's harness waiting for its next step (pyplay_bench_next). */
let nextStep: ((request: BenchRequest | null) => void) | null = null;
/** An input() waiting for its line (pyplay_input). */
let inputLine: ((line: string) => void) | null = null;
addEventListener("message", (e: MessageEvent) => {
  if (e.origin !== cfg.parent || e.source !== window.parent) return;
  const msg = e.data as ToPreview | BenchStep | InputAnswer | OutputShown;
  if (msg?.type === "out-shown") {
    shown();
    return;
  }
  if (msg?.type === "input-answer") {
    const resolve = inputLine;
    inputLine = null;
    resolve?.(String(msg.line));
    return;
  }
  if (msg?.type === "bench-step") {
    const resolve = nextStep;
    nextStep = null;
    resolve?.(msg.request);
    return;
  }
  if (msg?.type !== "run" || started) return;
  started = true;
  render(msg).catch((err: unknown) => post({ type: "fatal", message: String((err as Error)?.message ?? err) }));
});
post({ type: "hello" });

/**
 * Turns what PyScript hands its io hooks into text: Pyodide passes lines
 * without their newline, MicroPython raw bytes, and both pass Error objects
 * for uncaught exceptions (whose message is the traceback).
 */
function textOf(data: unknown, decoder: TextDecoder): string {
  if (data instanceof Uint8Array) return decoder.decode(data, { stream: true });
  if (data instanceof Error) return cleanTraceback(data.message);
  return String(data) + "\n";
}

// Frames of Pyodide's and PyScript's own machinery, which say nothing about
// the user's program.
const internalFrame = /^ {2}File "(?:[^"]*\/_pyodide\/[^"]*|(?:\/home\/pyodide\/)?pyscript\/[^"]*)"/;

/**
 * Drops the interpreters' internal frames from a traceback and names the
 * user's code main.py (Pyodide calls it <exec>, MicroPython <stdin>), as
 * the playground's own runner does.
 */
export function cleanTraceback(text: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.replace(/\n$/, "").split("\n")) {
    if (line.startsWith("  File ")) skipping = internalFrame.test(line);
    else if (!line.startsWith("    ")) skipping = false;
    if (!skipping) out.push(line.replace(/^( {2}File )"<(?:exec|stdin)>"/, '$1"main.py"'));
  }
  return out.join("\n") + "\n";
}

/** Shows an error in the page itself, as PyScript's own error plugin would. */
function showError(text: string): void {
  const pre = document.createElement("pre");
  pre.className = "py-error";
  pre.textContent = text;
  document.body.append(pre);
}

/**
 * Until the page's code has run, its event handlers are not attached: a
 * click then would be lost. Clicks are held (the page says "starting…")
 * and replayed, in order, once the code has run (release(true)), or
 * dropped when it cannot start (release(false)).
 */
function holdEarlyClicks(): { release(replay: boolean): void } {
  const held: Element[] = [];
  const badge = document.createElement("div");
  badge.className = "pyplay-starting";
  badge.setAttribute("role", "status");
  badge.textContent = "Python is starting… clicks are handled once the page's code has run.";
  // Outside <body>, which belongs to the page.
  document.documentElement.append(badge);
  const hold = (e: Event) => {
    if (!e.isTrusted || !(e.target instanceof Element)) return; // a replay
    e.preventDefault();
    e.stopImmediatePropagation();
    held.push(e.target);
    badge.textContent = `Python is starting… ${held.length} click${held.length === 1 ? "" : "s"} will be handled once the page's code has run.`;
  };
  addEventListener("click", hold, true);
  let released = false;
  return {
    release(replay) {
      if (released) return;
      released = true;
      removeEventListener("click", hold, true);
      badge.remove();
      if (!replay) return;
      for (const t of held) {
        if (!t.isConnected) continue;
        if (t instanceof HTMLElement) t.click();
        else t.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window }));
      }
    },
  };
}

/** innerHTML leaves scripts inert; re-create the page's JavaScript ones so they run. */
function activateScripts(root: HTMLElement): void {
  for (const old of root.querySelectorAll("script")) {
    const type = old.type.trim().toLowerCase();
    if (type !== "" && type !== "module" && type !== "text/javascript" && type !== "application/javascript") continue;
    const s = document.createElement("script");
    for (const a of old.attributes) s.setAttribute(a.name, a.value);
    s.textContent = old.textContent;
    old.replaceWith(s);
  }
}

// ---- output from PyScript's worker -----------------------------------------
// The worker writes its output into a ring in shared memory and never waits
// for this thread: a print loop cannot flood it with messages, and a program
// that prints and then computes (or loops forever) has shown every line so
// far. Records are [kind: 1 byte][length: 4 bytes LE][bytes]. The worker
// rings a doorbell (postMessage) when the ring goes from empty to not empty;
// this side drains it shortly after, and always before reporting py:done,
// which the worker sends only after writing everything its code printed.

const RING_HEADER = 16; // Int32 × 4: [0] unused, [1] bytes in the ring, [2] drains (a full writer waits on it)
const KIND_STDERR = 1;
const KIND_TRACEBACK = 2;

/**
 * Runs in each PyScript worker, from its source text (PyScript stringifies
 * worker hooks), so it may use nothing from this module: the constants above
 * are repeated as literals; the ring holds 1 MiB. It replaces the
 * interpreter's io and hands this frame the ring through
 * `xworker.sync.pyplay_ring`.
 */
const workerOnReady: WorkerHook = (wrap, xworker) => {
  const g = globalThis as unknown as { pyplayRing?: boolean };
  if (g.pyplayRing || typeof SharedArrayBuffer !== "function") return;
  g.pyplayRing = true;
  const cap = 1 << 20;
  const sab = new SharedArrayBuffer(16 + cap);
  const ctl = new Int32Array(sab, 0, 4);
  const ring = new Uint8Array(sab, 16);
  const encoder = new TextEncoder();
  let at = 0;
  const put = (bytes: Uint8Array) => {
    const first = Math.min(bytes.length, cap - at);
    ring.set(bytes.subarray(0, first), at);
    ring.set(bytes.subarray(first), 0);
    at = (at + bytes.length) % cap;
  };
  const record = (kind: number, bytes: Uint8Array) => {
    const need = 5 + bytes.length;
    for (;;) {
      const drains = Atomics.load(ctl, 2);
      if (cap - Atomics.load(ctl, 1) >= need) break;
      Atomics.wait(ctl, 2, drains, 100);
    }
    const head = new Uint8Array(5);
    head[0] = kind;
    new DataView(head.buffer).setUint32(1, bytes.length, true);
    put(head);
    put(bytes);
    if (Atomics.add(ctl, 1, need) === 0) postMessage({ pyplay: "output" });
  };
  const write = (stream: number, data: unknown) => {
    // A benchmark drops the program's output while it samples (bench.ts).
    if ((globalThis as unknown as { pyplayMuted?: boolean }).pyplayMuted) return;
    if (data instanceof Error) {
      record(2, encoder.encode(data.message.slice(-65536)));
      return;
    }
    const bytes = data instanceof Uint8Array ? data : encoder.encode(String(data) + "\n");
    for (let i = 0; i < bytes.length; i += cap / 4) record(stream, bytes.subarray(i, i + cap / 4));
  };
  xworker.sync.pyplay_ring(sab);
  // Not echoed to the worker's console as well: with developer tools open,
  // that costs about 1 ms a line.
  wrap.io.stdout = (data) => write(0, data);
  wrap.io.stderr = (data) => write(1, data);
};

/**
 * Python run in each PyScript worker before the code: input() asks the
 * playground, which shows the prompt in the Output log and asks in the line
 * under it, as for console programs (PyScript leaves input() failing in a
 * worker: Pyodide raises OSError, MicroPython waits forever). The worker
 * blocks on pyplay_input, a function of this frame that PyScript's sync
 * channel lets it call synchronously; the frame answers once the playground
 * sends the line. Only one input() waits at a time: a second one, from
 * another worker script of the page, raises RuntimeError at once. Stop
 * unloads the frame, worker and all.
 */
const workerInput = `
def _pyplay_input():
    import builtins
    from pyscript import sync

    def input(prompt=""):
        line = sync.pyplay_input(str(prompt))
        if line is False:
            raise RuntimeError("input() is already waiting for an answer in another script")
        return str(line)

    builtins.input = input

_pyplay_input()
del _pyplay_input
`;

// ---- benchmarks ------------------------------------------------------------------
// With `bench`, the page runs as usual; then PyScript's worker imports the
// harness (bench.ts) in its onAfterRunAsync hook and runs the
// playground's steps on the page's interpreter, calling this frame through
// `xworker.sync` for each step, each report and each page reset.

/** Runs in PyScript's worker (stringified, so self-contained): when the page's code starts. */
const workerRunStart: AsyncWorkerHook = async () => {
  (globalThis as unknown as { pyplayRunStart?: number }).pyplayRunStart ??= performance.now();
};

/** Runs in PyScript's worker (stringified, so self-contained): after the page's code ran. */
const workerBench: AsyncWorkerHook = async (wrap, xworker) => {
  const g = globalThis as unknown as { pyplayBench?: boolean; pyplayRunStart?: number };
  if (g.pyplayBench) return;
  const setup = xworker.sync.pyplay_bench_setup?.() as ({ module: string } & Record<string, unknown>) | null;
  if (!setup) return; // another worker script in the page body
  g.pyplayBench = true;
  const harness = (await import(setup.module)) as { runBench(...args: unknown[]): void };
  harness.runBench(wrap, xworker, { ...setup, runStart: g.pyplayRunStart ?? performance.now() });
};

/**
 * Puts the page body back as the code first found it: the page's HTML (its
 * scripts left out, so nothing runs twice) before pyplay's script, and
 * PyScript's display() targets emptied but kept (display() finds them by ID).
 */
function bodyResetter(html: string, script: HTMLScriptElement, tag: string): () => void {
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const s of template.content.querySelectorAll("script")) s.remove();
  return () => {
    for (const node of [...document.body.childNodes]) {
      if (node === script) continue;
      if (node instanceof Element && node.localName === `script-${tag}`) node.replaceChildren();
      else node.remove();
    }
    document.body.prepend(template.content.cloneNode(true));
  };
}

/** This side of one worker's ring. */
class Ring {
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly size: number;
  private at = 0;
  private timer: number | undefined;
  private readonly decoders = [new TextDecoder(), new TextDecoder()];

  constructor(
    sab: SharedArrayBuffer,
    private readonly deliver: (kind: number, text: string) => void,
  ) {
    this.ctl = new Int32Array(sab, 0, RING_HEADER / 4);
    this.bytes = new Uint8Array(sab, RING_HEADER);
    this.size = this.bytes.length;
  }

  /** The worker rang: drain soon, so that a print loop costs one drain per frame or so. */
  ring(): void {
    this.timer ??= window.setTimeout(() => {
      this.timer = undefined;
      // The playground is behind: wait for it (shown() rings again).
      if (unshown >= OUT_IN_FLIGHT) deferred.add(this);
      else this.drain();
    }, 16);
  }

  /** Copies n bytes out of shared memory (TextDecoder refuses shared views). */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const first = Math.min(n, this.size - this.at);
    out.set(this.bytes.subarray(this.at, this.at + first));
    out.set(this.bytes.subarray(0, n - first), first);
    this.at = (this.at + n) % this.size;
    return out;
  }

  drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    deferred.delete(this);
    const used = Atomics.load(this.ctl, 1);
    for (let done = 0; done < used; ) {
      const head = this.take(5);
      const len = new DataView(head.buffer).getUint32(1, true);
      const body = this.take(len);
      done += 5 + len;
      const kind = head[0];
      const text = kind === KIND_TRACEBACK ? new TextDecoder().decode(body) : this.decoders[kind].decode(body, { stream: true });
      this.deliver(kind, text);
    }
    const left = Atomics.sub(this.ctl, 1, used) - used;
    Atomics.add(this.ctl, 2, 1);
    Atomics.notify(this.ctl, 2);
    // The worker wrote more while this drained, and rang no bell for it.
    if (left > 0) this.ring();
  }
}

async function render(msg: ToPreview): Promise<void> {
  const tag = msg.interpreter === "micropython" ? "mpy" : "py";
  const interpreter = cfg.interpreters[msg.interpreter];
  if (!interpreter) throw new Error(`${msg.interpreter} is not part of this build`);
  const received = performance.now();

  document.body.innerHTML = msg.html;
  activateScripts(document.body);
  // PyScript fetches its interpreter from a CDN unless told otherwise. The
  // page-wide <py-config> serves the worker (which inherits its interpreter)
  // and any main-thread <script type="py"> in the body alike. PyScript's
  // error plugin is replaced by showError, which cleans the traceback first.
  const config = document.createElement(`${tag}-config`);
  config.textContent = JSON.stringify({ interpreter, plugins: ["!error"] });
  document.head.append(config);
  const script = document.createElement("script");
  script.type = tag;
  script.setAttribute("worker", "");
  script.textContent = msg.code;
  document.body.append(script);
  const resetBody = msg.bench ? bodyResetter(msg.html, script, tag) : null;
  // A benchmark's page is clicked by nobody.
  const early = resetBody ? null : holdEarlyClicks();

  const rings: Ring[] = []; // one per PyScript worker
  let readyAt = 0;
  let done = false;
  let failed = false;
  // The worker forwards py:progress; MicroPython on the main thread says mpy:progress.
  for (const type of new Set(["py:progress", `${tag}:progress`])) {
    addEventListener(type, (e) => {
      const detail = (e as CustomEvent).detail;
      if (typeof detail === "string" && !readyAt) post({ type: "progress", text: detail });
    });
  }
  script.addEventListener(`${tag}:ready`, () => {
    readyAt = performance.now();
    post({ type: "ready", loadMs: readyAt - received, isolated: globalThis.crossOriginIsolated === true });
  });
  script.addEventListener(`${tag}:done`, () => {
    // Everything the code printed is in the rings by now.
    for (const ring of rings) ring.drain();
    post({ type: "done", runMs: performance.now() - readyAt, error: failed });
    // From now on, errors come from event handlers and tasks.
    done = true;
    failed = false;
    // The code has run, so its handlers are attached: early clicks reach them now.
    early?.release(true);
  });
  // Errors that escape PyScript: event handlers and tasks after py:done,
  // and failures while it loads (which would otherwise never end "loading").
  const uncaught = (err: unknown) => {
    const text = cleanTraceback(err instanceof Error ? err.message : String(err));
    showError(text);
    if (!done) early?.release(false); // it will not start: nothing to wait for
    post({ type: "uncaught", text });
  };
  /**
   * The same, reported by another channel than the rings (an error event):
   * what the code printed before it failed is in a ring and goes first.
   */
  const uncaughtAfterOutput = (err: unknown) => {
    for (const ring of rings) ring.drain();
    uncaught(err);
  };
  addEventListener("error", (e) => uncaughtAfterOutput(e.error ?? e.message));
  addEventListener("unhandledrejection", (e) => uncaughtAfterOutput(e.reason));
  /** A traceback from the interpreter: the run failed, or (after py:done) a handler did. */
  const traceback = (text: string) => {
    if (done) return uncaught(text);
    failed = true;
    showError(text);
    out("stderr", text);
  };

  // Reading the config happens when core.js is evaluated, so the script (and
  // its config) must be in the document before this import.
  const core = (await import(/* @vite-ignore */ cfg.core)) as PyScriptCore;
  // Hooks are read when PyScript meets the script, after its plugins load:
  // adding them right after the import is in time.
  core.hooks.worker.onReady.add(workerOnReady);
  core.hooks.worker.codeBeforeRun.add(workerInput);
  core.hooks.worker.codeBeforeRunAsync.add(workerInput);
  if (resetBody) {
    core.hooks.worker.onBeforeRunAsync.add(workerRunStart);
    core.hooks.worker.onAfterRunAsync.add(workerBench);
  }
  core.hooks.main.onWorker.add((_, xworker) => {
    let ring: Ring | undefined;
    xworker.sync.pyplay_ring = (sab: SharedArrayBuffer) => {
      ring = new Ring(sab, (kind, text) => {
        if (kind === KIND_TRACEBACK) traceback(cleanTraceback(text));
        else out(kind === KIND_STDERR ? "stderr" : "stdout", text);
      });
      rings.push(ring);
    };
    xworker.addEventListener("message", (e) => {
      if (((e as MessageEvent).data as { pyplay?: string } | null)?.pyplay === "output") ring?.ring();
    });
    // The worker could not load its interpreter, PyScript failed in it, or
    // it reported an uncaught error (across threads the event carries a
    // message, not the error).
    xworker.onerror = ({ error, message }) => uncaughtAfterOutput(error ?? message);
    xworker.sync.pyplay_input = (prompt: string) => {
      // One input() at a time, whichever worker asks: the playground has one
      // input line, and a second resolver would strand the first caller.
      // false makes the worker's input() raise (workerInput).
      if (inputLine) return false;
      // What the program printed before asking comes first.
      for (const ring of rings) ring.drain();
      post({ type: "input", prompt: String(prompt) });
      return new Promise<string>((resolve) => (inputLine = resolve));
    };
    if (resetBody) {
      xworker.sync.pyplay_bench_setup = (): PyScriptBenchSetup & { module: string } | null => {
        // Only pyplay's script is benchmarked, not worker scripts of the page body.
        if ((script as { xworker?: unknown }).xworker !== xworker) return null;
        const url = new URL(cfg.interpreters[msg.interpreter], location.href);
        return {
          module: new URL(cfg.bench, location.href).href,
          interpreter: msg.interpreter,
          version: cfg.versions[msg.interpreter] ?? "",
          base: url.pathname.replace(/[^/]*$/, ""),
          runStart: 0, // the worker knows
        };
      };
      // The worker sleeps on this buffer until its next step is stored (bench.ts).
      let channel: { ctl: Int32Array; data: Uint8Array } | null = null;
      xworker.sync.pyplay_bench_channel = (sab: SharedArrayBuffer) => {
        channel = { ctl: new Int32Array(sab, 0, 2), data: new Uint8Array(sab, STEP_HEADER) };
      };
      const store = (request: BenchRequest | null) => {
        if (!channel) return;
        let bytes = new TextEncoder().encode(JSON.stringify(request));
        if (bytes.length > STEP_MAX) {
          uncaughtAfterOutput(`this benchmark step is ${bytes.length} bytes, over the ${STEP_MAX} a PyScript page can take`);
          bytes = new TextEncoder().encode("null");
        }
        channel.data.set(bytes);
        Atomics.store(channel.ctl, 1, bytes.length);
        Atomics.store(channel.ctl, 0, 1);
        Atomics.notify(channel.ctl, 0);
      };
      xworker.sync.pyplay_bench_status = (status: RunStatus | null, ready?: { pageRunMs: number; pythonVersion: string }) => {
        for (const ring of rings) ring.drain();
        if (ready) post({ type: "bench-ready", ...ready });
        if (status) post({ type: "bench-done", status });
        nextStep = store;
      };
      xworker.sync.pyplay_bench_event = (event: unknown) => post({ type: "bench-event", event } as FromPreview);
      xworker.sync.pyplay_bench_reset = () => resetBody();
    }
  });
  // Main-thread <script type="py"> in the page body share one interpreter:
  // wrap its io once.
  let wrapped = false;
  core.hooks.main.onReady.add((wrap) => {
    if (wrapped) return;
    wrapped = true;
    const { stdout, stderr } = wrap.io;
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    wrap.io.stdout = (data) => {
      out("stdout", textOf(data, decoders.stdout));
      stdout(data);
    };
    wrap.io.stderr = (data, ...rest) => {
      if (data instanceof Error) traceback(cleanTraceback(data.message));
      else out("stderr", textOf(data, decoders.stderr));
      stderr(data, ...rest);
    };
  });
}
