// Format on the page: sends the code to a Pyodide interpreter, which runs
// formatter.py (format-worker.ts). With Pyodide selected that is the
// runtime worker itself; with MicroPython or PyScript, whose Python has no
// tokenize module, a Pyodide worker is started for formatting alone, the
// first time it is asked for.

import type { RuntimeInfo } from "../runtime/messages";
import { Slot, type Runner } from "../runtime/runner";
import type { FormatResult } from "./format-worker";

export type { FormatResult };

export class Formatter {
  /** The Pyodide that formats when the page runs another runtime. */
  private own: Slot | null = null;
  private ownReady: Promise<void> | null = null;
  private waiting = new Map<number, (r: FormatResult) => void>();
  private nextId = 1;

  constructor(
    private readonly runner: Runner,
    private readonly cfg: { worker: string; build: string; runtimes: Record<string, RuntimeInfo> },
  ) {}

  /**
   * Formats code. starting() is called when a Pyodide has to be started
   * first (the first Format outside Pyodide mode), which takes a moment.
   */
  async format(code: string, runtime: string, starting: () => void): Promise<FormatResult> {
    if (runtime === "pyodide") {
      const answer = this.runner.format(code);
      if (answer) return answer;
      return {
        code: null,
        error: this.runner.isRunning
          ? "the program is running; Format works once it has finished"
          : "Pyodide is still starting; try again in a moment",
      };
    }
    if (!this.own) starting();
    const slot = await this.ownSlot();
    if (!slot) return { code: null, error: "Pyodide could not be started to format the code" };
    const id = this.nextId++;
    slot.worker.postMessage({ type: "format", id, code });
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  private async ownSlot(): Promise<Slot | null> {
    const info = this.cfg.runtimes["pyodide"];
    if (!info) return null;
    if (!this.own) {
      const slot = new Slot("pyodide", this.cfg.worker, info, this.cfg.build, globalThis.crossOriginIsolated === true, "use");
      this.own = slot;
      this.ownReady = new Promise((ready) => {
        slot.worker.onmessage = (e: MessageEvent) => {
          const msg = e.data as { type: string; id?: number; code?: string | null; error?: string | null };
          if (msg.type === "ready") ready();
          else if (msg.type === "fatal") {
            slot.failed = true;
            ready();
          } else if (msg.type === "formatted" && msg.id !== undefined) {
            this.waiting.get(msg.id)?.({ code: msg.code ?? null, error: msg.error ?? null });
            this.waiting.delete(msg.id);
          }
        };
        slot.worker.onerror = () => {
          slot.failed = true;
          ready();
        };
      });
    }
    await this.ownReady;
    if (this.own.failed) {
      this.own.dispose();
      this.own = null;
      return null;
    }
    return this.own;
  }
}
