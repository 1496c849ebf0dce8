// The embed page (/embed/{id}): a snippet's code, Run, Stop and its output,
// compact enough for another site's <iframe> (a blog, a course page). It
// is the editor page's parts without sharing, drafts, benchmarks or
// settings: the same runtime worker (Runner), Output log and code box,
// CodeMirror after the runtime has started. PyScript pages run on the
// preview origin, which only the playground may frame, so they open in
// pyplay instead.

import "../style.css";
import "./embed.css";
import { CodeBox } from "./codebox";
import { Output } from "./output";
import type { RuntimeInfo, RuntimeName } from "../runtime/messages";
import { Runner } from "../runtime/runner";
import { formatMs } from "../dom";
import type { SnippetRef } from "./share";

interface EmbedConfig {
  build: string;
  worker: string;
  editor: string;
  runtimes: Record<string, RuntimeInfo>;
  snippet: SnippetRef;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const labels: Record<string, string> = { pyodide: "Pyodide", micropython: "MicroPython" };

class Embed {
  readonly cfg = JSON.parse($("pyplay-config").textContent ?? "{}") as EmbedConfig;
  readonly output = new Output($("output"));
  readonly status = $("status");
  readonly progress = $<HTMLProgressElement>("progress");
  readonly runBtn = $<HTMLButtonElement>("run");
  readonly stopBtn = $<HTMLButtonElement>("stop");
  readonly inputForm = $<HTMLFormElement>("input-form");
  readonly inputField = $<HTMLInputElement>("input-field");
  readonly editor: CodeBox;
  readonly runner: Runner | null = null;

  constructor() {
    this.editor = new CodeBox($<HTMLTextAreaElement>("source"), this.cfg.editor, {
      onRun: () => this.run(),
      onChange: () => {},
      hintId: "editor-hint",
    });
    const hint = $("editor-hint");
    const box = $("editor");
    box.addEventListener("focusin", () => (hint.hidden = false));
    box.addEventListener("focusout", (e) => {
      if (!box.contains(e.relatedTarget as Node | null)) hint.hidden = true;
    });
    const rt = this.cfg.snippet.runtime;
    if (rt !== "pyodide" && rt !== "micropython") {
      this.progress.hidden = true;
      this.setStatus("ready", "This snippet is a PyScript page: “Open in pyplay” runs it.");
      void this.editor.upgrade();
      return;
    }
    this.runner = new Runner(this.cfg.worker, this.cfg.runtimes, this.cfg.build, rt as RuntimeName, {
      progress: (phase, loaded, total) => {
        if (phase === "download" && total > 0) {
          this.progress.max = total;
          this.progress.value = loaded;
        } else this.progress.removeAttribute("value");
      },
      ready: (r) => {
        this.progress.hidden = true;
        this.runBtn.disabled = this.runner?.isRunning ?? false;
        if (!this.runner?.isRunning) this.setStatus("ready", `Ready: ${labels[r.runtime]} (Python ${r.pythonVersion})`);
        void this.editor.upgrade();
      },
      output: (chunks) => {
        for (const [stream, text] of chunks) this.output.append(stream, text);
      },
      turtle: (ops) => this.output.drawTurtle(ops),
      // HTML output shows as source: the preview origin may be framed only by the playground itself.
      display: (item) => this.output.display(item),
      input: (prompt) => {
        this.output.flush(); // the prompt and what came before it first
        $("input-label").textContent = prompt.trim() || "Input";
        this.inputForm.hidden = false;
        this.inputField.focus();
        this.setStatus("input", "Waiting for input…");
      },
      done: (r) => this.onDone(r.status, r.ms, r.restarted),
      fatal: (message) => this.setStatus("error", `Error: ${message}`),
    });
    this.setStatus("loading", `Loading ${labels[rt]}…`);
    this.runner.start(rt);
    this.runBtn.disabled = false;
    if (!this.runner.isolated) {
      this.output.info(
        "This frame is not cross-origin isolated (the page embedding it would have to be), so Stop restarts " +
          "the interpreter and input() is unavailable.",
      );
    }
    this.runBtn.addEventListener("click", () => this.run());
    this.stopBtn.addEventListener("click", () => this.runner?.stop());
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        this.run();
      } else if (e.key === "Escape" && this.runner?.isRunning) this.runner.stop();
    });
    this.inputForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const line = this.inputField.value;
      this.inputField.value = "";
      this.inputForm.hidden = true;
      this.output.append("stdin", line + "\n");
      this.runner?.answer(line);
      this.setStatus("running", "Running…");
    });
  }

  run(): void {
    const runner = this.runner;
    if (!runner || runner.isRunning) return;
    this.output.clear();
    const ready = runner.isReady;
    if (!runner.run(this.editor.code)) return;
    this.runBtn.disabled = true;
    this.stopBtn.disabled = false;
    if (ready) this.setStatus("running", "Running…");
    else this.output.info("The program will run as soon as the runtime has started.");
  }

  private onDone(status: string, ms: number, restarted: boolean): void {
    this.output.flush(); // the whole output is on screen when the status says done (as in the editor)
    this.output.finishDrawing();
    this.inputForm.hidden = true;
    this.stopBtn.disabled = true;
    this.runBtn.disabled = false;
    if (restarted) {
      this.output.append("stderr", "\nKeyboardInterrupt\n");
      this.setStatus("stopped", "Stopped; restarting the interpreter…");
    } else if (status === "ok") this.setStatus("done", `Finished in ${formatMs(ms)}`);
    else if (status === "interrupted") this.setStatus("stopped", `Stopped after ${formatMs(ms)}`);
    else this.setStatus("error", "Error: see the traceback");
  }

  setStatus(state: string, text: string): void {
    this.status.dataset.state = state;
    this.status.textContent = text;
    this.status.title = text;
  }
}

declare global {
  interface Window {
    pyplayEmbed?: Embed;
  }
}

window.pyplayEmbed = new Embed();
