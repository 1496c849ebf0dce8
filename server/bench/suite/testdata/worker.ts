// A module worker for the browser test: loads one runtime's kernels through
// the real loader from /wasm/ and runs every workload it is sent.
import { loadKernels, type WasmRuntime } from "../../../../web/runtime/wasmkernels";

self.onmessage = async (e: MessageEvent<{ runtime: WasmRuntime; workloads: { id: string; n: number }[] }>) => {
  try {
    const k = await loadKernels(e.data.runtime, "/wasm/");
    const results: Record<string, string> = {};
    for (const w of e.data.workloads) results[w.id] = k.run(w.id, w.n);
    // Twice: a kernel must give the same answer on a second call.
    for (const w of e.data.workloads) if (k.run(w.id, w.n) !== results[w.id]) results[w.id] += " (differs on a second call)";
    self.postMessage({ runtime: k.runtime, version: k.version, results, hasProcessVersions: "versions" in ((globalThis as { process?: object }).process ?? {}) });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
