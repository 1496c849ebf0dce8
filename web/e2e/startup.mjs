// What the start-up benchmarks (startup.bench.mjs, startup-ab.bench.mjs)
// share: reading a page's time to first output and waiting for its snapshot.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Opens the editor at url in a new page of context, runs a one-line program
 * as soon as the page's script is up (queued until the runtime is ready) and
 * returns the page's own clock at its first output, with the start path.
 */
export async function pyplayFirstOutput(context, url) {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(() => window.pyplay, null, { polling: 5, timeout: 60000 });
  await page.evaluate(() => {
    window.pyplay.editor.code = "print('hello')\n";
    window.pyplay.run();
  });
  const t = await page.waitForFunction(() => window.pyplay.marks.firstOutput, null, { polling: 10, timeout: 60000 });
  const ms = await t.jsonValue();
  const path = await page.getByRole("status").getAttribute("data-path");
  return { page, ms, path };
}

/** Waits (30 s at most) until the page's build has a snapshot in Cache Storage. */
export async function snapshotSaved(page) {
  const t0 = Date.now();
  while (Date.now() - t0 < 30000) {
    const saved = await page.evaluate(async () => {
      const keys = await (await caches.open("pyplay-snapshots")).keys();
      return keys.some((r) => r.url.endsWith("/" + window.pyplay.cfg.build));
    });
    if (saved) return Date.now() - t0;
    await page.waitForTimeout(100);
  }
  throw new Error("no snapshot saved within 30 s");
}
