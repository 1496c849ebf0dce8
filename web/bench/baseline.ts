// The baseline page for start-up benchmarks: plain self-hosted Pyodide, the
// way its documentation loads it (loadPyodide in a module worker, then run a
// one-line program), from the same files and server as the playground but
// with none of pyplay's start-up work (no snapshot, no spare). The same
// module is the page script and, started with ?worker, the worker.

interface BaselineConfig {
  base: string;
}

const inWorker = typeof document === "undefined";

if (inWorker) {
  const scope = globalThis as unknown as {
    postMessage(m: unknown): void;
    onmessage: ((e: MessageEvent<BaselineConfig>) => void) | null;
  };
  scope.onmessage = async (e) => {
    const { loadPyodide } = (await import(/* @vite-ignore */ e.data.base + "pyodide.mjs")) as {
      loadPyodide(o: object): Promise<{ runPython(c: string): unknown; setStdout(o: object): void }>;
    };
    const py = await loadPyodide({ indexURL: e.data.base });
    py.setStdout({ batched: (line: string) => scope.postMessage({ type: "out", line }) });
    py.runPython("print('hello')");
  };
} else {
  const cfg = JSON.parse(document.getElementById("pyplay-config")?.textContent ?? "{}") as BaselineConfig;
  const out = document.getElementById("output")!;
  const marks: { firstOutput?: number } = {};
  (window as unknown as { baseline: typeof marks }).baseline = marks;
  const w = new Worker(import.meta.url, { type: "module" });
  w.onmessage = (e: MessageEvent<{ type: string; line: string }>) => {
    marks.firstOutput ??= performance.now();
    out.textContent += e.data.line + "\n";
  };
  w.postMessage(cfg);
}
