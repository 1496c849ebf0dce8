// Browser tests of the editor's colours (issue 12, item 4): with a dark
// colour scheme CodeMirror uses a dark theme too, and in both schemes every
// token, the line numbers and the active line's text have a contrast of at
// least 4.5:1 (WCAG AA for text) against what is behind them. The test
// measures the rendered page: each token's computed colour against its
// background, translucent layers (the active line) composited the way the
// browser paints them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { appReady, setCode, withServerAndBrowser } from "./helpers.mjs";

let server, browser;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

/** Every kind of token lang-python tells apart, and a comment on the line the cursor is on. */
const CODE = `# A comment line
import math
from dataclasses import dataclass

@dataclass
class Point:
    """A docstring."""
    x: float = 0.0

    def norm(self) -> float:
        return math.sqrt(self.x ** 2)  # a trailing comment

values = [1, 2.5, 0x1F, True, False, None]
name = f"point {Point().norm():.2f}\\n" + 'single' if not values else "x"
for i in range(3):
    print(i, values[i] >= 2, i and i or -i, len(name))
`;

/** Contrast ratios of every token, line number and the active line, measured in the page. */
function measure(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) throw new Error(`unexpected colour ${c}`);
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const over = (top, bottom) => ({
      r: top.r * top.a + bottom.r * (1 - top.a),
      g: top.g * top.a + bottom.g * (1 - top.a),
      b: top.b * top.a + bottom.b * (1 - top.a),
      a: 1,
    });
    /** The colour behind el: its and its ancestors' backgrounds, composited. */
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.a > 0) layers.push(c);
        if (c.a === 1) break;
      }
      let bg = { r: 255, g: 255, b: 255, a: 1 }; // the canvas, under everything
      for (const l of layers.reverse()) bg = over(l, bg);
      return bg;
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a, b) => {
      const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const results = [];
    const check = (el, what) => {
      const fg = over(parse(getComputedStyle(el).color), background(el));
      results.push({ what, text: el.textContent.trim().slice(0, 30), ratio: ratio(fg, background(el)) });
    };
    for (const line of document.querySelectorAll(".cm-content .cm-line")) {
      const active = line.classList.contains("cm-activeLine");
      // Text directly in the line has the line's colour; tokens are spans.
      if ([...line.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) check(line, active ? "active line" : "line");
      for (const span of line.querySelectorAll("span")) {
        if (span.textContent.trim()) check(span, `${active ? "active line " : ""}${span.className}`);
      }
    }
    for (const g of document.querySelectorAll(".cm-lineNumbers .cm-gutterElement")) {
      if (g.textContent.trim()) check(g, `line number${g.classList.contains("cm-activeLineGutter") ? " (active)" : ""}`);
    }
    const editor = background(document.querySelector(".cm-content"));
    return { results, editorLuminance: lum(editor), activeLines: document.querySelectorAll(".cm-activeLine").length };
  });
}

for (const scheme of ["dark", "light"]) {
  test(`${scheme} scheme: the editor's theme follows it, every token at least 4.5:1`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(`${server.url}/?runtime=micropython`);
    await setCode(page, CODE);
    // The cursor on the comment: the active line holds the faintest text.
    await page.evaluate(() => {
      const view = window.pyplay.editor.editor.view;
      view.focus();
      view.dispatch({ selection: { anchor: 3 } });
    });
    const { results, editorLuminance, activeLines } = await measure(page);
    if (scheme === "dark") assert.ok(editorLuminance < 0.05, `the editor's background is dark (luminance ${editorLuminance.toFixed(3)})`);
    else assert.ok(editorLuminance > 0.8, `the editor's background is light (luminance ${editorLuminance.toFixed(3)})`);
    assert.equal(activeLines, 1);
    assert.ok(results.some((r) => r.what.startsWith("active line") && /comment/.test(r.text)), "the comment on the active line is measured");
    assert.ok(results.length > 60, `tokens measured: ${results.length}`);
    const low = results.filter((r) => r.ratio < 4.5).map((r) => `${r.what} "${r.text}": ${r.ratio.toFixed(2)}`);
    assert.deepEqual(low, [], "every token has a contrast of at least 4.5:1");
    // Colours distinguish kinds of tokens: a theme, not one colour.
    const colours = await page.evaluate(() => new Set([...document.querySelectorAll(".cm-line span")].map((s) => getComputedStyle(s).color)).size);
    assert.ok(colours >= 7, `distinct token colours: ${colours}`);
    await context.close();
  });
}

test("the theme switches when the colour scheme does, without a reload", async () => {
  const context = await browser.newContext({ colorScheme: "light" });
  const page = await context.newPage();
  await page.goto(`${server.url}/?runtime=micropython`);
  await appReady(page);
  const bg = () => page.evaluate(() => getComputedStyle(document.querySelector(".cm-editor")).backgroundColor);
  assert.equal(await bg(), "rgb(255, 255, 255)");
  await page.emulateMedia({ colorScheme: "dark" });
  await page.waitForFunction(() => getComputedStyle(document.querySelector(".cm-editor")).backgroundColor !== "rgb(255, 255, 255)");
  assert.equal(await bg(), "rgb(27, 31, 39)");
  await context.close();
});
