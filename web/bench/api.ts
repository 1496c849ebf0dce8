// The benchmark REST API (docs/bench.md) as the pages read it. Every
// statistic a page shows (summaries, groups, comparisons, verdicts,
// warnings) is computed by the server (server/stats) over the stored
// samples and read from here: pages never compute their own.

/** stats.Summary: a run's (or a group's) measured samples, in ns per iteration. */
export interface Summary {
  n: number;
  median: number;
  mad: number; // raw median absolute deviation
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p5: number;
  p95: number;
  ciLow: number; // 95% interval of the median
  ciHigh: number;
  cv: number;
}

/** An answer other than 2xx, with the server's message and the status. */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** GETs a JSON resource; a failure throws Error, or APIError when the server answered. */
export async function getJSON<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: "application/json" } });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const msg = (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`;
    throw new APIError(msg, res.status);
  }
  return body as T;
}

// ---- A/B benchmarks (docs/bench.md, "A/B benchmarks") ---------------------------

export type ABArm = "a" | "b" | "c";
export type ABVerdict = "faster" | "slower" | "same" | "undecided";

/** One arm (b or c) against A on one runtime: the server's paired-round statistics. */
export interface ABResult {
  runtime: string;
  arm: ABArm;
  /** The arm's time over A's: above 1 it is slower. */
  ratio: number;
  ciLow: number;
  ciHigh: number;
  verdict: ABVerdict;
  rounds: number;
  interpreters: number;
  /** The verdict in one sentence, e.g. "B is 9.6 % slower [5.1–14.0 %], decided after 84 rounds". */
  summary: string;
  medianA?: number;
  medianB?: number;
}

/** One round's ratio (the arm's sample over A's), for the picture. */
export interface ABDiff {
  runtime: string;
  arm: ABArm;
  interpreter: number;
  round: number;
  ratio: number;
}

/** GET /api/bench/ab/{id}. */
export interface ABView {
  id: string;
  a: string;
  b: string;
  c?: string;
  runtimes: string[];
  rounds: number;
  threshold: number;
  budgetMs: number;
  interpreters: number;
  /** Rounds per interpreter after which the server's stop rule decides at the latest. */
  maxRounds?: number;
  created: string;
  done: boolean;
  decided: boolean;
  results: ABResult[];
  diffs?: ABDiff[];
  /** The benchmark's runs, so that a page can tell which live messages concern it. */
  runs?: { id: string; runtime: string; arm: ABArm; interpreter: number; status: string; samples: number }[];
}

/** An entry of GET /api/bench/ab?snippet=ID. */
export type ABListItem = Pick<ABView, "id" | "a" | "b" | "c" | "runtimes" | "created" | "done" | "results">;

/** What POST /api/bench/ab takes. */
export interface ABRequest {
  a: string;
  b: string;
  c?: string;
  runtimes: string[];
  threshold?: number;
  budgetMs?: number;
  interpreters?: number;
}

/** POSTs JSON; a failure throws Error, or APIError when the server answered. */
export async function postJSON<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const msg = (data as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`;
    throw new APIError(msg, res.status);
  }
  return data as T;
}

/** "A", "B", "C": how pages name the arms. */
export const armLabel = (arm: string) => arm.toUpperCase();
