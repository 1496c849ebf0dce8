// Browser tests of /embed/{id} (issue 12, "Embed"): another site frames a
// snippet and runs it there. The embedding page is served from a second
// origin by a tiny server in this file (localhost against the playground's
// 127.0.0.1: another site, not only another port), sending the headers a
// real embedding page must send for the frame to be cross-origin isolated
// (COOP + COEP) and granting it with allow="cross-origin-isolated".
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { launchBrowser, startServer } from "./helpers.mjs";

let server, browser, site, siteURL, id;

/** Serves one page that frames /embed/{id} of the playground, as a blog would. */
function embeddingSite(frameURL) {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>A blog post</title></head><body>
<h1>A post about recursion</h1>
<iframe src="${frameURL}" width="100%" height="360" title="Python program (pyplay)" allow="cross-origin-isolated"></iframe>
</body></html>`;
  return createServer((req, res) => {
    res.writeHead(200, {
      "Content-Type": "text/html; charset=utf-8",
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
    });
    res.end(html);
  });
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const res = await fetch(`${server.url}/api/snippets`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: "# Squares\nfor i in range(4):\n    print(i, i * i)\n", runtime: "micropython" }),
  });
  ({ id } = await res.json());
  site = embeddingSite(`${server.url}/embed/${id}`);
  await new Promise((r) => site.listen(0, "127.0.0.1", r));
  siteURL = `http://localhost:${site.address().port}/`;
});

after(async () => {
  await browser?.close();
  site?.close();
  await server?.stop();
  server?.cleanup();
});

test("a page on another site frames the snippet, and Run works inside the frame, cross-origin isolated", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(siteURL);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, "the embedding page is isolated");
  const frame = page.frameLocator("iframe");
  await frame.getByRole("status").filter({ hasText: /^Ready/ }).waitFor({ timeout: 120000 });
  const inner = page.frames().find((f) => f.url().includes("/embed/"));
  assert.equal(await inner.evaluate(() => crossOriginIsolated), true, "Pyodide and MicroPython get shared memory in the frame");
  assert.match(await inner.evaluate(() => window.pyplayEmbed.editor.code), /range\(4\)/);
  const open = frame.getByRole("link", { name: /Open in pyplay/ });
  assert.equal(await open.getAttribute("href"), `/s/${id}`);
  assert.equal(await open.getAttribute("target"), "_blank");

  await frame.getByRole("button", { name: "Run", exact: true }).click();
  const log = frame.getByRole("log", { name: "Output" });
  await frame.getByRole("status").filter({ hasText: /^Finished/ }).waitFor({ timeout: 60000 });
  assert.equal(await log.textContent(), "0 0\n1 1\n2 4\n3 9\n");
  assert.deepEqual(errors, []);
  await context.close();
});

test("Share offers the <iframe> code that embeds the snippet", async () => {
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const page = await context.newPage();
  await page.goto(`${server.url}/s/${id}`);
  await page.getByRole("button", { name: "Share" }).click();
  const toast = page.getByRole("alert");
  await toast.getByText("Embed").click();
  const code = await toast.getByRole("textbox", { name: "Embed code" }).inputValue();
  assert.match(code, new RegExp(`^<iframe src="${server.url}/embed/${id}" `));
  assert.match(code, /allow="cross-origin-isolated/);
  await context.close();
});
