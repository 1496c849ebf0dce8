// Browser tests of the editor page with the keyboard alone (issue 12, item
// 5): tabbing through the page never changes the code, the editor says how
// to leave it while it has the focus, every control shows where the focus
// is, Share keeps the focus where it was, and the Output log is a few keys
// away. Driven by key presses only (no clicks) on the real page.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { appReady, waitReady, withServerAndBrowser } from "./helpers.mjs";

let server, browser, context, page;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  // MicroPython starts in a moment; nothing here depends on the runtime.
  await page.goto(`${server.url}/?runtime=micropython`);
  await waitReady(page);
  await appReady(page);
});

afterEach(async () => {
  await context?.close();
});

/** What has the focus: a short description, and whether a focus indicator is drawn around it. */
function focused() {
  return page.evaluate(async () => {
    // CodeMirror marks itself focused (cm-focused, which draws its ring) on its
    // next update after the focus event: let two frames pass first.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const el = document.activeElement;
    if (!el || el === document.body) return { name: "body", ring: false };
    // The editor's ring is drawn on CodeMirror's outer element.
    const ringed = el.classList.contains("cm-content") ? el.closest(".cm-editor") : el;
    const s = getComputedStyle(ringed);
    const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || (s.boxShadow !== "none" && s.boxShadow !== "");
    const name =
      el.classList.contains("cm-content") ? "editor"
      : el.id ? `#${el.id}`
      : el.tagName === "SUMMARY" ? "Settings"
      : `${el.tagName.toLowerCase()} ${el.textContent.trim().slice(0, 20)}`;
    return { name, ring };
  });
}

const code = () => page.evaluate(() => window.pyplay.editor.code);

/** Presses Tab until the focus is on what name says (focused().name), at most 60 times. */
async function tabTo(name) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    if ((await focused()).name === name) return;
  }
  throw new Error(`Tab never reached ${name}`);
}

test("Tab walks the page in order with a visible ring on every stop, and passing through the editor leaves the code alone", async () => {
  const before = await code();
  const stops = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    const f = await focused();
    stops.push(f);
    if (f.name === "#output") break;
  }
  const names = stops.map((s) => s.name);
  assert.equal(names[0], "a Skip to the output", "the first stop skips to the output");
  const order = ["#runtime", "#run", "#restart", "#share", "#benchmark", "#format", "#examples", "Settings", "editor", "#splitter", "#clear", "#output"];
  let at = -1;
  for (const n of order) {
    const i = names.indexOf(n, at + 1);
    assert.ok(i > at, `${n} comes after ${order[order.indexOf(n) - 1] ?? "the start"} in ${JSON.stringify(names)}`);
    at = i;
  }
  const unringed = stops.filter((s) => !s.ring).map((s) => s.name);
  assert.deepEqual(unringed, [], "every stop shows the focus");
  assert.equal(await code(), before, "tabbing through the editor did not indent the code");
});

test("in the editor a hint says how to leave it; Tab indents once you type, Esc then Tab moves on", async () => {
  const hint = page.locator("#editor-hint");
  assert.equal(await hint.isVisible(), false);
  // Shift+Tab from the separator, which follows the editor.
  await tabTo("#splitter");
  await page.keyboard.press("Shift+Tab");
  assert.equal((await focused()).name, "editor");
  assert.equal(await hint.isVisible(), true);
  assert.match(await hint.textContent(), /Esc then Tab/);
  assert.equal(await page.getByRole("textbox", { name: "Code" }).getAttribute("aria-describedby"), "editor-hint");
  await page.keyboard.press("Control+Home");
  const before = await code();
  await page.keyboard.press("Tab");
  assert.equal(await code(), "    " + before, "Tab indents while editing");
  assert.equal((await focused()).name, "editor");
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  assert.equal((await focused()).name, "#splitter", "Esc then Tab leaves the editor");
  assert.equal(await code(), "    " + before, "and does not indent");
  assert.equal(await hint.isVisible(), false);
});

test("the skip link takes the focus straight to the Output log", async () => {
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to the output" });
  const box = await skip.boundingBox();
  assert.ok(box && box.y >= 0 && box.y < 100, "visible at the top while focused");
  await page.keyboard.press("Enter");
  assert.equal((await focused()).name, "#output");
});

test("after Share by keyboard the focus is still on Share, and back there when the toast closes", async () => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  await tabTo("#share");
  await page.keyboard.press("Enter");
  await page.getByRole("alert").filter({ hasText: "Link copied" }).waitFor();
  assert.equal((await focused()).name, "#share");
  // On to the toast (the last thing on the page) and out with Escape: back to Share.
  await tabTo("a " + new URL(page.url()).href.slice(0, 20));
  await page.keyboard.press("Escape");
  assert.equal(await page.getByRole("alert").isVisible(), false);
  assert.equal((await focused()).name, "#share");
});
