// Format's half in the runtime worker (runtime/worker.ts hands it "format"
// messages): runs formatter.py, a whitespace-only formatter built on
// Python's own tokenize module that refuses any change to the program's
// AST, in the worker's interpreter. MicroPython has neither tokenize nor
// ast, so only Pyodide formats (the page starts one for the purpose in
// the other modes, format.ts).

import FORMATTER from "./formatter.py";

/** The result of formatting: the new code, or why the code was left alone. */
export interface FormatResult {
  code: string | null;
  error: string | null;
}

/** What the formatter needs of the worker's interpreter. */
export interface FormatRuntime {
  runPython(code: string): unknown;
  global(name: string): unknown;
}

const installed = new WeakMap<FormatRuntime, (src: string) => string>();

/**
 * Formats code in rt (a Pyodide interpreter). The formatter is installed in
 * the interpreter's globals on first use: programs run in namespaces of
 * their own and never see it.
 */
export function formatIn(rt: FormatRuntime | null, runtime: string, code: string): FormatResult {
  if (!rt) return { code: null, error: "the interpreter has not started" };
  if (runtime !== "pyodide") return { code: null, error: "formatting needs Pyodide (MicroPython has no tokenize module)" };
  try {
    let fn = installed.get(rt);
    if (!fn) {
      rt.runPython(FORMATTER);
      fn = rt.global("_pyplay_format_json") as (src: string) => string;
      installed.set(rt, fn);
    }
    return JSON.parse(fn(code)) as FormatResult;
  } catch (err) {
    return { code: null, error: `the formatter failed: ${(err as Error)?.message ?? err}` };
  }
}
