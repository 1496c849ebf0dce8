// The PyScript preview document, served from the preview origin (never the
// playground's). It waits for one page from the playground (postMessage,
// accepted from the playground's origin only), writes the user's body and a
// <script type="py"> (or "mpy") with the code, starts @pyscript/core with
// pyplay's own interpreter files, and reports PyScript's lifecycle and the
// program's output back to the playground.

import "./preview.css";
import type { FromPreview, Interpreter, ToPreview } from "./pyscript-protocol";

interface PreviewConfig {
  parent: string; // the playground's origin: the only one this page talks to
  core: string; // @pyscript/core's core.js
  version: string;
  interpreters: Record<Interpreter, string>; // → URL of pyodide.mjs / micropython.mjs
}

interface PyScriptIO {
  stdout(data: unknown): void;
  stderr(data: unknown, ...rest: unknown[]): void;
}

interface PyScriptCore {
  hooks: { main: { onReady: Set<(wrap: { io: PyScriptIO }, element: Element) => void> } };
}

const cfg = JSON.parse(document.getElementById("pyplay-preview")?.textContent ?? "{}") as PreviewConfig;

// Output is batched per task so a print loop does not flood the parent with
// one message per line; lifecycle messages flush it first to keep the order.
let queued: { stream: "stdout" | "stderr"; text: string }[] = [];
let flushTimer: number | undefined;

function flush(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  for (const o of queued) window.parent.postMessage({ type: "out", ...o } satisfies FromPreview, cfg.parent);
  queued = [];
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
addEventListener("message", (e: MessageEvent) => {
  if (e.origin !== cfg.parent || e.source !== window.parent) return;
  const msg = e.data as ToPreview;
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

async function render(msg: ToPreview): Promise<void> {
  const tag = msg.interpreter === "micropython" ? "mpy" : "py";
  const interpreter = cfg.interpreters[msg.interpreter];
  if (!interpreter) throw new Error(`${msg.interpreter} is not part of this build`);
  const received = performance.now();

  document.body.innerHTML = msg.html;
  activateScripts(document.body);
  const script = document.createElement("script");
  script.type = tag;
  // PyScript fetches its interpreter from a CDN unless told otherwise. Its
  // error plugin is replaced by showError, which cleans the traceback first.
  script.setAttribute("config", JSON.stringify({ interpreter, plugins: ["!error"] }));
  script.textContent = msg.code;
  document.body.append(script);

  let readyAt = 0;
  let failed = false;
  addEventListener(`${tag}:progress`, (e) => {
    const detail = (e as CustomEvent).detail;
    if (typeof detail === "string") post({ type: "progress", text: detail });
  });
  script.addEventListener(`${tag}:ready`, () => {
    readyAt = performance.now();
    post({ type: "ready", loadMs: readyAt - received, isolated: globalThis.crossOriginIsolated === true });
  });
  script.addEventListener(`${tag}:done`, () => {
    post({ type: "done", runMs: performance.now() - readyAt, error: failed });
    // From now on, errors come from event handlers and tasks.
    failed = false;
  });
  // Errors that escape PyScript: event handlers and tasks after py:done,
  // and failures while it loads (which would otherwise never end "loading").
  const uncaught = (err: unknown) => {
    const text = cleanTraceback(err instanceof Error ? err.message : String(err));
    showError(text);
    post({ type: "uncaught", text });
  };
  addEventListener("error", (e) => uncaught(e.error ?? e.message));
  addEventListener("unhandledrejection", (e) => uncaught(e.reason));

  // Reading the config happens when core.js is evaluated, so the script (and
  // its config) must be in the document before this import.
  const core = (await import(/* @vite-ignore */ cfg.core)) as PyScriptCore;
  // One interpreter serves every <script type="py"> of the page (the user's
  // body may hold some too): wrap its io once.
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
      const text = textOf(data, decoders.stderr);
      if (data instanceof Error) {
        failed = true;
        showError(text);
      }
      out("stderr", text);
      stderr(data, ...rest);
    };
  });
}
