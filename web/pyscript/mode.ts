// PyScript mode of the editor page: a "page.html" tab for the page body, an
// Interpreter select, and a preview pane whose <iframe> loads the preview
// document from the preview origin (never the playground's, so user pages
// cannot read its storage or act as the visitor). Run replaces the frame
// with a fresh one, sends it the page by postMessage, and turns the
// lifecycle it reports back (py:progress, py:ready, py:done, output,
// errors) into the Output log and the status line.

import "./mode.css";
import type { Output } from "../editor/output";
import type { RuntimeInfo } from "../runtime/messages";
import type { FromPreview, InputAnswer, Interpreter, OutputShown, ToPreview } from "./messages";
import { el, formatMs } from "../dom";

/** The PyScript part of the page config (server/preview.go). */
export interface PyScriptPageConfig {
  preview: string; // the preview document's URL; "" when previews are off
  previewPort?: string; // the server's answer when it does not know the preview's public URL: this host, that port
  html: string; // the snippet's page body
  interpreter: string; // the snippet's interpreter; "" for a new program
}

/** What PyScript mode needs from the editor page. */
export interface PyScriptHost {
  output: Output;
  runtimes: Record<string, RuntimeInfo>;
  setStatus(state: string, text: string): void;
  runButton: HTMLButtonElement;
  stopButton: HTMLButtonElement;
  runtimeSelect: HTMLSelectElement;
  code(): string;
  /** Render the page as soon as PyScript mode first shows (shared snippets). */
  autorun: boolean;
  /** input() waits: ask in the line under the Output log. */
  askInput(prompt: string): void;
  /** The page no longer waits for input (it was unloaded). */
  endInput(): void;
  /** The editor's examples: the first PyScript one is the starter page, the first other one the console starter. */
  examples: { runtime: string; code: string; html?: string }[];
  setCode(code: string): void;
  /** The page's code failed: its traceback is in the Output log. */
  failed(): void;
}

const interpreterLabels: Record<Interpreter, string> = { pyodide: "Pyodide", micropython: "MicroPython" };

/** The frame's sandbox: scripts and its own origin (PyScript needs IndexedDB), nothing else. */
export const PREVIEW_SANDBOX = "allow-scripts allow-same-origin allow-modals";

export class PyScriptMode {
  readonly interpreterSelect: HTMLSelectElement;
  readonly html: HTMLTextAreaElement;
  private readonly interpreterField: HTMLLabelElement;
  private readonly tabs: HTMLElement;
  private readonly codeTab: HTMLButtonElement;
  private readonly htmlTab: HTMLButtonElement;
  private readonly pane: HTMLElement;
  /** What Run shows in the pane (the frame or a placeholder): the only part of the pane this class changes. */
  private readonly view: HTMLElement;
  /** A benchmark's page frames (lane.ts), beside the view: this class never touches them. */
  readonly benchFrames: HTMLElement;
  private readonly previewURL: URL | null;
  private frame: HTMLIFrameElement | null = null;
  private page: ToPreview | null = null;
  private startedAt = 0;
  private loadMs = 0;
  private running = false;
  private active = false;
  private waiting = false;
  private benchmarking = false;

  constructor(
    cfg: PyScriptPageConfig | undefined,
    private readonly host: PyScriptHost,
  ) {
    this.previewURL = cfg?.preview ? new URL(cfg.preview, location.href) : null;

    this.interpreterSelect = el(
      "select",
      { id: "interpreter", name: "interpreter" },
      ...(["pyodide", "micropython"] as const).map((v) => el("option", { value: v }, interpreterLabels[v])),
    );
    if (cfg?.interpreter === "micropython") this.interpreterSelect.value = "micropython";
    this.interpreterField = el("label", { className: "field", id: "interpreter-field", hidden: true }, "Interpreter ", this.interpreterSelect);
    host.runtimeSelect.closest("label")?.after(this.interpreterField);
    this.interpreterSelect.addEventListener("change", () => this.activate());

    // Two tabs over the editor: the program and the page body.
    this.codeTab = el("button", { type: "button", id: "tab-code", className: "tab" }, "main.py");
    this.htmlTab = el("button", { type: "button", id: "tab-html", className: "tab" }, "page.html");
    this.tabs = el("div", { className: "tabs", hidden: true }, this.codeTab, this.htmlTab);
    this.tabs.setAttribute("role", "tablist");
    this.tabs.setAttribute("aria-label", "Files");
    const editorPane = document.querySelector(".editor-pane");
    editorPane?.querySelector(".pane-head")?.prepend(this.tabs);
    this.html = el("textarea", { id: "page-html", spellcheck: false, hidden: true, value: cfg?.html ?? "" });
    this.html.setAttribute("aria-label", "Page HTML");
    this.html.placeholder = '<!-- The page body, e.g. <button id="go">Go</button>; the code runs after it. -->';
    editorPane?.append(this.html);
    for (const [tab, panel] of [
      [this.codeTab, document.getElementById("editor")],
      [this.htmlTab, this.html],
    ] as const) {
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel?.id ?? "");
      tab.addEventListener("click", () => this.showTab(tab === this.htmlTab));
    }
    this.showTab(false);

    this.pane = el("div", { id: "preview-pane", className: "preview-pane", hidden: true });
    this.pane.setAttribute("role", "region");
    this.pane.setAttribute("aria-label", "Preview");
    this.view = el("div", { className: "preview-view" });
    this.benchFrames = el("div", { className: "preview-bench" });
    this.pane.append(this.view, this.benchFrames);
    document.getElementById("output")?.before(this.pane);
    addEventListener("message", (e) => this.onMessage(e));
  }

  get interpreter(): Interpreter {
    return this.interpreterSelect.value === "micropython" ? "micropython" : "pyodide";
  }

  /** Chooses the interpreter (a restored draft, Revert to shared). */
  set interpreter(i: string) {
    const value = i === "micropython" ? "micropython" : "pyodide";
    if (this.interpreterSelect.value === value) return;
    this.interpreterSelect.value = value;
    if (this.active) this.activate(); // the status names the interpreter
  }

  /** Whether the page's input() waits for a line (answer() sends it). */
  get waitingForInput(): boolean {
    return this.waiting;
  }

  /** Sends the line typed for the page's pending input(). */
  answer(line: string): void {
    if (!this.waiting || !this.frame) return;
    this.waiting = false;
    this.frame.contentWindow?.postMessage({ type: "input-answer", line } satisfies InputAnswer, this.previewOrigin);
    if (this.running) this.host.setStatus("running", "Running…");
  }

  /** Whether a page is loading or its top-level code is running. */
  get isRunning(): boolean {
    return this.running;
  }

  /** The preview's origin, or "" when previews are off. */
  get previewOrigin(): string {
    return this.previewURL?.origin ?? "";
  }

  private showTab(html: boolean): void {
    this.codeTab.setAttribute("aria-selected", String(!html));
    this.htmlTab.setAttribute("aria-selected", String(html));
    const editor = document.getElementById("editor");
    if (editor) editor.hidden = html;
    this.html.hidden = !html;
    if (html) this.html.focus();
  }

  /** The starter page, and the console starter it stands in for (null when the examples have none). */
  private starters(): { page: { code: string; html: string }; console: string } | null {
    const page = this.host.examples.find((e) => e.runtime === "pyscript");
    const plain = this.host.examples.find((e) => e.runtime !== "pyscript");
    return page && plain ? { page: { code: page.code, html: page.html ?? "" }, console: plain.code } : null;
  }

  /**
   * Entering PyScript mode with the console starter untouched (or no code
   * at all) and no page: there is nothing of the visitor's to keep, so the
   * starter page takes its place. Leaving the mode undoes that while the
   * starter page is untouched.
   */
  private swapStarter(entering: boolean): void {
    const st = this.starters();
    if (!st) return;
    const same = (a: string, b: string) => a.trim() === b.trim();
    const code = this.host.code();
    if (entering && (same(code, st.console) || same(code, "")) && same(this.html.value, "")) {
      this.host.setCode(st.page.code);
      this.html.value = st.page.html;
      this.host.output.info("PyScript mode: main.py and page.html now hold a starter page (Run shows it; Examples has more).");
    } else if (!entering && same(code, st.page.code) && same(this.html.value, st.page.html)) {
      this.host.setCode(st.console);
      this.html.value = "";
    }
  }

  /** Shows PyScript mode (tabs, interpreter, preview pane) and says it is ready. */
  activate(): void {
    const first = !this.active;
    this.active = true;
    if (first) this.swapStarter(true);
    document.body.classList.add("pyscript-mode");
    this.interpreterField.hidden = false;
    this.tabs.hidden = false;
    this.pane.hidden = false;
    this.setTitleHidden(true);
    // A benchmark owns Run, Stop and the status until it ends (setBenchmarking).
    if (this.benchmarking) return;
    this.host.stopButton.disabled = !this.running;
    if (!this.previewURL) {
      this.host.runButton.disabled = true;
      this.host.setStatus("error", "PyScript previews are off: this server has no preview listener");
      return;
    }
    this.host.runButton.disabled = false;
    if (!this.frame) this.placeholder("Run renders the page here.");
    if (!this.running) this.host.setStatus("ready", `Ready: ${this.describe()} — Run renders the page in the preview`);
    // A shared PyScript snippet opens showing its page: it runs on the
    // preview origin, where it can do no more harm than when Run is pressed.
    if (first && this.host.autorun) this.run(this.host.code());
  }

  /**
   * A benchmark starts (true) or ends (false): its pages load in
   * benchFrames, so the preview is unloaded and hidden, and the interpreter
   * is fixed (choosing one would activate() the mode under the benchmark).
   * Afterwards the mode is active again, ready for Run.
   */
  setBenchmarking(on: boolean): void {
    this.benchmarking = on;
    this.interpreterSelect.disabled = on;
    this.view.hidden = on;
    if (on) {
      this.unload();
      this.placeholder("Run renders the page here.");
    } else if (this.active) this.activate();
  }

  /** Leaves PyScript mode, unloading the preview. */
  deactivate(): void {
    if (this.active) this.swapStarter(false);
    this.active = false;
    this.unload();
    document.body.classList.remove("pyscript-mode");
    this.interpreterField.hidden = true;
    this.tabs.hidden = true;
    this.pane.hidden = true;
    this.setTitleHidden(false);
    this.showTab(false);
  }

  /** The "main.py" pane title would repeat the first tab's name. */
  private setTitleHidden(hidden: boolean): void {
    const title = document.getElementById("snippet-title");
    if (title && title.textContent === "main.py") title.hidden = hidden;
  }

  private describe(): string {
    const ps = this.host.runtimes["pyscript"]?.version ?? "";
    const i = this.interpreter;
    return `PyScript ${ps} with ${interpreterLabels[i]} ${this.host.runtimes[i]?.version ?? ""}`.trim();
  }

  /** Renders code (and the page body) in a fresh preview frame. */
  run(code: string): void {
    if (!this.previewURL) return;
    this.unload();
    const url = new URL(this.previewURL);
    url.searchParams.set("parent", location.origin);
    const frame = el("iframe", { title: "PyScript preview", src: url.href });
    frame.setAttribute("sandbox", PREVIEW_SANDBOX);
    frame.setAttribute("allow", "cross-origin-isolated");
    this.frame = frame;
    this.page = { type: "run", interpreter: this.interpreter, code, html: this.html.value };
    this.startedAt = performance.now();
    this.loadMs = 0;
    this.running = true;
    this.view.replaceChildren(frame);
    this.host.stopButton.disabled = false;
    this.host.setStatus("loading", `Loading ${this.describe()}…`);
  }

  /** Unloads the preview (a page's code cannot be interrupted otherwise). */
  stop(): void {
    if (!this.frame) return;
    const wasRunning = this.running;
    this.unload();
    this.placeholder("Stopped: the page was unloaded.");
    this.host.setStatus("stopped", wasRunning ? "Stopped: the preview was unloaded" : "Preview unloaded");
  }

  private unload(): void {
    if (this.waiting) this.host.endInput();
    this.waiting = false;
    this.frame?.remove();
    this.frame = null;
    this.page = null;
    this.running = false;
    this.host.stopButton.disabled = true;
  }

  private placeholder(text: string): void {
    this.view.replaceChildren(el("p", { className: "preview-placeholder" }, text));
  }

  private onMessage(e: MessageEvent): void {
    // Only the current preview frame, from the preview origin, is heard.
    if (!this.frame || e.source !== this.frame.contentWindow || e.origin !== this.previewOrigin) return;
    const msg = e.data as FromPreview;
    const out = this.host.output;
    switch (msg?.type) {
      case "hello":
        if (this.page) this.frame.contentWindow?.postMessage(this.page, this.previewOrigin);
        this.page = null;
        break;
      case "progress":
        if (this.running) this.host.setStatus("loading", `Loading ${this.describe()}: ${msg.text}…`);
        break;
      case "ready":
        this.loadMs = performance.now() - this.startedAt;
        this.host.setStatus("running", `Running… (page loaded in ${formatMs(this.loadMs)})`);
        break;
      case "out": {
        out.append(msg.stream === "stderr" ? "stderr" : "stdout", String(msg.text));
        // The preview sends more once this is on screen (backpressure, preview.ts).
        const frame = this.frame;
        void out.rendered().then(() => frame.contentWindow?.postMessage({ type: "out-shown" } satisfies OutputShown, this.previewOrigin));
        break;
      }
      case "done": {
        this.running = false;
        this.host.stopButton.disabled = true;
        out.flush();
        if (msg.error) this.host.failed();
        const run = formatMs(msg.runMs);
        const load = `page loaded in ${formatMs(this.loadMs)}`;
        if (msg.error) this.host.setStatus("error", `Error: see the traceback (after ${run}; ${load})`);
        else this.host.setStatus("done", `Finished in ${run} (${load})`);
        break;
      }
      case "input":
        // The prompt goes to the log, as a console program's does; the line under it asks.
        out.append("stdout", String(msg.prompt));
        out.flush();
        this.waiting = true;
        this.host.askInput(String(msg.prompt));
        break;
      case "uncaught":
        out.append("stderr", String(msg.text));
        out.flush();
        this.host.failed();
        if (this.loadMs) this.host.setStatus("error", "Error in the page: see the traceback");
        else this.host.setStatus("error", `Error while loading the page: ${String(msg.text).trim().split("\n").pop()}`);
        break;
      case "fatal":
        this.running = false;
        this.host.stopButton.disabled = true;
        out.append("stderr", `PyScript could not start: ${msg.message}\n`);
        this.host.setStatus("error", `Error: ${msg.message}`);
        break;
    }
  }
}
