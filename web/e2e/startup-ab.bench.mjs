// Side-by-side start-up comparison of two (or more) pyplay binaries: the
// return-visit time from navigation to the first output of a one-line
// program, each binary on its own server, binaries alternated round by
// round so they see the same machine. Used to decide whether a start-up
// change pays (BENCHMARKS.md). Loopback only; bounded by N and R.
//
//   BINS=/tmp/pyplay-before,bin/pyplay N=6 R=2 node web/e2e/startup-ab.bench.mjs
import { launchBrowser, startServer } from "./helpers.mjs";
import { median, pyplayFirstOutput as firstOutput, snapshotSaved } from "./startup.mjs";

const bins = (process.env.BINS ?? "").split(",").filter(Boolean);
if (bins.length < 2) throw new Error("set BINS to two or more comma-separated pyplay binaries");
const N = Number(process.env.N ?? 5); // rounds
const R = Number(process.env.R ?? 2); // return visits per round and binary
const servers = [];
for (const bin of bins) servers.push(await startServer([], {}, bin));
const browser = await launchBrowser();
const results = bins.map(() => []);
try {
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < bins.length; j++) {
      const context = await browser.newContext();
      const url = servers[j].url + "/";
      const cold = await firstOutput(context, url);
      await snapshotSaved(cold.page);
      await cold.page.close();
      for (let r = 0; r < R; r++) {
        const warm = await firstOutput(context, url);
        if (warm.path !== "snapshot") console.error(`${bins[j]}: return visit used path ${warm.path}`);
        results[j].push(Math.round(warm.ms));
        await warm.page.close();
      }
      await context.close();
    }
    console.error(`round ${i + 1}/${N} done`);
  }
} finally {
  await browser.close();
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
}
for (let j = 0; j < bins.length; j++) {
  console.log(`${bins[j]}: median ${median(results[j])} ms, ratio to ${bins[0]} ${(median(results[j]) / median(results[0])).toFixed(2)}; samples ${JSON.stringify(results[j])}`);
}
