// Browser test of the benchmark stream's rate_limited path (web/bench/stream.ts):
// a server that allows 2 messages a second per connection (-ws-rate 2, so
// bursts of 4) refuses most of a page's burst of run.start messages; the page
// must wait and send them again, hold back each run's samples and run.end
// until its run.start is acknowledged, and end with every sample stored once.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, openPage, setCode, startServer, waitReady } from "./helpers.mjs";

const RUNS = 8; // twice the burst the server allows for run.start
const SAMPLES = 5;

let browser, server, context;

before(async () => {
  browser = await launchBrowser();
  server = await startServer(["-ws-rate", "2"]);
  context = await browser.newContext();
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/** The server's count of rate_limited answers on /ws (metrics are on their own listener). */
async function rateLimited() {
  const text = await (await fetch(server.metricsUrl)).text();
  const m = /^pyplay_ws_errors_total\{code="rate_limited"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

test("a page refused for sending too fast waits, resends, and loses nothing", async () => {
  const { page, errors } = await openPage(context, server.url + "/?runtime=micropython");
  await waitReady(page);
  await setCode(page, "# rate limit\nx = sum(range(100))\n");

  // A benchmark through the panel, at the low rate: it stores its snippet
  // and starts the page's stream.
  await page.getByRole("button", { name: "Benchmark", exact: true }).click();
  await page.getByRole("checkbox", { name: "Pyodide", exact: true }).uncheck();
  await page.getByRole("checkbox", { name: "MicroPython", exact: true }).check();
  await page.getByRole("spinbutton", { name: "Samples" }).fill("3");
  await page.getByRole("spinbutton", { name: "Warmup (s)" }).fill("0.1");
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await page.waitForFunction(() => !window.pyplay.bench.isRunning, null, { timeout: 120000 });
  const [first] = await page.evaluate(() => window.pyplay.bench.results());
  assert.equal(first.state, "done");
  assert.equal(first.stored, first.warmup + first.measured, "the panel's run is stored at 2 messages a second");
  const href = await page.getByRole("link", { name: "Open the live dashboard" }).getAttribute("href");
  const snippet = /^\/bench\/(.+)$/.exec(href)?.[1];
  assert.ok(snippet, `the benchmark stored its snippet (dashboard link ${href})`);
  const limitedBefore = await rateLimited();

  // Then more runs at once than the server takes in a burst, through the
  // page's own stream: run.start, a batch of samples and run.end each.
  const { seconds, runs } = await page.evaluate(
    async ({ snippet, n, samples }) => {
      const stream = window.pyplay.bench.stream;
      const ids = [];
      for (let i = 0; i < n; i++) {
        const id = crypto.randomUUID();
        ids.push(id);
        stream.startRun({ id, snippet, runtime: "micropython", env: { test: "ratelimit" } });
        stream.addSamples(
          id,
          Array.from({ length: samples }, (_, seq) => ({ seq, warmup: seq === 0, ns: 1000 + i * 10 + seq, iters: 3 })),
        );
        stream.endRun(id, "done");
      }
      const t0 = performance.now();
      await stream.drained();
      return { seconds: (performance.now() - t0) / 1000, runs: ids.map((id) => ({ id, stored: stream.storedSamples(id) })) };
    },
    { snippet, n: RUNS, samples: SAMPLES },
  );

  // The server did refuse some (so the retry path ran), and the page backed
  // off: it resends a refused message after a second, so each of the
  // 3 × RUNS messages can be refused at most about once a second while the
  // page drains; a page resending at once would be refused hundreds of
  // times a second. (A bound on the rate of refusals, whatever the speed.)
  const limited = (await rateLimited()) - limitedBefore;
  assert.ok(limited >= 1, "the burst was rate limited");
  const bound = 3 * RUNS * (Math.ceil(seconds) + 1);
  assert.ok(limited <= bound, `${limited} rate_limited answers in ${seconds.toFixed(1)} s (bound ${bound}): the page must wait before resending`);
  console.log(`${limited} rate_limited answers while draining for ${seconds.toFixed(1)} s`);

  // Everything is stored, once, and every run is done.
  for (const r of runs) {
    assert.equal(r.stored, SAMPLES, `run ${r.id}: acknowledged samples`);
    const res = await fetch(`${server.url}/api/bench/runs/${r.id}`);
    assert.equal(res.status, 200, `run ${r.id} is stored`);
    const run = await res.json();
    assert.equal(run.status, "done", `run ${r.id}: status`);
    assert.deepEqual(
      run.samples.map((s) => [s.seq, s.iters]),
      Array.from({ length: SAMPLES }, (_, seq) => [seq, 3]),
      `run ${r.id}: every sample once`,
    );
  }
  assert.equal(await page.evaluate(() => window.pyplay.bench.stream.unacknowledged), 0);
  assert.deepEqual(errors, []);
});

test("many live runs sampled in turn (an A/B benchmark's) share the batch rate and keep up", async () => {
  const { page, errors } = await openPage(context, server.url + "/?runtime=micropython");
  await waitReady(page);
  const created = await fetch(server.url + "/api/snippets", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: "# many runs\nx = 1\n", runtime: "micropython" }),
  });
  const { id: snippet } = await created.json();
  // 12 runs take one sample each in turn, 40 rounds. Sent a batch per sample
  // that would be 480 batches, four minutes at this server's 2 a second; the
  // stream must gather each run's waiting samples into one batch.
  const RUNS12 = 12;
  const ROUNDS = 40;
  const runs = await page.evaluate(
    async ({ snippet, n, rounds }) => {
      const stream = window.pyplay.bench.producer();
      const ids = Array.from({ length: n }, () => crypto.randomUUID());
      for (const id of ids) stream.startRun({ id, snippet, runtime: "micropython", env: { test: "many runs" } });
      for (let r = 0; r < rounds; r++) {
        for (const id of ids) {
          stream.addSamples(id, [{ seq: r, warmup: false, ns: 1000 + r, iters: 1 }]);
          await new Promise((ok) => setTimeout(ok, 5));
        }
      }
      for (const id of ids) stream.endRun(id, "done");
      await Promise.race([stream.drained(), new Promise((ok) => setTimeout(ok, 60000))]);
      return ids.map((id) => ({ id, stored: stream.storedSamples(id) }));
    },
    { snippet, n: RUNS12, rounds: ROUNDS },
  );
  for (const r of runs) {
    assert.equal(r.stored, ROUNDS, `run ${r.id}: every sample acknowledged within a minute`);
    const run = await (await fetch(`${server.url}/api/bench/runs/${r.id}`)).json();
    assert.equal(run.status, "done");
    assert.deepEqual(
      run.samples.map((s) => s.seq),
      Array.from({ length: ROUNDS }, (_, i) => i),
      `run ${r.id}: every sample once, in order`,
    );
  }
  assert.deepEqual(errors, []);
});
