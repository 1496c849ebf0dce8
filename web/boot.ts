// Starts the runtime worker as early as possible, so the interpreter loads
// while the page sets itself up.

import type { RuntimeInfo, SnapshotMode } from "./protocol";
import { Slot } from "./runner";

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
    __pyplayEditor?: Promise<void>;
  }
}

// This module is its own small bundle, loaded before the main one, so the
// worker starts while the browser still parses the editor; main.ts imports
// it too (for the page without the boot bundle), and whichever runs first
// starts the worker.
if (window.__pyplayBoot === undefined) window.__pyplayBoot = boot();

/** The worker started at page load, for the Runner to adopt. */
export const bootSlot: Slot | null = window.__pyplayBoot;

/**
 * Loads the editor bundle (named by the page's modulepreload link) once the
 * worker has said its first word, or after a short wait: evaluating half a
 * megabyte of editor code keeps the main thread busy, and the browser needs
 * that thread to get the worker going.
 */
async function loadEditor(): Promise<void> {
  const link = document.querySelector<HTMLLinkElement>('link[rel="modulepreload"][data-editor]');
  if (!link) return; // the page loads the editor itself
  const slot = window.__pyplayBoot;
  if (slot) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 300);
      slot.worker.addEventListener("message", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  await import(/* @vite-ignore */ link.href);
}

if (window.__pyplayEditor === undefined) window.__pyplayEditor = loadEditor();
