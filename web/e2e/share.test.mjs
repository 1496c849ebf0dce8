// Browser tests of sharing (issue 3): the real binary, real Chromium. Share
// puts the link in the address bar and on the clipboard; the link opens the
// same program without running it; edits show the badge and fork on the
// next share; hostile snippets stay text; unsaved work survives a reload.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { appReady, launchBrowser, openPage, output, setCode, startServer, waitReady } from "./helpers.mjs";

let server, browser, context;

before(async () => {
  server = await startServer(["-burst", "100"]);
  browser = await launchBrowser();
  context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

const ID = /\/s\/([A-Za-z0-9_-]{11,})$/;
const code = async (page) => {
  await appReady(page);
  return page.evaluate(() => window.pyplay.editor.code);
};
const shareButton = (page) => page.getByRole("button", { name: "Share", exact: true });
const badge = (page) => page.getByText("edited since shared");
const toast = (page) => page.getByRole("alert");

/** Opens a page and waits until the editor is up (not the runtime). */
async function open(path, ctx = context) {
  const { page, errors } = await openPage(ctx, server.url + path);
  await page.getByRole("textbox", { name: "Code" }).waitFor();
  return { page, errors };
}

/** Clicks Share and returns the link it announced. */
async function share(page) {
  const before = page.url();
  await shareButton(page).click();
  await toast(page).filter({ hasText: "Link copied" }).waitFor();
  await page.waitForURL((u) => u.href !== before && ID.test(u.pathname));
  return page.url();
}

async function apiSnippet(id) {
  const res = await fetch(`${server.url}/api/snippets/${id}`);
  assert.equal(res.status, 200);
  return res.json();
}

describe("sharing", () => {
  let first; // { url, id, code }

  test("Share puts a link in the address bar and on the clipboard", async () => {
    const { page, errors } = await open("/");
    await page.getByRole("combobox", { name: "Runtime" }).selectOption("micropython");
    const program = "print('shared once')\n";
    await setCode(page, program);
    const url = await share(page);
    const id = ID.exec(new URL(url).pathname)[1];
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
    assert.match(await toast(page).textContent(), /Link copied/);
    assert.equal(await toast(page).getByRole("link").getAttribute("href"), url);
    assert.equal(await page.title(), `Snippet ${id} · pyplay`);
    assert.equal(await badge(page).isHidden(), true);
    const stored = await apiSnippet(id);
    assert.equal(stored.code, program);
    assert.equal(stored.runtime, "micropython");
    // Sharing the same program again gives the same link.
    await page.getByRole("button", { name: "Dismiss" }).click();
    await toast(page).waitFor({ state: "hidden" });
    await shareButton(page).click();
    await toast(page).filter({ hasText: "Link copied" }).waitFor();
    assert.equal(page.url(), url);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
    assert.deepEqual(errors, []);
    first = { url, id, code: program };
    await page.close();
  });

  test("the link opens the same code and runtime, and runs nothing", async () => {
    assert.ok(first, "needs the first test");
    // Server-side: the code is in the page before any script runs.
    const html = await (await fetch(first.url)).text();
    assert.match(html, /<textarea id="source"[^>]*>print\(&#39;shared once&#39;\)\n<\/textarea>/);
    const { page, errors } = await open(new URL(first.url).pathname);
    assert.equal(await code(page), first.code);
    assert.equal(await page.getByRole("combobox", { name: "Runtime" }).inputValue(), "micropython");
    assert.equal(await page.title(), `Snippet ${first.id} · pyplay`);
    await waitReady(page);
    await page.waitForTimeout(500);
    assert.equal(await output(page).textContent(), "");
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "ready");
    assert.equal(await badge(page).isHidden(), true);
    assert.equal(await page.getByRole("link", { name: "Download .py" }).getAttribute("href"), `/s/${first.id}.py`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("an edit shows the badge; sharing again forks, the old link keeps the old code", async () => {
    const { page } = await open(new URL(first.url).pathname);
    await setCode(page, "print('forked')\n");
    await badge(page).waitFor();
    assert.equal(await page.getByRole("button", { name: "Revert to shared" }).isVisible(), true);
    // Undoing the edit by hand hides the badge again.
    await setCode(page, first.code);
    await badge(page).waitFor({ state: "hidden" });
    await setCode(page, "print('forked')\n");
    await badge(page).waitFor();

    const forked = await share(page);
    assert.notEqual(forked, first.url);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), forked);
    assert.equal(await badge(page).isHidden(), true);
    const id = ID.exec(new URL(forked).pathname)[1];
    assert.equal((await apiSnippet(id)).code, "print('forked')\n");
    assert.equal((await apiSnippet(first.id)).code, first.code);

    const old = await open(new URL(first.url).pathname);
    assert.equal(await code(old.page), first.code);
    await old.page.close();
    // Back goes to the snippet the page was opened on.
    await page.goBack();
    await page.waitForURL(first.url);
    await page.getByRole("textbox", { name: "Code" }).waitFor();
    assert.equal(await code(page), first.code);
    await page.close();
  });

  test("a hostile snippet shows as text and runs nothing", async () => {
    const evil = "</script><img src=x onerror=alert(1)>\n</textarea><script>alert(2)</script>\nprint('harmless')\n";
    const title = "</title><img src=y onerror=alert(3)>";
    const res = await fetch(`${server.url}/api/snippets`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: evil, title, runtime: "pyodide" }),
    });
    assert.equal(res.status, 201);
    const { id } = await res.json();

    const { page, errors } = await openPage(context, "about:blank");
    const dialogs = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      d.dismiss();
    });
    await page.goto(`${server.url}/s/${id}`);
    await page.getByRole("textbox", { name: "Code" }).waitFor();
    await page.waitForTimeout(1000);
    assert.deepEqual(dialogs, []);
    assert.equal(await code(page), evil);
    assert.equal(await page.title(), `${title} · pyplay`);
    assert.equal(await page.locator("#snippet-title").textContent(), title);
    assert.equal(await page.locator('img[src="x"], img[src="y"]').count(), 0);
    assert.equal(await page.locator("img").count(), 1, "only the logo");
    assert.equal(await page.locator("script:not([src]):not([type='application/json'])").count(), 0);
    assert.equal(await output(page).textContent(), "");
    assert.deepEqual(errors, []);
    await page.close();

    // Without JavaScript the server-rendered textarea holds the same text.
    const noJS = await browser.newContext({ javaScriptEnabled: false });
    const bare = await noJS.newPage();
    bare.on("dialog", (d) => {
      dialogs.push(d.message());
      d.dismiss();
    });
    await bare.goto(`${server.url}/s/${id}`);
    assert.equal(await bare.locator("#source").inputValue(), evil);
    assert.equal(await bare.locator("img").count(), 1);
    assert.deepEqual(dialogs, []);
    await noJS.close();
  });

  test("unsaved edits survive a reload, with a note and a way back", async () => {
    const { page } = await open(new URL(first.url).pathname);
    await setCode(page, "print('unsaved edit')\n");
    await badge(page).waitFor();
    await page.reload();
    await page.getByRole("textbox", { name: "Code" }).waitFor();
    assert.equal(await code(page), "print('unsaved edit')\n");
    assert.equal(await badge(page).isVisible(), true);
    assert.match(await page.locator("#draft-note").textContent(), /Unsaved edits restored/);
    await page.getByRole("button", { name: "Revert to shared" }).click();
    assert.equal(await code(page), first.code);
    assert.equal(await badge(page).isHidden(), true);
    assert.equal(await page.locator("#draft-note").isHidden(), true);
    await page.reload();
    await page.getByRole("textbox", { name: "Code" }).waitFor();
    assert.equal(await code(page), first.code);
    assert.equal(await page.locator("#draft-note").isHidden(), true);
    await page.close();
  });

  test("the scratch page keeps its work too, runtime included", async () => {
    const ctx = await browser.newContext(); // no drafts from the tests above
    const { page } = await open("/", ctx);
    const starter = await code(page);
    await setCode(page, "print('scratch work')\n");
    await page.getByRole("combobox", { name: "Runtime" }).selectOption("micropython");
    await page.reload();
    await page.getByRole("textbox", { name: "Code" }).waitFor();
    assert.equal(await code(page), "print('scratch work')\n");
    assert.equal(await page.getByRole("combobox", { name: "Runtime" }).inputValue(), "micropython");
    await waitReady(page);
    assert.match(await page.getByRole("status").textContent(), /MicroPython/);
    assert.equal(await badge(page).isHidden(), true, "nothing was shared from here");
    // The address names the runtime (?runtime=micropython): Start over
    // throws the code away and keeps the runtime the address asks for.
    assert.equal(page.url(), `${server.url}/?runtime=micropython`);
    await page.getByRole("button", { name: "Start over" }).click();
    assert.equal(await code(page), starter);
    assert.equal(await page.getByRole("combobox", { name: "Runtime" }).inputValue(), "micropython");
    // Sharing from the scratch page keeps its work there: Back shows it.
    await setCode(page, "print('shared from scratch')\n");
    await shareButton(page).click();
    await page.waitForURL(ID);
    await page.goBack();
    await page.waitForURL(`${server.url}/?runtime=micropython`);
    await page.getByRole("textbox", { name: "Code" }).waitFor();
    assert.equal(await code(page), "print('shared from scratch')\n");
    await ctx.close();
  });

  test("when the clipboard is refused, the link is shown selected", async () => {
    const ctx = await browser.newContext();
    await ctx.addInitScript(() => {
      const refuse = () => Promise.reject(new DOMException("denied", "NotAllowedError"));
      Object.defineProperty(navigator, "clipboard", { value: { write: refuse, writeText: refuse, readText: refuse } });
      document.execCommand = () => false;
    });
    const { page } = await open("/", ctx);
    await setCode(page, "print('no clipboard')\n");
    await shareButton(page).click();
    const field = toast(page).getByRole("textbox", { name: "Link to this snippet" });
    await field.waitFor();
    assert.match(await toast(page).textContent(), /to copy this link/);
    assert.match(page.url(), ID);
    assert.equal(await field.inputValue(), page.url());
    assert.equal(await page.evaluate(() => window.getSelection()?.toString() || document.activeElement?.value), page.url());
    await ctx.close();
  });

  test("a refused share says why", async () => {
    const { page } = await open("/");
    await setCode(page, "x = 1\n" + "#".repeat(70000));
    await shareButton(page).click();
    await toast(page).filter({ hasText: "Could not share" }).waitFor();
    assert.match(await toast(page).textContent(), /the limit is 65536 bytes/);
    assert.equal(new URL(page.url()).pathname, "/");
    assert.equal(await shareButton(page).isEnabled(), true);
    await page.close();
  });
});
