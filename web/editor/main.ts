// The editor page: wires the editor, the runner (runtime worker), the Output
// log, the status line and the toolbar together.

import { bootSlot, FAST_START_KEY, fastStartEnabled } from "./boot"; // first: starts the worker at once
import "../style.css";
import { CodeBox, UPGRADE_AT_MS } from "./codebox";
import { Output } from "./output";
import { displayFrameURL } from "./richoutput";
import { SNAPSHOT_CACHE, type RuntimeInfo, type RuntimeName } from "../runtime/messages";
import { Runner, type ReadyInfo } from "../runtime/runner";
import { PyScriptMode, type PyScriptPageConfig } from "../pyscript/mode";
import { BenchPanel } from "../bench/panel";
import { Share } from "./share";
import { Formatter } from "./format";
import { Layout, popover } from "./layout";
import { el, formatMs } from "../dom";

export interface PageConfig {
  build: string;
  worker: string;
  editor: string;
  runtimes: Record<string, RuntimeInfo>;
  runtime: string;
  snippet?: { id: string; runtime: string; title: string };
  examples: { name: string; title: string; runtime: string; code: string; html?: string }[];
  pyscript?: PyScriptPageConfig;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function readConfig(): PageConfig {
  const cfg = JSON.parse($<HTMLScriptElement>("pyplay-config").textContent ?? "{}") as PageConfig;
  const ps = cfg.pyscript;
  if (ps && !ps.preview && ps.previewPort) {
    // The preview is on this page's host, on its own port: the browser,
    // not the request's Host header, knows which host that is.
    const url = new URL("/preview", location.href);
    url.port = ps.previewPort;
    ps.preview = url.href;
  }
  return cfg;
}

function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const runtimeLabels: Record<string, string> = { pyodide: "Pyodide", micropython: "MicroPython", pyscript: "PyScript" };

class Page {
  readonly cfg = readConfig();
  /** The page body the server rendered (a restored draft may replace cfg's). */
  private readonly openedHTML = this.cfg.pyscript?.html ?? "";
  /** Milestones in ms since navigation (benchmarks read these). */
  readonly marks: {
    ready?: number;
    firstOutput?: number;
    stopRequested?: number;
    stopped?: number;
    editor?: number; // CodeMirror took over from the textarea
  } = {};
  readonly status = $<HTMLElement>("status");
  readonly progress = $<HTMLProgressElement>("progress");
  readonly output = new Output($("output"), {
    goToLine: (line) => this.editor.goToLine(line),
    displayFrame: displayFrameURL(this.cfg.pyscript?.preview), // HTML output (richoutput.ts)
  });
  readonly runBtn = $<HTMLButtonElement>("run");
  readonly stopBtn = $<HTMLButtonElement>("stop");
  readonly restartBtn = $<HTMLButtonElement>("restart");
  readonly runtimeSel = $<HTMLSelectElement>("runtime");
  readonly inputForm = $<HTMLFormElement>("input-form");
  readonly inputField = $<HTMLInputElement>("input-field");
  readonly editor: CodeBox;
  readonly runner: Runner;
  readonly pyscript: PyScriptMode;
  readonly bench: BenchPanel;
  readonly share: Share;
  readonly formatter: Formatter;
  readonly layout: Layout;
  private readonly note = $<HTMLElement>("editor-note");
  private noteTimer = 0;
  /** The code the note's action (Undo) was offered for; null when it offers none. */
  private noteCode: string | null = null;
  private loadStarted = performance.now();

  constructor() {
    // Before the editor: a draft of unsaved work goes into the textarea it starts from.
    this.share = new Share(this.cfg.snippet, this.cfg.pyscript?.html ?? "", this.cfg.pyscript?.interpreter ?? "", {
      code: () => this.editor.code,
      setCode: (code) => (this.editor.code = code),
      html: () => this.pyscript?.html.value ?? null,
      setHTML: (html) => {
        if (this.pyscript) this.pyscript.html.value = html;
        else if (this.cfg.pyscript) this.cfg.pyscript.html = html;
      },
      interpreter: () => this.pyscript?.interpreter ?? null,
      setInterpreter: (interpreter) => {
        if (this.pyscript) this.pyscript.interpreter = interpreter;
        else if (this.cfg.pyscript) this.cfg.pyscript.interpreter = interpreter;
      },
      shared: (snippet) => (this.cfg.snippet = snippet),
    });
    this.editor = new CodeBox($<HTMLTextAreaElement>("source"), this.cfg.editor, {
      onRun: () => this.run(),
      onChange: () => {
        this.share.edited();
        this.bench?.codeChanged(); // offers the shared version to compare with (A/B)
        // An Undo offered for other code would throw the newer edits away.
        if (this.noteCode !== null && this.editor.code !== this.noteCode) this.hideNote();
      },
      hintId: "editor-hint",
    });
    this.layout = new Layout($("split"), $("splitter"), () => this.editor.measure());
    void this.editor.upgraded.then((ok) => {
      if (ok) this.marks.editor = performance.now();
    });
    const initial = this.runtimeSel.value === "micropython" ? "micropython" : "pyodide";
    this.runner = new Runner(this.cfg.worker, this.cfg.runtimes, this.cfg.build, initial, {
      progress: (phase, loaded, total) => this.onProgress(phase, loaded, total),
      ready: (info) => this.onReady(info),
      output: (chunks) => {
        this.marks.firstOutput ??= performance.now();
        for (const [stream, text] of chunks) this.output.append(stream, text);
        return this.output.rendered(); // the worker waits for this (backpressure)
      },
      turtle: (ops) => this.output.drawTurtle(ops),
      display: (item) => this.output.display(item),
      input: (prompt) => this.askInput(prompt),
      done: (r) => this.onDone(r.status, r.ms, r.restarted),
      fatal: (message) => this.setStatus("error", `Error: ${message}`),
      packages: (text) => this.onPackages(text),
    }, bootSlot);
    this.runner.snapshotEnabled = fastStartEnabled();
    this.pyscript = new PyScriptMode(this.cfg.pyscript, {
      output: this.output,
      runtimes: this.cfg.runtimes,
      setStatus: (state, text) => this.setStatus(state, text),
      runButton: this.runBtn,
      stopButton: this.stopBtn,
      runtimeSelect: this.runtimeSel,
      code: () => this.editor.code,
      // A shared link never runs code by itself (design.md), PyScript pages included.
      autorun: false,
      askInput: (prompt) => this.askInput(prompt),
      endInput: () => (this.inputForm.hidden = true),
      examples: this.cfg.examples,
      setCode: (code) => (this.editor.code = code),
      failed: () => this.markError(),
    });
    this.bench = new BenchPanel({
      worker: this.cfg.worker,
      build: this.cfg.build,
      runtimes: this.cfg.runtimes,
      snippet: this.cfg.snippet,
      code: () => this.editor.code,
      runtime: () => this.runtimeSel.value,
      pyscript: {
        preview: this.cfg.pyscript?.preview ?? "",
        pane: () => this.pyscript.benchFrames,
        html: () => this.pyscript.html.value,
        openedHTML: this.openedHTML,
      },
      setStatus: (state, text) => this.setStatus(state, text),
      busy: (on) => {
        this.runner.holdSpare(on);
        // Nothing may switch the mode under a benchmark: a new runtime or
        // interpreter (or Revert to shared, which sets both) would start
        // another one, or, in PyScript mode, re-render the preview pane
        // its pages load in.
        this.runtimeSel.disabled = on;
        this.share.hold(on);
        if (this.selectedRuntime() === "pyscript") this.pyscript.setBenchmarking(on);
        this.runBtn.disabled = on;
        this.stopBtn.disabled = !on;
      },
    });
    this.formatter = new Formatter(this.runner, this.cfg);
    this.bind();
    this.checkIsolation();
    this.startRuntime();
    window.setTimeout(() => this.upgradeEditorWhenIdle(), Math.max(0, UPGRADE_AT_MS - performance.now()));
  }

  private bind(): void {
    this.runBtn.addEventListener("click", () => this.run());
    this.stopBtn.addEventListener("click", () => this.stop());
    this.restartBtn.addEventListener("click", () => {
      this.output.info("Restarting the interpreter…");
      this.startRuntime();
    });
    $("clear").addEventListener("click", () => this.output.clear());
    const fast = $<HTMLInputElement>("fast-start");
    fast.checked = this.runner.snapshotEnabled;
    fast.addEventListener("change", () => {
      this.runner.snapshotEnabled = fast.checked;
      localStorage.setItem(FAST_START_KEY, fast.checked ? "on" : "off");
    });
    $("clear-cache").addEventListener("click", async () => {
      const removed = await caches.delete(SNAPSHOT_CACHE).catch(() => false);
      this.output.info(
        removed
          ? "Cleared the cached runtime snapshot: the next start is a normal one, which saves a fresh snapshot."
          : "There was no cached runtime snapshot to clear.",
      );
    });
    this.runtimeSel.addEventListener("change", () => {
      this.startRuntime();
      this.showRuntimeInURL();
    });
    this.inputForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const line = this.inputField.value;
      this.inputField.value = "";
      this.inputForm.hidden = true;
      this.output.append("stdin", line + "\n");
      if (this.pyscript.waitingForInput) this.pyscript.answer(line);
      else this.runner.answer(line);
      this.editor.focus();
    });
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        this.run();
      } else if (e.key === "Escape" && (this.runner.isRunning || this.pyscript.isRunning)) {
        this.stop();
      } else if (e.altKey && e.shiftKey && !e.ctrlKey && !e.metaKey && e.code === "KeyF") {
        e.preventDefault();
        void this.format();
      }
    });
    $("format").addEventListener("click", () => void this.format());
    $<HTMLSelectElement>("examples").addEventListener("change", (e) => {
      const sel = e.target as HTMLSelectElement;
      const ex = this.cfg.examples.find((x) => x.name === sel.value);
      sel.value = "";
      if (!ex) return;
      const before = this.editor.code;
      const beforeHtml = this.pyscript.html.value;
      const beforeRuntime = this.runtimeSel.value;
      if (ex.runtime === "pyscript") this.pyscript.html.value = ex.html ?? "";
      this.editor.code = ex.code;
      // A PyScript example is a page: it opens in PyScript mode; a console one leaves it.
      if ((ex.runtime === "pyscript") !== (this.selectedRuntime() === "pyscript")) {
        this.runtimeSel.value = ex.runtime === "pyscript" ? "pyscript" : "pyodide";
        this.runtimeSel.dispatchEvent(new Event("change"));
      }
      this.editor.focus();
      if (before !== ex.code) {
        this.showNote("info", `Example “${ex.title}” loaded.`, {
          label: "Undo",
          run: () => {
            this.editor.code = before;
            this.pyscript.html.value = beforeHtml;
            if (this.runtimeSel.value !== beforeRuntime) {
              this.runtimeSel.value = beforeRuntime;
              this.runtimeSel.dispatchEvent(new Event("change"));
            }
            this.editor.focus();
          },
        });
      }
    });
    // The hint says how to leave the editor while it has the focus.
    const editorBox = $("editor");
    const hint = $("editor-hint");
    editorBox.addEventListener("focusin", () => (hint.hidden = false));
    editorBox.addEventListener("focusout", (e) => {
      if (!editorBox.contains(e.relatedTarget as Node | null)) hint.hidden = true;
    });
    popover($<HTMLDetailsElement>("settings"), $("settings-body"));
    this.layout.bindFontControls($<HTMLButtonElement>("font-smaller"), $<HTMLButtonElement>("font-larger"), $<HTMLOutputElement>("font-size"));
  }

  /** The address names the runtime (?runtime=…), so that a reload or a copied link keeps it. */
  private showRuntimeInURL(): void {
    const url = new URL(location.href);
    const shared = this.cfg.snippet?.runtime;
    const rt = this.runtimeSel.value;
    if (rt === (shared ?? "pyodide")) url.searchParams.delete("runtime");
    else url.searchParams.set("runtime", rt);
    if (url.href !== location.href) history.replaceState(history.state, "", url);
  }

  /**
   * A short note over the editor's bottom edge, with an optional action
   * (Undo): it stays while the pointer or the focus is on it, then goes.
   */
  showNote(kind: "info" | "error", text: string, action?: { label: string; run(): void }): void {
    clearTimeout(this.noteTimer);
    const parts: (Node | string)[] = [el("span", {}, text)];
    if (action) {
      const b = el("button", { type: "button", className: "small" }, action.label);
      b.addEventListener("click", () => {
        this.hideNote();
        action.run();
      });
      parts.push(b);
    }
    this.noteCode = action ? this.editor.code : null;
    this.note.dataset.kind = kind;
    this.note.replaceChildren(...parts);
    this.note.hidden = false;
    const hide = () => {
      if (this.note.matches(":hover, :focus-within")) this.noteTimer = window.setTimeout(hide, 2000);
      else this.hideNote();
    };
    this.noteTimer = window.setTimeout(hide, kind === "error" ? 12000 : 8000);
  }

  private hideNote(): void {
    clearTimeout(this.noteTimer);
    this.noteCode = null;
    if (this.note.contains(document.activeElement)) this.editor.focus();
    this.note.hidden = true;
  }

  /** Format: the code's indentation and spacing, in a Pyodide interpreter (format.ts). */
  async format(): Promise<void> {
    const rt = this.selectedRuntime();
    if (rt === "pyscript" && $("editor").hidden) {
      this.showNote("error", "Format works on the Python code: switch to the main.py tab first.");
      return;
    }
    const code = this.editor.code;
    const r = await this.formatter.format(code, rt, () => this.showNote("info", "Starting Pyodide to format the code…"));
    if (r.code === null) {
      this.showNote("error", `Could not format: ${r.error ?? "unknown error"}`);
      return;
    }
    if (this.editor.code !== code) return; // edited meanwhile: the result is stale
    if (r.code === code) {
      this.showNote("info", "The code is already formatted.");
      return;
    }
    this.editor.replace(r.code);
    this.showNote("info", "Formatted.", { label: "Undo", run: () => this.editor.replace(code) });
  }

  private checkIsolation(): void {
    if (this.runner.isolated) return;
    const n = $<HTMLElement>("notice");
    n.hidden = false;
    n.textContent =
      "This page is not cross-origin isolated, so shared memory is off: Stop restarts the interpreter " +
      "instead of interrupting it, input() is unavailable, and timers are coarse (100 µs).";
  }

  selectedRuntime(): RuntimeName | "pyscript" {
    return this.runtimeSel.value as RuntimeName | "pyscript";
  }

  startRuntime(): void {
    const rt = this.selectedRuntime();
    if (rt === "pyscript") {
      this.progress.hidden = true;
      this.pyscript.activate();
      void this.editor.upgrade(); // no runtime worker to make way for
      return;
    }
    this.pyscript.deactivate();
    this.loadStarted = performance.now();
    const info = this.cfg.runtimes[rt];
    this.setStatus("loading", `Loading ${runtimeLabels[rt]} ${info?.version ?? ""}…`);
    this.progress.hidden = false;
    this.progress.removeAttribute("value");
    this.runBtn.disabled = false;
    this.stopBtn.disabled = true;
    this.runner.start(rt);
  }

  private onProgress(phase: "download" | "init", loaded: number, total: number): void {
    if (this.selectedRuntime() === "pyscript") return;
    const label = runtimeLabels[this.runner.runtimeName];
    if (phase === "download" && total > 0) {
      this.progress.max = total;
      this.progress.value = loaded;
      const pct = Math.floor((100 * loaded) / total);
      this.setStatus("loading", `Loading ${label}: downloading ${formatMB(loaded)} of ${formatMB(total)} (${pct}%)`);
    } else {
      this.progress.removeAttribute("value");
      this.setStatus("loading", `Loading ${label}: compiling and starting the interpreter…`);
    }
  }

  /**
   * Loads CodeMirror when the main thread is idle, unless a program is
   * running or waiting for the runtime: its output goes first (onDone comes
   * back here). Called on ready, after runs and UPGRADE_AT_MS after
   * navigation (codebox.ts).
   */
  private upgradeEditorWhenIdle(): void {
    if (this.editor.isCodeMirror || this.runner.isRunning || this.runner.hasQueuedRun) return;
    if ("requestIdleCallback" in window) window.requestIdleCallback(() => void this.editor.upgrade(), { timeout: 200 });
    else void this.editor.upgrade();
  }

  private onReady(r: ReadyInfo): void {
    if (this.selectedRuntime() === "pyscript") return;
    this.marks.ready ??= performance.now();
    this.upgradeEditorWhenIdle();
    this.progress.hidden = true;
    this.runBtn.disabled = this.runner.isRunning;
    const what =
      r.runtime === "pyodide" ? `Pyodide ${r.version} (Python ${r.pythonVersion})` : `MicroPython ${r.pythonVersion}`;
    if (r.spare) {
      this.setStatus("ready", `Ready: ${what}, a fresh interpreter (pre-started in the background)`);
      return;
    }
    const since = performance.now() - this.loadStarted;
    const how: Record<string, string> = {
      snapshot: "fast start from this browser's snapshot",
      saved: "normal start; snapshot saved for a fast start next time",
      normal: this.runner.snapshotEnabled
        ? "normal start; a snapshot for a fast start next time is being made in the background"
        : "normal start (fast start is off)",
      repaired: "normal start: the cached snapshot was unusable and is being replaced",
    };
    const init = r.path === "snapshot" ? "restore" : "compile + init";
    this.setStatus(
      "ready",
      `Ready: ${what} in ${formatMs(since)} — ${how[r.path]} (download ${formatMs(r.timings.download)}, ` +
        `${init} ${formatMs(r.timings.init)})`,
    );
    this.status.dataset.path = r.path;
    if (r.note) console.info("pyplay:", r.note);
  }

  run(): void {
    if (this.bench.isRunning) return;
    this.editor.markError(null);
    if (this.selectedRuntime() === "pyscript") {
      this.output.clear();
      this.pyscript.run(this.editor.code);
      return;
    }
    if (this.runner.isRunning) return;
    this.output.clear();
    const ready = this.runner.isReady;
    if (!this.runner.run(this.editor.code)) return;
    this.runBtn.disabled = true;
    this.stopBtn.disabled = false;
    if (ready) this.setStatus("running", "Running…");
    else this.output.info("The program will run as soon as the runtime has started.");
  }

  stop(): void {
    if (this.pyscript.isRunning) return this.pyscript.stop();
    if (this.bench.isRunning) return this.bench.stop();
    if (!this.runner.isRunning) return;
    this.marks.stopRequested = performance.now();
    this.setStatus("stopping", "Stopping…");
    this.runner.stop();
  }

  private askInput(prompt: string): void {
    this.output.flush(); // the prompt and what came before it first
    $<HTMLElement>("input-label").textContent = prompt.trim() || "Input";
    this.inputForm.hidden = false;
    this.inputField.focus();
    this.setStatus("input", "Waiting for input…");
  }

  private onDone(status: string, ms: number, restarted: boolean): void {
    if (status === "interrupted") this.marks.stopped = performance.now();
    this.output.flush(); // the whole output is on screen when the status says done
    this.output.finishDrawing();
    if (status === "error") this.markError();
    this.upgradeEditorWhenIdle();
    this.inputForm.hidden = true;
    this.stopBtn.disabled = true;
    this.runBtn.disabled = false;
    if (restarted) {
      this.output.append("stderr", "\nKeyboardInterrupt\n");
      this.output.info("The program did not stop by itself, so the interpreter was restarted.");
      this.setStatus("stopped", "Stopped; restarting the interpreter…");
      return;
    }
    if (status === "ok") this.setStatus("done", `Finished in ${formatMs(ms)}`);
    else if (status === "interrupted") this.setStatus("stopped", `Stopped (KeyboardInterrupt) after ${formatMs(ms)}`);
    else this.setStatus("error", `Error: see the traceback (after ${formatMs(ms)})`);
  }

  /** Marks the line of main.py the traceback in the Output log ends in. */
  private markError(): void {
    const line = this.output.errorLine();
    if (line !== null) this.editor.markError(line);
  }

  private beforePackages: [string, string] | null = null;

  /** Packages a program imports are loading (runtime/packages.ts): the status says so, then goes back. */
  private onPackages(text: string | null): void {
    if (text !== null) {
      this.beforePackages ??= [this.status.dataset.state ?? "running", this.status.textContent ?? ""];
      this.setStatus("loading", text);
    } else if (this.beforePackages) {
      this.setStatus(...this.beforePackages);
      this.beforePackages = null;
    }
  }

  setStatus(state: string, text: string): void {
    this.status.dataset.state = state;
    this.status.textContent = text;
    this.status.title = text; // the line may be cut short on narrow screens
  }
}

declare global {
  interface Window {
    pyplay?: Page;
  }
}

window.pyplay = new Page();
