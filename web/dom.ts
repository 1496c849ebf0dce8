// Small helpers every page shares: building DOM elements and formatting
// durations and ratios for people. Nothing here knows about a page.

/** Creates a tag with properties (className, href, …) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, unknown> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** A time in milliseconds as the editor's status says it: "0.42 ms", "12 ms", "1.25 s". */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

const NS_UNITS: [number, string][] = [
  [1e9, "s"],
  [1e6, "ms"],
  [1e3, "µs"],
];

/**
 * A duration in ns to three significant digits in the largest unit that
 * keeps it at least 1: "12.3 ms", "850 µs", "1 s". It must read like the
 * server's stats.FormatNs (Go's %.3g), whose text sits beside these numbers
 * in warnings and verdicts: web/testdata/format.json holds the cases both
 * are tested against.
 */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return "–";
  // Rounded before the unit is chosen, so that 999.96 µs reads "1 ms".
  const r = threeDigits(ns);
  for (const [scale, unit] of NS_UNITS) if (Math.abs(r) >= scale) return `${r / scale} ${unit}`;
  return `${r} ns`;
}

/**
 * x rounded to three significant digits, halfway cases to even as Go's
 * strconv does (toPrecision rounds them up): 100.5 → 100, 101.5 → 102.
 */
function threeDigits(x: number): number {
  if (x === 0) return 0;
  // toExponential(99) is exact for any double this formats, so a halfway
  // case shows as a 5 followed only by zeros.
  const [mantissa, exp] = x.toExponential(99).split("e");
  const digits = mantissa.replace(/^-/, "").replace(".", "");
  if (digits[3] === "5" && /^0*$/.test(digits.slice(4)) && Number(digits[2]) % 2 === 0) return Number(`${x < 0 ? "-" : ""}${digits.slice(0, 3)}e${Number(exp) - 2}`);
  return Number(x.toPrecision(3));
}

/** A ratio of two times: "1.25×", "12.5×", "125×". */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return "–";
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}
