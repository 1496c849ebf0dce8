// The reference suite's Python versions (issue 15) in the editor: each
// example, run in Pyodide and in MicroPython, prints exactly its
// workload's check from server/bench/suite/workloads.json, the checksum
// the Go and Rust kernels give (server/bench/suite tests those).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { openPage, output, ROOT, setCode, waitReady, waitState, withServerAndBrowser } from "./helpers.mjs";

const workloads = JSON.parse(readFileSync(`${ROOT}server/bench/suite/workloads.json`, "utf8"));
let server, browser;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

for (const runtime of ["Pyodide", "MicroPython"]) {
  describe(runtime, () => {
    test(`every suite example prints its check in ${runtime}`, async () => {
      const context = await browser.newContext();
      try {
        const { page, errors } = await openPage(context, server.url + "/");
        await waitReady(page, 120000);
        if (runtime !== "Pyodide") {
          await page.getByRole("combobox", { name: "Runtime" }).selectOption({ label: runtime });
        }
        await page.waitForFunction(
          (r) => {
            const st = document.querySelector('[role="status"]');
            return st?.getAttribute("data-state") === "ready" && st.textContent.includes(`Ready: ${r}`);
          },
          runtime,
          { timeout: 120000 },
        );
        // The examples menu groups them.
        const group = page.locator('#examples optgroup[label="Benchmark suite"] option');
        assert.equal(await group.count(), workloads.length);
        const got = {};
        for (const w of workloads) {
          await setCode(page, readFileSync(`${ROOT}snippets/examples/${w.python}.py`, "utf8"));
          await page.getByRole("button", { name: "Run", exact: true }).click();
          const state = await waitState(page, ["done", "error", "stopped"], 120000);
          got[w.id] = `${state}: ${(await output(page).textContent()).trim()}`;
        }
        assert.deepEqual(got, Object.fromEntries(workloads.map((w) => [w.id, `done: ${w.check}`])));
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  });
}
