// Shared helpers for the browser tests: start the real pyplay binary on a
// free port, launch Debian's Chromium through playwright-core, and watch
// every request a page makes.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const BINARY = process.env.PYPLAY_BIN ?? join(ROOT, "bin", "pyplay");

/** Starts `pyplay serve` (this tree's binary unless told) on 127.0.0.1:0 and resolves once it listens. */
export async function startServer(args = [], env = {}, binary = BINARY) {
  const dir = mkdtempSync(join(tmpdir(), "pyplay-e2e-"));
  const proc = spawn(binary, ["serve", "-addr", "127.0.0.1:0", "-db", `sqlite:${join(dir, "db.sqlite")}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pyplay did not start:\n${log}`)), 20000);
    proc.stderr.on("data", (d) => {
      log += d;
      const m = /msg=serving url=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => reject(new Error(`pyplay exited with ${code}:\n${log}`)));
  });
  // The PyScript preview origin and the metrics listener are announced
  // just before the playground.
  const previewUrl = /msg="serving previews" url=(\S+)/.exec(log)?.[1];
  const metricsUrl = /msg="serving metrics" url=(\S+)/.exec(log)?.[1];
  return {
    url,
    previewUrl,
    metricsUrl,
    dir,
    proc,
    log: () => log,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill(signal);
        await exited;
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** Opens a page and records every request URL it (and its workers) makes. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  context.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(url);
  return { page, requests, errors };
}

/** Waits until the status says the runtime is ready. */
export async function waitReady(page, timeout = 60000) {
  await page.waitForFunction(
    () => document.querySelector('[role="status"]')?.getAttribute("data-state") === "ready",
    null,
    { timeout },
  );
}

/**
 * Waits until the editor page is complete: its script is up (window.pyplay)
 * and CodeMirror has taken over from the page's textarea, which happens once
 * the runtime has started, after the load event (codebox.ts).
 */
export async function appReady(page) {
  await page.waitForFunction(() => window.pyplay?.marks.editor !== undefined, null, { timeout: 30000 });
}

/** Replaces the editor's content (CodeMirror) with code. */
export async function setCode(page, code) {
  await appReady(page);
  await page.evaluate((c) => {
    window.pyplay.editor.code = c;
  }, code);
}

export function output(page) {
  return page.getByRole("log", { name: "Output" });
}

/** Waits until the status state is one of the given ones, returns it. */
export async function waitState(page, states, timeout = 30000) {
  const h = await page.waitForFunction(
    (s) => {
      const st = document.querySelector('[role="status"]')?.getAttribute("data-state");
      return s.includes(st) ? st : null;
    },
    states,
    { timeout },
  );
  return h.jsonValue();
}

/**
 * The usual set-up of a test file: before its tests the binary
 * (startServer(args, env)) and Chromium start, and set(server, browser)
 * hands them to the file; after its tests both stop.
 */
export function withServerAndBrowser(set, args = [], env = {}) {
  let server, browser;
  before(async () => {
    server = await startServer(args, env);
    browser = await launchBrowser();
    set(server, browser);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });
}

/**
 * Stores a finished run of snippet from inside page, as a producer does over
 * /ws: run.start with run (fields besides id and snippet: runtime, env,
 * phases, …), 12 measured samples around ms milliseconds, run.end. Resolves
 * with the run's ID.
 */
export async function storeRun(page, snippet, run = {}, ms = 1) {
  return page.evaluate(
    async ({ snippet, run, ms }) => {
      const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/ws`);
      const inbox = [];
      let wake = () => {};
      ws.onmessage = (e) => {
        inbox.push(JSON.parse(e.data));
        wake();
      };
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error("no WebSocket"));
      });
      let seq = 0;
      const send = async (type, payload) => {
        const s = ++seq;
        ws.send(JSON.stringify({ v: 1, type, seq: s, payload }));
        for (;;) {
          const m = inbox.find((m) => m.type === "error" || (type === "hello" ? m.type === "welcome" : m.type === "ack" && m.payload.ack === s));
          if (m?.type === "error") throw new Error(`${type}: ${JSON.stringify(m.payload)}`);
          if (m) return m;
          await new Promise((r) => (wake = r));
        }
      };
      const id = crypto.randomUUID();
      await send("hello", { role: "producer", client: "pyplay-e2e/1.0" });
      await send("run.start", { run: { runtime: "pyodide", ...run, id, snippet } });
      const samples = Array.from({ length: 12 }, (_, i) => ({ seq: i, warmup: false, ns: ms * 1e6 + 1000 * i, iters: 1 }));
      await send("samples", { run: id, batch: 0, samples });
      await send("run.end", { run: id, status: "done" });
      ws.close();
      return id;
    },
    { snippet, run, ms },
  );
}
