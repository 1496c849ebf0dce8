// Browser tests of Format, the text size and the split (issue 12,
// "Features"): Format tidies indentation and spacing with Python's own
// tokenize in a Pyodide worker, keeps comments, refuses what it cannot
// format safely, and can be undone; A−/A+ and the separator between the
// editor and the console are remembered by the browser.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { appReady, setCode, waitReady, withServerAndBrowser } from "./helpers.mjs";

let server, browser, context, page;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
});

afterEach(async () => {
  await context?.close();
});

const MESSY = `import os,sys
def f(a,b = 1,*args,**kw) :
\tif a==b :return -a   # equal
\tx=[1,2 ,3][1:-1]
\treturn {'a':a,**kw}



print(f(1,b=2))
`;

const TIDY = `import os, sys
def f(a, b=1, *args, **kw):
    if a == b: return -a  # equal
    x = [1, 2, 3][1:-1]
    return {'a': a, **kw}


print(f(1, b=2))
`;

const code = () => page.evaluate(() => window.pyplay.editor.code);
const note = () => page.locator("#editor-note");

test("Format tidies indentation and spacing, keeps comments, and Undo or Ctrl+Z brings the code back", async () => {
  await page.goto(`${server.url}/`);
  await waitReady(page, 180000);
  await setCode(page, MESSY);
  await page.getByRole("button", { name: "Format" }).click();
  await note().filter({ hasText: "Formatted." }).waitFor();
  assert.equal(await code(), TIDY);
  await note().getByRole("button", { name: "Undo" }).click();
  assert.equal(await code(), MESSY);

  // The shortcut, from the editor; then the editor's own undo.
  await page.evaluate(() => window.pyplay.editor.focus());
  await page.keyboard.press("Shift+Alt+F");
  await page.waitForFunction((tidy) => window.pyplay.editor.code === tidy, TIDY);
  await page.keyboard.press("Control+z");
  assert.equal(await code(), MESSY);

  // Formatted code stays as it is.
  await setCode(page, TIDY);
  await page.getByRole("button", { name: "Format" }).click();
  await note().filter({ hasText: "already formatted" }).waitFor();
  assert.equal(await code(), TIDY);

  // Code that does not parse is left alone, with the reason.
  const broken = "print('ok')\nif True print(1)\n";
  await setCode(page, broken);
  await page.getByRole("button", { name: "Format" }).click();
  await note().filter({ hasText: "Could not format" }).waitFor();
  assert.match(await note().textContent(), /line 2: .*fix the syntax error first/);
  assert.equal(await code(), broken);
  // The program's output is not the formatter's: nothing was printed.
  assert.equal(await page.getByRole("log", { name: "Output" }).textContent(), "");
});

test("with MicroPython, Format starts a Pyodide of its own to format", async () => {
  await page.goto(`${server.url}/?runtime=micropython`);
  await waitReady(page);
  await setCode(page, MESSY);
  await page.getByRole("button", { name: "Format" }).click();
  await page.waitForFunction((tidy) => window.pyplay.editor.code === tidy, TIDY, { timeout: 180000 });
  assert.match(await page.getByRole("status").textContent(), /MicroPython/, "the page still runs MicroPython");
});

test("A− and A+ set the code's text size, remembered after a reload", async () => {
  await page.goto(`${server.url}/?runtime=micropython`);
  await appReady(page);
  const sizes = () =>
    page.evaluate(() => [getComputedStyle(document.querySelector(".cm-scroller")).fontSize, getComputedStyle(document.getElementById("output")).fontSize]);
  assert.deepEqual(await sizes(), ["14px", "13px"]);
  await page.locator("#settings summary").click();
  await page.getByRole("button", { name: "Larger text" }).click();
  await page.getByRole("button", { name: "Larger text" }).click();
  assert.equal(await page.locator("#font-size").textContent(), "16 px");
  assert.deepEqual(await sizes(), ["16px", "15px"]);
  await page.reload();
  await appReady(page);
  assert.deepEqual(await sizes(), ["16px", "15px"]);
  await page.locator("#settings summary").click();
  const smaller = page.getByRole("button", { name: "Smaller text" });
  for (let i = 0; i < 20 && !(await smaller.isDisabled()); i++) await smaller.click();
  assert.equal(await page.locator("#font-size").textContent(), "10 px", "no smaller than 10 px");
});

test("the separator between the editor and the console moves with the arrow keys and the pointer, remembered after a reload", async () => {
  await page.goto(`${server.url}/?runtime=micropython`);
  await appReady(page);
  const sep = page.getByRole("separator", { name: /Resize the editor/ });
  const widths = () =>
    page.evaluate(() => {
      const split = document.getElementById("split").getBoundingClientRect().width;
      return Math.round((100 * document.getElementById("editor-pane").getBoundingClientRect().width) / split);
    });
  assert.equal(await sep.getAttribute("aria-valuenow"), "50");
  assert.equal(await sep.getAttribute("aria-orientation"), "vertical");
  assert.equal(await widths(), 50);
  await sep.focus();
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await sep.getAttribute("aria-valuenow"), "40");
  assert.equal(await widths(), 40);

  // Drag it to 70% of the width.
  const box = await sep.boundingBox();
  const split = await page.locator("#split").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(split.x + split.width * 0.7, box.y + 100, { steps: 5 });
  await page.mouse.up();
  assert.equal(await sep.getAttribute("aria-valuenow"), "70");
  assert.ok(Math.abs((await widths()) - 70) <= 1);

  await page.reload();
  await appReady(page);
  assert.equal(await sep.getAttribute("aria-valuenow"), "70");
  assert.ok(Math.abs((await widths()) - 70) <= 1);
  // CodeMirror follows the new size: its lines are as wide as its pane.
  const fits = await page.evaluate(() => {
    const pane = document.getElementById("editor-pane").getBoundingClientRect();
    const ed = document.querySelector(".cm-editor").getBoundingClientRect();
    return Math.abs(pane.width - ed.width) <= 2;
  });
  assert.equal(fits, true);

  // On a phone the separator lies between rows and sets the editor's height.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.getElementById("splitter").getAttribute("aria-orientation") === "horizontal");
  const h0 = (await page.locator("#editor-pane").boundingBox()).height;
  await sep.focus();
  await page.keyboard.press("ArrowDown");
  const h1 = (await page.locator("#editor-pane").boundingBox()).height;
  assert.ok(h1 > h0 + 20, `ArrowDown makes the editor taller (${h0} → ${h1})`);
});
