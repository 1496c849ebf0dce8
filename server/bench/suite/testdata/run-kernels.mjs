// Runs the suite's WebAssembly kernels in Node through the real loader
// (web/runtime/wasmkernels.ts, bundled by the Go test) and prints one JSON
// line: {"runtime", "version", "results": {id: checksum or "error: …"}}.
//
//   node run-kernels.mjs <bundle.mjs> <base URL of the wasm dir> <wasm_exec.js path> <runtime> <workloads.json path>
//
// Node cannot import() an http: URL, so wasm_exec.js is imported from disk
// first; everything else (manifest, .wasm) is fetched from the base URL.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [bundle, base, wasmExec, runtime, workloadsPath] = process.argv.slice(2);
if (runtime === "go-wasm") await import(pathToFileURL(wasmExec).href);
const { loadKernels } = await import(pathToFileURL(bundle).href);
const k = await loadKernels(runtime, base);
const results = {};
for (const w of JSON.parse(readFileSync(workloadsPath, "utf8"))) {
  try {
    results[w.id] = k.run(w.id, w.n);
  } catch (e) {
    results[w.id] = "error: " + e.message;
  }
}
let unknown = "";
try {
  k.run("no-such-workload", 1);
} catch (e) {
  unknown = e.message;
}
console.log(JSON.stringify({ runtime: k.runtime, version: k.version, results, unknown }));
// The Go program waits for calls forever.
process.exit(0);
