// Browser tests of the code box (web/editor/codebox.ts): the page's textarea is a
// working editor until the CodeMirror bundle, loaded after start-up, takes
// over; and it stays one when that bundle cannot be loaded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { output, waitReady, waitState, withServerAndBrowser } from "./helpers.mjs";

let server, browser;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

const EDITOR_BUNDLE = /\/assets\/editor-[A-Z0-9]+\.js$/;
const isCodeMirror = (page) =>
  page.getByRole("textbox", { name: "Code" }).evaluate((e) => e.classList.contains("cm-content"));

test("the textarea edits and runs code until CodeMirror takes over, which keeps the code and the caret", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Hold the editor bundle back until the test has used the textarea.
  let release;
  const held = new Promise((r) => (release = r));
  await page.route(EDITOR_BUNDLE, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(server.url + "/");
  await waitReady(page);
  const box = page.getByRole("textbox", { name: "Code" });
  assert.equal(await box.evaluate((e) => e.tagName), "TEXTAREA");
  await box.fill("print('typed in the textarea')\n");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  assert.equal(await waitState(page, ["done", "error"]), "done");
  assert.equal(await output(page).textContent(), "typed in the textarea\n");
  // Typing goes on at the caret, and Shift+Enter runs, as in CodeMirror.
  await box.press("Control+End");
  await box.pressSequentially("print('again')");
  await box.press("Shift+Enter");
  await page.waitForFunction(() => document.querySelector('[role="log"]').textContent.includes("again"));
  assert.equal(await output(page).textContent(), "typed in the textarea\nagain\n");
  const code = "print('typed in the textarea')\nprint('again')";
  assert.equal(await box.evaluate((e) => e.selectionStart), code.length);
  assert.equal(await isCodeMirror(page), false);

  release();
  await page.waitForFunction(() => window.pyplay.marks.editor !== undefined);
  assert.equal(await isCodeMirror(page), true);
  assert.equal(await page.evaluate(() => window.pyplay.editor.code), code);
  // CodeMirror has the focus and the caret where the textarea had it (its
  // own default would be the start of the text).
  assert.equal(await page.evaluate(() => document.activeElement?.closest(".cm-editor") !== null), true);
  await page.keyboard.type("  # more");
  assert.equal(await page.evaluate(() => window.pyplay.editor.code), code + "  # more");
  await context.close();
});

test("when the editor bundle cannot be loaded, the textarea stays and everything works", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const warnings = [];
  page.on("console", (m) => {
    if (m.type() === "warning") warnings.push(m.text());
  });
  await page.route(EDITOR_BUNDLE, (route) => route.abort());
  await page.goto(server.url + "/");
  await waitReady(page);
  assert.equal(await page.evaluate(() => window.pyplay.editor.upgraded), false); // settles after the failed load
  assert.equal(await isCodeMirror(page), false);
  assert.ok(warnings.some((w) => /code editor could not be loaded/.test(w)), warnings.join("\n"));
  const box = page.getByRole("textbox", { name: "Code" });
  await box.fill("print(6 * 7)\n");
  await page.keyboard.press("Control+Enter");
  assert.equal(await waitState(page, ["done", "error"]), "done");
  assert.equal(await output(page).textContent(), "42\n");
  // Tab indents; Escape then Tab leaves the box (a keyboard user is not trapped).
  await box.press("Control+End");
  await box.press("Tab");
  assert.equal(await box.inputValue(), "print(6 * 7)\n    ");
  assert.equal(await box.evaluate((e) => document.activeElement === e), true);
  await box.press("Escape");
  await page.keyboard.press("Tab");
  assert.equal(await box.evaluate((e) => document.activeElement === e), false);
  assert.equal(await box.inputValue(), "print(6 * 7)\n    ");
  await context.close();
});

test("a slow runtime start does not hold the editor back: CodeMirror comes after about a second", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // The runtime never finishes starting: its wasm never arrives.
  await context.route(/pyodide\.asm\.wasm$/, () => {});
  await page.goto(server.url + "/");
  await page.waitForFunction(() => window.pyplay?.marks.editor !== undefined, null, { timeout: 15000 });
  assert.equal(await isCodeMirror(page), true);
  assert.equal(await page.getByRole("status").getAttribute("data-state"), "loading");
  await context.close();
});
