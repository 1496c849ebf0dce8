// The browser test's page: one module worker per runtime; the results land
// in window.__results.
const w = window as unknown as { __results: Record<string, unknown>; __start(runtimes: string[], workloads: unknown): void };
w.__results = {};
w.__start = (runtimes, workloads) => {
  for (const runtime of runtimes) {
    const worker = new Worker("/worker.js", { type: "module" });
    worker.onmessage = (e) => (w.__results[runtime] = e.data);
    worker.onerror = (e) => (w.__results[runtime] = { error: e.message || "worker error" });
    worker.postMessage({ runtime, workloads });
  }
};
