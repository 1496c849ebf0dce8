// Browser test of -packages https://… (issue 14): a mirror of Pyodide's
// distribution the operator trusts. The test runs a mirror of its own on
// loopback over HTTPS (a self-signed certificate made with openssl, which
// this browser is told to accept) that records what is asked of it and has
// no files. The runtime's own lock names numpy's wheel and sha256; the page
// must ask the mirror for exactly that file, say clearly that it could not
// load it, and talk to no origin but the server's and the mirror's.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, openPage, output, setCode, startServer, waitReady, waitState } from "./helpers.mjs";

let mirror, mirrorOrigin, asked, server, browser, certDir;

before(async () => {
  certDir = mkdtempSync(join(tmpdir(), "pyplay-mirror-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", join(certDir, "key.pem"), "-out", join(certDir, "cert.pem"),
  ], { stdio: "ignore" });
  asked = [];
  mirror = createServer({ key: readFileSync(join(certDir, "key.pem")), cert: readFileSync(join(certDir, "cert.pem")) }, (req, res) => {
    asked.push(req.url);
    // A real mirror (a CDN) answers any origin; this one has no files.
    res.writeHead(404, { "access-control-allow-origin": "*", "content-type": "text/plain" });
    res.end("not here");
  });
  await new Promise((resolve) => mirror.listen(0, "127.0.0.1", resolve));
  mirrorOrigin = `https://127.0.0.1:${mirror.address().port}`;
  server = await startServer(["-packages", `${mirrorOrigin}/pyodide/314.0.7/full`]);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [...CHROMIUM_ARGS, "--ignore-certificate-errors"],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
  await new Promise((resolve) => (mirror ? mirror.close(resolve) : resolve()));
  rmSync(certDir, { recursive: true, force: true });
});

test("the CSP lets pages reach the mirror's origin, and only that one besides the server's", async () => {
  const res = await fetch(server.url + "/");
  const csp = res.headers.get("content-security-policy");
  assert.match(csp, new RegExp(`connect-src 'self' ${mirrorOrigin.replace(/\./g, "\\.")};`));
  assert.match(server.log(), /packages: from a mirror/);
});

test("import numpy asks the mirror for the wheel the runtime's lock names, and says clearly it is missing", async () => {
  const context = await browser.newContext();
  try {
    const { page, requests } = await openPage(context, server.url + "/");
    await waitReady(page, 120000);
    await setCode(page, "import numpy\nprint(numpy.__version__)\n");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    const state = await waitState(page, ["done", "error", "stopped"], 120000);
    const text = await output(page).textContent();
    assert.equal(state, "error", text);
    assert.match(text, /could not load the package numpy \(numpy-[\d.]+-cp\d+-cp\d+-[^ ]+\.whl: HTTP 404\)/);
    assert.match(text, /-packages/);
    // The mirror was asked for numpy's wheel under its base path.
    assert.ok(
      asked.some((u) => /^\/pyodide\/314\.0\.7\/full\/numpy-[\d.]+-cp\d+-cp\d+-.+\.whl$/.test(u)),
      `the mirror was asked: ${asked.join(", ")}`,
    );
    // Nothing but the server's origin and the mirror's.
    const origins = new Set(requests.filter((u) => /^https?:/.test(u)).map((u) => new URL(u).origin));
    origins.delete(new URL(server.url).origin);
    origins.delete(mirrorOrigin);
    assert.deepEqual([...origins], []);
    // The page stays usable.
    await setCode(page, "print(6 * 7)\n");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    assert.equal(await waitState(page, ["done", "error", "stopped"], 60000), "done");
    assert.equal(await output(page).textContent(), "42\n");
  } finally {
    await context.close();
  }
});
