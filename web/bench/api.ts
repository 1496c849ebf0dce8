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
