// Benchmark statistics for the page: summaries for the live panel, and the
// dashboard's fallback when the server does not compute them. The rules and
// thresholds mirror server/stats (the reference, with unit tests), so both
// say the same thing about the same samples: type-7 quantiles, raw MAD, the
// order-statistic confidence interval of the median, a bootstrap interval
// of the ratio of medians, the Mann–Whitney U test and the warnings.

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

export interface Ratio {
  ratio: number; // median(a) / median(b): < 1 means a is faster
  ciLow: number;
  ciHigh: number;
  resamples: number; // 0: undefined
}

export type Verdict = "faster" | "slower" | "not significant";

export interface Comparison {
  ratio: Ratio;
  u: number;
  p: number;
  verdict: Verdict;
}

export const ALPHA = 0.05;
export const BOOTSTRAP_RESAMPLES = 2000;
export const MIN_SAMPLES = 10;
export const MAX_CV = 0.1;
export const MAX_REL_MAD = 0.05;
export const TIMER_RESOLUTION_FACTOR = 100;

function sorted(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs).sort();
}

/** Type-7 quantile (R's default, numpy's linear) of sorted data. */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

export function quantile(xs: number[], q: number): number {
  return quantileSorted(sorted(xs), q);
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Median CI by order statistics (see server/stats MedianCI). */
export function medianCISorted(s: ArrayLike<number>, level = 0.95): [number, number] {
  const n = s.length;
  if (n === 0) return [NaN, NaN];
  const tail = (1 - level) / 2;
  let logPMF = -n * Math.LN2;
  let cdf = 0;
  let k = 0;
  for (let j = 0; j < Math.floor(n / 2); j++) {
    const next = cdf + Math.exp(logPMF);
    if (next > tail) break;
    cdf = next;
    k = j + 1;
    logPMF += Math.log(n - j) - Math.log(j + 1);
  }
  if (k === 0) return [s[0], s[n - 1]];
  return [s[k - 1], s[n - k]];
}

export function summarize(xs: number[]): Summary {
  const n = xs.length;
  if (n === 0) return { n: 0, median: 0, mad: 0, mean: 0, stddev: 0, min: 0, max: 0, p5: 0, p95: 0, ciLow: 0, ciHigh: 0, cv: 0 };
  const s = sorted(xs);
  const med = quantileSorted(s, 0.5);
  const dev = sorted(Array.from(s, (x) => Math.abs(x - med)));
  const mean = s.reduce((a, b) => a + b, 0) / n;
  let stddev = 0;
  if (n > 1) stddev = Math.sqrt(s.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const [ciLow, ciHigh] = medianCISorted(s);
  return {
    n,
    median: med,
    mad: quantileSorted(dev, 0.5),
    mean,
    stddev,
    min: s[0],
    max: s[n - 1],
    p5: quantileSorted(s, 0.05),
    p95: quantileSorted(s, 0.95),
    ciLow,
    ciHigh,
    cv: n > 1 && mean !== 0 ? stddev / mean : 0,
  };
}

/** A small seeded generator (mulberry32): reproducible bootstrap intervals. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resampledMedian(next: () => number, s: ArrayLike<number>, counts: Int32Array): number {
  const n = s.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[Math.floor(next() * n)]++;
  const lo = (n - 1) >> 1;
  const hi = n >> 1;
  let loVal = 0;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const c = counts[i];
    if (c === 0) continue;
    if (seen <= lo && lo < seen + c) loVal = s[i];
    if (hi < seen + c) return (loVal + s[i]) / 2;
    seen += c;
  }
  return NaN;
}

/** median(a)/median(b) with a 95% bootstrap percentile interval. */
export function ratio(a: number[], b: number[], seed = 1): Ratio {
  const none: Ratio = { ratio: NaN, ciLow: NaN, ciHigh: NaN, resamples: 0 };
  if (a.length === 0 || b.length === 0) return none;
  const sa = sorted(a);
  const sb = sorted(b);
  const ma = quantileSorted(sa, 0.5);
  const mb = quantileSorted(sb, 0.5);
  if (!(mb > 0)) return none;
  const next = rng(seed);
  const ca = new Int32Array(sa.length);
  const cb = new Int32Array(sb.length);
  const rs = new Float64Array(BOOTSTRAP_RESAMPLES);
  for (let i = 0; i < rs.length; i++) rs[i] = resampledMedian(next, sa, ca) / resampledMedian(next, sb, cb);
  rs.sort();
  const lo = quantileSorted(rs, 0.025);
  const hi = quantileSorted(rs, 0.975);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return none;
  return { ratio: ma / mb, ciLow: lo, ciHigh: hi, resamples: BOOTSTRAP_RESAMPLES };
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc: fractional error below 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + z / 2);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Two-sided Mann–Whitney U test of a against b: [U of a, p]. */
export function mannWhitneyU(a: number[], b: number[]): [number, number] {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return [NaN, NaN];
  const pool = [...a.map((x) => [x, 1] as const), ...b.map((x) => [x, 0] as const)].sort((p, q) => p[0] - q[0]);
  let rankA = 0;
  let ties = 0;
  for (let i = 0; i < pool.length; ) {
    let j = i + 1;
    while (j < pool.length && pool[j][0] === pool[i][0]) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (pool[k][1]) rankA += rank;
    const t = j - i;
    if (t > 1) ties += t * t * t - t;
    i = j;
  }
  const U = rankA - (n1 * (n1 + 1)) / 2;
  const uMax = Math.max(U, n1 * n2 - U);
  if (ties === 0 && n1 + n2 <= 50) return [U, exactUpperTail(n1, n2, uMax)];
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (variance <= 0) return [U, 1];
  const z = (uMax - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  if (z <= 0) return [U, 1];
  return [U, Math.min(1, erfc(z / Math.SQRT2))];
}

function exactUpperTail(m: number, n: number, u: number): number {
  const deg = m * n;
  const c = new Float64Array(deg + 1);
  c[0] = 1;
  for (let i = 1; i <= m; i++) {
    for (let k = deg; k >= n + i; k--) c[k] -= c[k - n - i];
    for (let k = i; k <= deg; k++) c[k] += c[k - i];
  }
  let total = 0;
  let tail = 0;
  const start = Math.ceil(u);
  for (let k = 0; k <= deg; k++) {
    total += c[k];
    if (k >= start) tail += c[k];
  }
  return Math.min(1, (2 * tail) / total);
}

export function decide(r: Ratio, p: number, alpha = ALPHA): Verdict {
  if (r.resamples === 0 || !(p < alpha)) return "not significant";
  if (r.ciHigh < 1) return "faster";
  if (r.ciLow > 1) return "slower";
  return "not significant";
}

/** Candidate a against baseline b. */
export function compare(a: number[], b: number[], seed = 1): Comparison {
  const r = ratio(a, b, seed);
  let u = 0;
  let p = 1;
  if (a.length > 0 && b.length > 0) [u, p] = mannWhitneyU(a, b);
  return { ratio: r, u, p, verdict: decide(r, p) };
}

/** Reasons to distrust a set of samples (same rules as server/stats.Warnings). */
export function warnings(s: Summary, timerResolutionNsPerIter: number, hidden: boolean): string[] {
  const w: string[] = [];
  if (s.n === 0) w.push("no samples: nothing was measured");
  else if (s.n < MIN_SAMPLES) w.push(`too few samples: ${s.n} (want at least ${MIN_SAMPLES}); the median's confidence interval is wide`);
  if (timerResolutionNsPerIter > 0 && s.n > 0 && timerResolutionNsPerIter > s.median / TIMER_RESOLUTION_FACTOR)
    w.push(
      `coarse timer: resolution ${formatNs(timerResolutionNsPerIter)} is more than 1% of the median ${formatNs(s.median)}; ` +
        "time more iterations per sample or enable cross-origin isolation",
    );
  if (s.n > 1) {
    const relMAD = s.median !== 0 ? s.mad / s.median : 0;
    if (s.cv > MAX_CV || relMAD > MAX_REL_MAD)
      w.push(
        `high variance: CV ${(100 * s.cv).toFixed(1)}%, MAD/median ${(100 * relMAD).toFixed(1)}% ` +
          `(want under ${100 * MAX_CV}% and ${100 * MAX_REL_MAD}%); close other tabs and programs and rerun`,
      );
  }
  if (hidden) w.push("hidden tab: some samples were taken while the tab was hidden, when browsers throttle timers and CPU");
  return w;
}

export function geomean(xs: number[]): number {
  const ok = xs.filter((x) => x > 0 && Number.isFinite(x));
  if (ok.length === 0) return NaN;
  return Math.exp(ok.reduce((a, x) => a + Math.log(x), 0) / ok.length);
}

/** A duration in ns with a unit read at a glance: "12.3 ms", "850 µs". */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return "–";
  const a = Math.abs(ns);
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  if (a >= 1e9) return `${f(ns / 1e9)} s`;
  if (a >= 1e6) return `${f(ns / 1e6)} ms`;
  if (a >= 1e3) return `${f(ns / 1e3)} µs`;
  return `${f(ns)} ns`;
}

export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return "–";
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}
