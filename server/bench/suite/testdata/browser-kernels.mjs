// Opens the browser test's page in headless Chromium (as the e2e tests do)
// and prints window.__results once every runtime has answered.
//   node browser-kernels.mjs <page URL> <runtimes, comma-separated> <workloads JSON>
import { launchBrowser } from "../../../../web/e2e/helpers.mjs";

const [url, runtimes, workloads] = process.argv.slice(2);
const want = runtimes.split(",");
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(url);
  await page.evaluate(([r, w]) => window.__start(r, w), [want, JSON.parse(workloads)]);
  await page.waitForFunction((n) => Object.keys(window.__results).length === n, want.length, { timeout: 120000 });
  console.log(JSON.stringify({ results: await page.evaluate(() => window.__results), errors }));
} finally {
  await browser.close();
}
