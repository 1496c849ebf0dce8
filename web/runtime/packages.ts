// Pyodide packages from the server's distribution (pyplay's -packages flag):
// before each run the worker (worker.ts) loads the packages the program
// imports and cannot import yet, from the lock file and base URL the server
// gave it (RuntimeInfo.packages), with progress in the status line. A
// program that imports only the standard library costs one scan of its
// text: Python is asked (find_imports, then find_spec) only when an import
// statement names a module the lock file provides. Loading happens after
// start-up, so a memory snapshot never holds a package.

import type { RunStatus, RuntimeInfo } from "./messages";

export type PackagesInfo = NonNullable<RuntimeInfo["packages"]>;

/** What loadPyodide takes to load packages from the distribution; nothing without one. */
export function packageOptions(info: RuntimeInfo): { lockFileURL?: string; packageBaseUrl?: string } {
  const p = info.packages;
  if (!p) return {};
  return { lockFileURL: new URL(p.lock, location.href).href, packageBaseUrl: new URL(p.base, location.href).href };
}

/** Whether loadPyodide fetches the runtime's own lock file (not one of a -packages directory). */
export function usesRuntimeLock(info: RuntimeInfo): boolean {
  return !info.packages || new URL(info.packages.lock, location.href).pathname === info.base + "pyodide-lock.json";
}

/**
 * The note a ModuleNotFoundError gets when the server has packages but none
 * provides the module (the driver's default says the server has none).
 */
export const NOT_IN_DISTRIBUTION =
  "This server's Pyodide packages (pyplay's -packages flag) include none that provides it; its operator can add it with `pyplay packages import`.";

/** The parts of Pyodide the loader uses. */
export interface PackagePyodide {
  loadPackage(
    names: string[],
    options: { messageCallback?: (m: string) => void; errorCallback?: (m: string) => void; checkIntegrity?: boolean },
  ): Promise<unknown>;
  loadedPackages: Record<string, string>;
  lockfile: { packages: Record<string, { name: string; imports: string[]; file_name: string; depends: string[] }> };
  runPython(code: string): unknown;
  globals: { get(name: string): unknown; set(name: string, value: unknown): void };
}

export interface PackageHooks {
  /** Status line text while loading; null when done. */
  status(text: string | null): void;
  /** Writes to the program's stderr. */
  stderr(text: string): void;
  /** Clears a pending Stop so it does not fire in the next Python that runs. */
  clearInterrupt(): void;
}

// Defined in the interpreter on first need (never in a snapshot): which of
// the names the program really imports (an import statement, per the AST),
// and which of those it cannot import now.
const WANTED = `
def _pyplay_packages_wanted(code, names):
    import importlib.util, sys
    from pyodide.code import find_imports
    found = set(find_imports(code))
    imported, missing = [], []
    for n in names:
        if n not in found:
            continue
        imported.append(n)
        if n in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(n)
        except Exception:
            spec = None
        if spec is None:
            missing.append(n)
    return [imported, missing]
`;

/** Top-level module names in import statements (a superset: strings and comments count too). */
export function importedNames(code: string): Set<string> {
  const out = new Set<string>();
  const text = code.replace(/\\\r?\n/g, " ");
  for (const m of text.matchAll(/\bfrom\s+([A-Za-z_][\w]*)/g)) out.add(m[1]);
  for (const m of text.matchAll(/\bimport\s+([^\n;#]+)/g)) {
    for (const part of m[1].split(",")) {
      const name = /^\s*\(?\s*([A-Za-z_]\w*)/.exec(part)?.[1];
      if (name) out.add(name);
    }
  }
  return out;
}

const size = (n: number) => (n < 1e6 ? `${Math.ceil(n / 1e3)} kB` : `${(n / 1e6).toFixed(1)} MB`);

export class PackageLoader {
  private byImport: Map<string, string> | null = null;
  private helpers = false;
  private stopRun: (() => void) | null = null;
  /** Bytes of package files in flight for the status line: url → [loaded, total]. */
  private transfers = new Map<string, [number, number]>();
  /** HTTP status of package files that failed (a fetch with integrity fails without one). */
  private failures = new Map<string, number>();
  private loading: string[] = [];

  constructor(
    private readonly py: PackagePyodide,
    private readonly info: PackagesInfo,
    private readonly hooks: PackageHooks,
  ) {
    // The server has packages: a module none of them provides says so.
    py.globals.set("_PYPLAY_NO_MODULE", NOT_IN_DISTRIBUTION);
    this.watchDownloads();
  }

  /** Stop pressed: a load in progress is abandoned (it may finish in the background). */
  stop(): boolean {
    if (!this.stopRun) return false;
    this.stopRun();
    return true;
  }

  /**
   * Loads what code imports and cannot import yet. Returns null when the
   * program may run, or the run's status when it must not: "error" (a
   * package could not be loaded; the reason is on stderr) or
   * "interrupted" (Stop).
   */
  async load(code: string): Promise<RunStatus | null> {
    const candidates = this.candidates(code);
    if (candidates.length === 0) return null;
    if (!this.helpers) {
      this.py.runPython(WANTED);
      this.helpers = true;
    }
    const [imported, missing] = this.callList("_pyplay_packages_wanted", code, candidates) as unknown as [string[], string[]];
    const byImport = this.importMap();
    // Not importable yet, or installed while a dependency of it failed to load.
    const wanted = imported.filter((n) => {
      const pkg = byImport.get(n)!;
      return missing.includes(n) || this.unloaded(pkg).some((p) => p !== pkg);
    });
    if (wanted.length === 0) return null;
    const names = [...new Set(wanted.map((n) => byImport.get(n)!))].sort();
    const all = [...new Set(names.flatMap((n) => this.unloaded(n)))].sort(); // with dependencies
    const errors: string[] = [];
    this.loading = all;
    this.transfers.clear();
    this.hooks.status(`Loading ${all.join(", ")}…`);
    let stopped = false;
    const stop = new Promise<void>((resolve) => {
      this.stopRun = () => {
        stopped = true;
        resolve();
      };
    });
    try {
      await Promise.race([
        this.py.loadPackage(names, {
          messageCallback: () => {},
          errorCallback: (m) => errors.push(m),
          checkIntegrity: true,
        }),
        stop,
      ]);
    } catch (err) {
      errors.push((err as Error)?.message ?? String(err));
    } finally {
      this.stopRun = null;
      this.loading = [];
      this.hooks.status(null);
    }
    if (stopped) {
      this.hooks.clearInterrupt();
      this.hooks.stderr(`KeyboardInterrupt: stopped while loading ${all.join(", ")}\n`);
      return "interrupted";
    }
    const failed = [...new Set(names.flatMap((n) => this.unloaded(n)))].sort();
    if (failed.length === 0) return null;
    const files = failed.map((p) => {
      const file = this.entry(p)?.file_name ?? p;
      const status = this.failures.get(new URL(file, new URL(this.info.base, location.href)).href);
      return status ? `${file}: HTTP ${status}` : file;
    });
    const needs = failed.some((f) => !names.includes(f)) ? `, which ${names.join(", ")} needs,` : "";
    this.hooks.stderr(
      `ModuleNotFoundError: pyplay could not load the package ${failed.join(", ")} (${files.join(", ")})${needs} ` +
        `from this server: it is listed in the server's Pyodide lock file, but the server's -packages distribution ` +
        `could not provide it${this.notes(errors)}. The server's operator can add it with \`pyplay packages import\`.\n`,
    );
    return "error";
  }

  /** The package and its dependencies (by name) that are not loaded. */
  private unloaded(name: string): string[] {
    const loaded = this.py.loadedPackages;
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (n: string) => {
      const e = this.entry(n);
      if (!e || seen.has(e.name)) return;
      seen.add(e.name);
      if (!(e.name in loaded)) out.push(e.name);
      for (const d of e.depends ?? []) visit(d);
    };
    visit(name);
    return out;
  }

  /** Import names in code whose package, or a dependency of it, is not loaded. */
  private candidates(code: string): string[] {
    const names = importedNames(code);
    if (names.size === 0) return [];
    const byImport = this.importMap();
    return [...names].filter((n) => {
      const pkg = byImport.get(n);
      return pkg !== undefined && this.unloaded(pkg).length > 0;
    });
  }

  private importMap(): Map<string, string> {
    if (this.byImport) return this.byImport;
    const m = new Map<string, string>();
    const lock = this.py.lockfile;
    if (!lock?.packages) return m; // not loaded yet: ask again next time
    for (const p of Object.values(lock.packages)) for (const i of p.imports ?? []) m.set(i, p.name);
    this.byImport = m;
    return m;
  }

  /** The lock's entry of a package, by its name or its (normalized) key. */
  private entry(name: string) {
    const pkgs = this.py.lockfile?.packages ?? {};
    const key = name.toLowerCase().replace(/[-_.]+/g, "-");
    return pkgs[key] ?? Object.values(pkgs).find((p) => p.name === name);
  }

  private callList(fn: string, ...args: unknown[]): string[] {
    const f = this.py.globals.get(fn) as (...a: unknown[]) => { toJs(): string[]; destroy(): void };
    const r = f(...args);
    try {
      return r.toJs();
    } finally {
      r.destroy();
    }
  }

  /** Pyodide's reasons, shortened to what a person can act on. */
  private notes(errors: string[]): string {
    const why = errors.filter((e) => !e.startsWith("The following error occurred"));
    return why.length ? ` (${why.join("; ")})` : "";
  }

  /**
   * Counts the bytes of package files as they arrive (a clone of each
   * response; the original goes to Pyodide untouched) for "Loading numpy:
   * 3.1 of 7.1 MB…".
   */
  private watchDownloads(): void {
    const base = new URL(this.info.base, location.href).href;
    const inner = globalThis.fetch.bind(globalThis);
    let last = 0;
    const report = () => {
      const now = performance.now();
      if (now - last < 100 || this.loading.length === 0) return;
      last = now;
      let loaded = 0;
      let total = 0;
      for (const [l, t] of this.transfers.values()) {
        loaded += l;
        total += t;
      }
      const done = total > 0 ? `: ${size(loaded)} of ${size(total)}` : loaded > 0 ? `: ${size(loaded)}` : "";
      this.hooks.status(`Loading ${this.loading.join(", ")}${done}…`);
    };
    globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const abs = new URL(url, location.href).href;
      let res: Response;
      try {
        res = await inner(input, init);
      } catch (err) {
        // Pyodide fetches with integrity, so a 404 is only "Failed to fetch": ask for the status.
        if (abs.startsWith(base)) {
          const head = await inner(abs, { method: "HEAD" }).catch(() => null);
          if (head && !head.ok) this.failures.set(abs, head.status);
        }
        throw err;
      }
      if (!abs.startsWith(base) || !res.ok || !res.body || this.loading.length === 0) return res;
      const total = Number(res.headers.get("content-length")) || 0;
      this.transfers.set(abs, [0, total]);
      const reader = res.clone().body!.getReader();
      void (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            const t = this.transfers.get(abs);
            if (t) t[0] += value.byteLength;
            report();
          }
        } catch {
          // Pyodide reports the failure.
        }
      })();
      return res;
    };
  }
}
