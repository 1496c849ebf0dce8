// WebSocket clients of /ws (docs/protocol.md, version 1): ProducerStream
// sends a page's benchmark runs (run.start, samples batches, run.end) and
// keeps everything the server has not acknowledged, resending it after a
// reconnect; ViewerStream follows a snippet's runs for a dashboard.

import type { BenchSample } from "../runtime/messages";

export const PROTOCOL_VERSION = 1;
export const CLIENT = "pyplay-web/1.0";

/** Samples are sent every FLUSH_MS, or as soon as FLUSH_SAMPLES are waiting. */
export const FLUSH_MS = 100;
export const FLUSH_SAMPLES = 100;
/** Reconnect delays double from the first to the cap (with jitter). */
export const BACKOFF_FIRST_MS = 250;
export const BACKOFF_MAX_MS = 10000;
/** How long to wait before resending what the server could not take now. */
const RETRY_MS = 1000;

export interface Limits {
  maxMessageBytes: number;
  maxSamplesPerBatch: number;
  maxBatchesPerSecond: number;
  maxSubscriptions: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 65536,
  maxSamplesPerBatch: 500,
  maxBatchesPerSecond: 10,
  maxSubscriptions: 32,
};

/** A run as its producer announces it (run.start's payload.run). */
export interface RunInfo {
  id: string;
  snippet: string;
  runtime: string;
  runtimeVersion?: string;
  env?: Record<string, unknown>;
  config?: Record<string, unknown>;
  phases?: Record<string, unknown>;
  /** The run is one arm of an A/B benchmark, in its k-th fresh interpreter (docs/protocol.md). */
  ab?: { id: string; arm: string; interpreter: number };
}

export interface ServerError {
  code: string;
  message: string;
  ref?: number;
  /** How long to wait before resending, when the server says. */
  retryAfterMs?: number;
}

/** A server message (clients ignore fields they do not know). */
interface Envelope {
  v: number;
  type: string;
  payload: Record<string, unknown>;
}

export function wsURL(path = "/ws"): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

/** A fresh run ID: 128 random bits, base64url (fits the protocol's run ID rule). */
export function newRunID(): string {
  return randomToken(16);
}

/**
 * A run's secret (run.start's token): 256 random bits, base64url. A run
 * belongs to the producer that holds it; it is made up before the first
 * run.start, so that a lost ack cannot leave the run without its owner.
 */
export function newRunToken(): string {
  return randomToken(32);
}

function randomToken(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Reconnect delay for the given attempt (0-based): capped doubling, 50–100% jitter. */
export function backoff(attempt: number): number {
  const d = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 16));
  return Math.round(d * (0.5 + Math.random() / 2));
}

/** Retrying cannot help with these; anything else is resent later. */
const RETRYABLE = new Set(["rate_limited", "unavailable"]);

/**
 * One socket with the protocol's connection life cycle: hello, welcome,
 * client seq numbering, reconnects with backoff while wanted.
 */
abstract class Connection {
  protected ws: WebSocket | null = null;
  protected seq = 0;
  protected welcomed = false;
  limits: Limits = DEFAULT_LIMITS;
  private attempt = 0;
  private reconnectTimer: number | undefined;
  private closed = false;
  /** Connected and welcomed, or not; for status lines. */
  onState: (state: "connecting" | "open" | "closed", detail?: string) => void = () => {};

  constructor(protected readonly url: string) {}

  protected abstract hello(): Record<string, unknown>;
  protected abstract welcome(): void;
  protected abstract message(m: Envelope): void;
  protected abstract lost(): void;
  /** Whether to reconnect after a close. */
  protected abstract wanted(): boolean;

  get connected(): boolean {
    return this.welcomed;
  }

  protected connect(): void {
    if (this.closed || this.ws || this.reconnectTimer !== undefined) return;
    this.onState("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleReconnect(String(err));
      return;
    }
    this.ws = ws;
    this.seq = 0;
    this.welcomed = false;
    ws.onopen = () => this.sendRaw("hello", this.hello());
    ws.onmessage = (e) => {
      let data: unknown;
      try {
        data = JSON.parse(String(e.data));
      } catch {
        return;
      }
      // A frame is one message, or (after hello's coalesce) an array of them.
      for (const m of Array.isArray(data) ? data : [data]) {
        if (this.ws !== ws) return; // a handler closed the socket
        this.receive(m as Envelope);
      }
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.welcomed = false;
      this.lost();
      this.onState("closed", e.reason || `code ${e.code}`);
      if (this.wanted()) this.scheduleReconnect(e.reason);
    };
    ws.onerror = () => {
      // onclose follows and reconnects.
    };
  }

  private receive(m: Envelope): void {
    if (m?.v !== PROTOCOL_VERSION || typeof m.type !== "string") return;
    if (m.type === "welcome") {
      const limits = (m.payload?.limits ?? {}) as Partial<Limits>;
      this.limits = { ...DEFAULT_LIMITS, ...limits };
      this.welcomed = true;
      this.attempt = 0;
      this.onState("open");
      this.welcome();
      return;
    }
    this.message(m);
  }

  private scheduleReconnect(_why?: string): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const delay = backoff(this.attempt++);
    this.reconnectTimer = window.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.wanted()) this.connect();
    }, delay);
  }

  /** Sends one message; returns its seq, or 0 when the socket is not open. */
  protected sendRaw(type: string, payload: Record<string, unknown>): number {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return 0;
    const seq = ++this.seq;
    ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type, seq, payload }));
    return seq;
  }

  /** Closes for good. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    ws?.close(1000, "done");
  }

  /** Drops the connection as a network failure would (tests, diagnostics). */
  drop(): void {
    this.ws?.close(4000, "dropped by the client");
  }
}

// ---- producer -----------------------------------------------------------------

type OutKind = "start" | "samples" | "end";

interface Outgoing {
  kind: OutKind;
  run: string;
  batch?: number;
  payload: Record<string, unknown>;
  /** seq on the current connection while unacknowledged, 0 when unsent. */
  seq: number;
  /** Not before this time (ms, performance.now()) — after rate_limited. */
  notBefore: number;
  /** Sent at least once (on any connection): its content is fixed from then on. */
  sent?: boolean;
}

interface ProducerRun {
  info: RunInfo;
  /** Sent with every run.start of the run: proves it is ours after a reconnect. */
  token: string;
  buffer: BenchSample[];
  nextBatch: number;
  flushTimer: number | undefined;
  /** Messages not yet acknowledged, in sending order. */
  queue: Outgoing[];
  ended: boolean;
  /** Samples the server has acknowledged as stored. */
  stored: number;
  failed?: ServerError;
}

export interface ProducerEvents {
  /** The server stored something; counts for progress lines. */
  stored?(run: string, samples: number): void;
  /** The server refused a message for good (not retried). */
  refused?(run: string, err: ServerError): void;
}

/**
 * Streams benchmark runs to the server. Samples are batched (every FLUSH_MS
 * or FLUSH_SAMPLES, within the server's limits, never one message per
 * sample); batches are numbered per run from 0 so that a resend is stored
 * once. Everything unacknowledged is kept and sent again, with the same run
 * IDs and batch numbers, on the next connection.
 */
export class ProducerStream extends Connection {
  private runs = new Map<string, ProducerRun>();
  private inflight = new Map<number, Outgoing>();
  /** Runs whose run.start was sent on the current connection. */
  private announced = new Set<string>();
  /**
   * Runs whose run.start the server acknowledged on the current connection.
   * Only then may their samples and run.end follow: before, the server
   * refuses them (not_allowed), and after a run.start that was refused for
   * now (rate_limited, unavailable) they would be lost.
   */
  private started = new Set<string>();
  /** When a refused re-announcement (a run.start not in the queue) may go again. */
  private reannounceAt = new Map<string, number>();
  private tokens = DEFAULT_LIMITS.maxBatchesPerSecond;
  /** Which run the next pump serves first (round robin). */
  private turn = 0;
  private tokensAt = performance.now();
  private pumpTimer: number | undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(
    url: string,
    private readonly events: ProducerEvents = {},
  ) {
    super(url);
  }

  protected hello() {
    return { role: "producer", client: CLIENT };
  }

  protected welcome(): void {
    this.tokens = this.limits.maxBatchesPerSecond;
    this.tokensAt = performance.now();
    this.forgetConnection();
    this.pump();
  }

  protected lost(): void {
    // Nothing sent on the lost connection counts: resend all of it.
    for (const m of this.inflight.values()) m.seq = 0;
    this.inflight.clear();
    this.forgetConnection();
  }

  private forgetConnection(): void {
    this.announced.clear();
    this.started.clear();
    this.reannounceAt.clear();
  }

  protected wanted(): boolean {
    return !this.isDrained();
  }

  /** Announces a run; its samples may follow at once. */
  startRun(info: RunInfo): void {
    const token = newRunToken();
    const run: ProducerRun = { info, token, buffer: [], nextBatch: 0, flushTimer: undefined, queue: [], ended: false, stored: 0 };
    this.runs.set(info.id, run);
    run.queue.push(this.out("start", info.id, { run: info, token }));
    this.kick();
  }

  addSamples(runID: string, samples: BenchSample[]): void {
    const run = this.runs.get(runID);
    if (!run || samples.length === 0) return;
    run.buffer.push(...samples);
    if (run.buffer.length >= FLUSH_SAMPLES) this.flushRun(run);
    else if (run.flushTimer === undefined) run.flushTimer = window.setTimeout(() => this.flushRun(run), FLUSH_MS);
  }

  endRun(runID: string, status: "done" | "failed" | "stopped", error?: string): void {
    const run = this.runs.get(runID);
    if (!run || run.ended) return;
    this.flushRun(run);
    run.ended = true;
    const payload: Record<string, unknown> = { run: runID, status };
    if (error) payload.error = truncateUTF8(error, 4000);
    run.queue.push(this.out("end", runID, payload));
    this.kick();
  }

  /** Samples of a run the server has acknowledged. */
  storedSamples(runID: string): number {
    return this.runs.get(runID)?.stored ?? 0;
  }

  /** Messages not yet acknowledged (all runs). */
  get unacknowledged(): number {
    let n = 0;
    for (const r of this.runs.values()) n += r.queue.length + (r.buffer.length ? 1 : 0);
    return n;
  }

  isDrained(): boolean {
    return this.unacknowledged === 0;
  }

  /** Resolves once the server has acknowledged everything sent so far. */
  drained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private out(kind: OutKind, run: string, payload: Record<string, unknown>, batch?: number): Outgoing {
    return { kind, run, batch, payload, seq: 0, notBefore: 0 };
  }

  private flushRun(run: ProducerRun): void {
    clearTimeout(run.flushTimer);
    run.flushTimer = undefined;
    const max = Math.max(1, Math.min(this.limits.maxSamplesPerBatch, 400));
    // Samples join the run's last batch while it waits unsent (behind the
    // rate of batches per second): many runs sampled in turn, as an A/B
    // benchmark's are, would otherwise queue a batch per sample and fall
    // behind. A batch once sent keeps its content, so a resend is the same.
    const last = run.queue[run.queue.length - 1];
    if (last?.kind === "samples" && !last.sent && !last.seq) {
      const samples = last.payload.samples as BenchSample[];
      samples.push(...run.buffer.splice(0, max - samples.length));
    }
    while (run.buffer.length > 0) {
      const samples = run.buffer.splice(0, max);
      const batch = run.nextBatch++;
      run.queue.push(this.out("samples", run.info.id, { run: run.info.id, batch, samples }, batch));
    }
    this.kick();
  }

  private kick(): void {
    if (this.welcomed) this.pump();
    else this.connect();
  }

  private takeToken(): boolean {
    const now = performance.now();
    const rate = this.limits.maxBatchesPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Sends what may be sent now, in order per run; schedules the rest. */
  private pump(): void {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (!this.welcomed) return;
    let wakeIn = Infinity;
    const now = performance.now();
    // Runs take turns at the batches the rate allows: each pump starts one
    // run further on, so that many live runs share the rate fairly.
    const runs = [...this.runs.values()];
    const turn = runs.length ? this.turn++ % runs.length : 0;
    for (const run of [...runs.slice(turn), ...runs.slice(0, turn)]) {
      if (run.failed) continue;
      const id = run.info.id;
      // A reconnect re-announces every unfinished run first (a no-op on the
      // server when it is stored), so that its batches are allowed.
      if (!this.announced.has(id) && run.queue.length > 0 && run.queue[0].kind !== "start") {
        const at = this.reannounceAt.get(id) ?? 0;
        if (at > now) {
          wakeIn = Math.min(wakeIn, at - now);
          continue;
        }
        const start = { run: run.info, token: run.token };
        const seq = this.sendRaw("run.start", start);
        if (!seq) return;
        this.inflight.set(seq, { ...this.out("start", id, start), seq });
        this.announced.add(id);
      }
      for (const m of run.queue) {
        if (m.kind !== "start" && !this.started.has(id)) break; // the run.start's ack pumps again
        if (m.seq) continue;
        if (m.notBefore > now) {
          wakeIn = Math.min(wakeIn, m.notBefore - now);
          break; // keep the run's order
        }
        if (m.kind === "samples" && !this.takeToken()) {
          wakeIn = Math.min(wakeIn, 1000 / this.limits.maxBatchesPerSecond);
          break;
        }
        const type = m.kind === "start" ? "run.start" : m.kind === "end" ? "run.end" : "samples";
        const seq = this.sendRaw(type, m.payload);
        if (!seq) return;
        m.seq = seq;
        m.sent = true;
        this.inflight.set(seq, m);
        if (m.kind === "start") this.announced.add(id);
      }
    }
    if (wakeIn < Infinity) this.pumpTimer = window.setTimeout(() => this.pump(), Math.max(10, wakeIn));
  }

  protected message(m: Envelope): void {
    const p = m.payload ?? {};
    if (m.type === "ack") {
      const msg = this.inflight.get(Number(p.ack));
      if (!msg) return;
      this.inflight.delete(msg.seq);
      this.settle(msg);
      if (msg.kind === "start") {
        this.started.add(msg.run);
        this.pump(); // its samples and run.end were waiting for this
      }
      if (msg.kind === "samples") {
        const run = this.runs.get(msg.run);
        const n = (msg.payload.samples as unknown[]).length;
        if (run) run.stored += n;
        this.events.stored?.(msg.run, n);
      }
      return;
    }
    if (m.type === "error") {
      const err = p as unknown as ServerError;
      const msg = err.ref ? this.inflight.get(err.ref) : undefined;
      if (!msg) {
        console.warn("pyplay: /ws error:", err.code, err.message);
        return;
      }
      this.inflight.delete(msg.seq);
      if (RETRYABLE.has(err.code)) {
        // Dropped by the server for now: send it again later, not at once.
        msg.seq = 0;
        msg.notBefore = performance.now() + Math.max(RETRY_MS, Number(err.retryAfterMs) || 0);
        if (msg.kind === "start") {
          this.announced.delete(msg.run);
          this.reannounceAt.set(msg.run, msg.notBefore);
        }
        this.pump();
        return;
      }
      console.warn("pyplay: the server refused", msg.kind, "of run", msg.run, "—", err.code, err.message);
      const run = this.runs.get(msg.run);
      if (run && msg.kind === "start") run.failed = err;
      this.settle(msg);
      if (run?.failed) run.queue.length = 0;
      this.events.refused?.(msg.run, err);
      this.checkDrained();
    }
  }

  /** Removes an acknowledged (or refused) message from its run's queue. */
  private settle(msg: Outgoing): void {
    const run = this.runs.get(msg.run);
    if (!run) return;
    const i = run.queue.indexOf(msg);
    if (i >= 0) run.queue.splice(i, 1);
    else if (msg.kind === "start") {
      // A re-announcement: not in the queue.
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.isDrained()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

function truncateUTF8(s: string, maxBytes: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= maxBytes) return s;
  let out = s.slice(0, maxBytes);
  while (enc.encode(out).length > maxBytes - 3) out = out.slice(0, -1);
  return out + "…";
}

// ---- viewer --------------------------------------------------------------------

export interface ViewerEvents {
  /** (Re)connected and subscribed: fetch stored data to catch up. */
  connected(first: boolean): void;
  started(run: RunInfo & { created?: string }): void;
  samples(run: string, samples: BenchSample[]): void;
  ended(run: string, status: string, error: string | undefined, finished?: string): void;
}

/** Follows one snippet's runs (or several snippets', e.g. the arms of an A/B benchmark) as they are stored. */
export class ViewerStream extends Connection {
  private connects = 0;
  private readonly snippet: string | null;
  /** Snippets followed besides the first (subscribed after each welcome). */
  private readonly more: string[];

  constructor(
    url: string,
    snippets: string | string[] | null,
    private readonly events: ViewerEvents,
  ) {
    super(url);
    const all = [...new Set(snippets === null ? [] : Array.isArray(snippets) ? snippets : [snippets])];
    this.snippet = all[0] ?? null;
    this.more = all.slice(1);
  }

  open(): void {
    this.connect();
  }

  protected hello() {
    // coalesce: a dashboard following busy runs gets bursts of hundreds of
    // messages; as arrays they cost one message event each, not hundreds.
    const h: Record<string, unknown> = { role: "viewer", client: CLIENT.replace("web", "dashboard"), coalesce: true };
    if (this.snippet) h.snippet = this.snippet;
    return h;
  }

  protected welcome(): void {
    for (const snippet of this.more) this.sendRaw("subscribe", { snippet });
    this.events.connected(this.connects++ === 0);
  }

  protected lost(): void {}

  protected wanted(): boolean {
    return true;
  }

  protected message(m: Envelope): void {
    const p = m.payload ?? {};
    switch (m.type) {
      case "run.started": {
        const run = p.run as RunInfo | undefined;
        if (run?.id) this.events.started({ ...run, created: p.created as string | undefined });
        break;
      }
      case "samples":
        if (typeof p.run === "string" && Array.isArray(p.samples)) this.events.samples(p.run, p.samples as BenchSample[]);
        break;
      case "run.ended":
        if (typeof p.run === "string")
          this.events.ended(p.run, String(p.status ?? ""), p.error as string | undefined, p.finished as string | undefined);
        break;
      case "error":
        console.warn("pyplay: /ws error:", p.code, p.message);
        break;
    }
  }
}
