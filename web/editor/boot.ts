// Starts the runtime worker as early as possible, so the interpreter loads
// while the page sets itself up.

import type { RuntimeInfo, SnapshotMode } from "../runtime/messages";
import { Slot } from "../runtime/runner";

/** localStorage key of the "Fast start" setting ("off" disables snapshots). */
export const FAST_START_KEY = "pyplay.fastStart";

export function fastStartEnabled(): boolean {
  try {
    return localStorage.getItem(FAST_START_KEY) !== "off";
  } catch {
    return true;
  }
}

function boot(): Slot | null {
  try {
    const cfg = JSON.parse(document.getElementById("pyplay-config")?.textContent ?? "{}") as {
      worker?: string;
      build?: string;
      runtimes?: Record<string, RuntimeInfo>;
    };
    const runtime = (document.getElementById("runtime") as HTMLSelectElement | null)?.value;
    if (runtime !== "pyodide" && runtime !== "micropython") return null;
    const info = cfg.runtimes?.[runtime];
    if (!info || !cfg.worker) return null;
    const mode: SnapshotMode = fastStartEnabled() ? "use" : "off";
    return new Slot(runtime, cfg.worker, info, cfg.build ?? "", globalThis.crossOriginIsolated === true, mode);
  } catch {
    return null; // the page starts the runtime the ordinary way
  }
}

declare global {
  interface Window {
    __pyplayBoot?: Slot | null;
  }
}

// This module is its own small bundle, loaded before the page's main one,
// so the worker starts before the browser evaluates the page's script (the
// CodeMirror bundle comes later still, see codebox.ts); main.ts imports it
// too (for a page without the boot bundle), and whichever runs first starts
// the worker.
if (window.__pyplayBoot === undefined) window.__pyplayBoot = boot();

/** The worker started at page load, for the Runner to adopt. */
export const bootSlot: Slot | null = window.__pyplayBoot;
