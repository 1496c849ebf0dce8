// Browser tests of rich output (issue 14, part 3): display() and a program's
// last expression in the Output log, in order with print(); images as <img>
// with a Download link; HTML in a sandboxed frame of the preview origin that
// cannot reach the playground; SVG scripts that never run; matplotlib's
// plt.show() (a fake matplotlib package the program writes, since this
// machine has no matplotlib wheel). Real binary, Chromium and Pyodide.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, test } from "node:test";
import { openPage, output, setCode, waitReady, waitState, withServerAndBrowser } from "./helpers.mjs";

let server, browser;
let context, page, errors;

const runButton = () => page.getByRole("button", { name: "Run", exact: true });

async function run(code, states = ["done", "error", "stopped"]) {
  await setCode(page, code);
  await runButton().click();
  const state = await waitState(page, states, 60000);
  return { state, text: await output(page).textContent() };
}

/** The log as a sequence: text as it is, each rich output as [mime]. */
function sequence() {
  return page.evaluate(() =>
    [...document.getElementById("output").children]
      .map((c) => (c.classList.contains("out-rich") ? `[${c.dataset.mime}]` : c.textContent))
      .join(""),
  );
}

// A valid PNG of w×h pixels of one colour, made with zlib and struct.
const PNG_PY = `
import struct, zlib
def png(w, h, rgb=(200, 40, 40)):
    raw = b"".join(b"\\x00" + bytes(rgb) * w for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
`;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

beforeEach(async () => {
  context = await browser.newContext();
  ({ page, errors } = await openPage(context, server.url + "/"));
  await waitReady(page, 120000);
});

afterEach(async () => {
  await context?.close();
});

describe("display() in Pyodide", () => {
  test("a PNG, an SVG and a JPEG-less object show as images, in order with print, with a Download link", async () => {
    const { state } = await run(
      PNG_PY +
        `
class P:
    def _repr_png_(self):
        return png(7, 5)
class S:
    def _repr_svg_(self):
        return '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="teal"/></svg>'
class Plain:
    def __repr__(self):
        return "<plain>"
print("before")
display(P())
print("between", end="")
display(S(), Plain())
print("after")
`,
    );
    assert.equal(state, "done");
    assert.equal(await sequence(), "before\n[image/png]between[image/svg+xml]<plain>\nafter\n");
    const imgs = output(page).locator(".out-rich img");
    await page.waitForFunction(() => [...document.querySelectorAll("#output .out-rich img")].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 10000 });
    const sizes = await imgs.evaluateAll((list) => list.map((i) => [i.naturalWidth, i.naturalHeight, i.src.slice(0, 5), i.alt]));
    assert.deepEqual(sizes.map((s) => s.slice(0, 3)), [[7, 5, "blob:"], [40, 20, "blob:"]]);
    assert.match(sizes[0][3], /Image output 1 .*PNG/);
    const download = output(page).getByRole("link", { name: "Download" }).first();
    assert.equal(await download.getAttribute("download"), "output-1.png");
    // The link saves the image itself.
    const [saved] = await Promise.all([page.waitForEvent("download", { timeout: 10000 }), download.click()]);
    assert.equal(saved.suggestedFilename(), "output-1.png");
    const file = readFileSync(await saved.path());
    assert.deepEqual([...file.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
    // The text of "download" names the images where they were.
    assert.match(await page.evaluate(() => window.pyplay.output.text()), /before\n\[output-1\.png: image\/png, \d+ B\]\nbetween/);
    assert.deepEqual(errors, []);
  });

  test("_repr_mimebundle_ comes first; bytes or base64 both work; an over-size image falls back with a message", async () => {
    const { state, text } = await run(
      PNG_PY +
        `
import base64
class B:
    def _repr_mimebundle_(self, **kw):
        return {"text/plain": "bundle text", "image/png": base64.b64encode(png(3, 2)).decode()}
    def _repr_html_(self):
        return "<b>not this</b>"
class Big:
    def _repr_png_(self):
        return b"\\0" * (6 * 1024 * 1024)
    def __repr__(self):
        return "<big>"
display(B())
display(Big())
`,
    );
    assert.equal(state, "done");
    assert.equal(await sequence(), "[image/png]display(): the image/png representation of Big is 6.3 MB, over the 5 MB limit of one output; showing the next one\n<big>\n");
    assert.match(text, /over the 5 MB limit/);
    await page.waitForFunction(() => document.querySelector("#output .out-rich img")?.naturalWidth === 3, null, { timeout: 10000 });
  });

  test("the value of a bare last expression shows; None does not; line numbers stay right", async () => {
    assert.equal((await run("x = 21\nx * 2\n")).text, "42\n");
    assert.equal((await run("import sys\nprint('only this')\nNone\n")).text, "only this\n");
    assert.equal((await run("print('printed')\n")).text, "printed\n");
    assert.equal((await run('"""A docstring."""\n')).text, "");
    assert.equal((await run("import doctest\n__doc__\n")).text, "");
    const bad = await run("x = 1\n\n1 / (x - 1)\n");
    assert.equal(bad.state, "error");
    assert.match(bad.text, /File "main\.py", line 3, in <module>\n\s+1 \/ \(x - 1\)/);
    assert.doesNotMatch(bad.text, /<exec>|displayhook/);
    const syntax = await run("x = (1,\n");
    assert.equal(syntax.state, "error");
    assert.match(syntax.text, /^ {2}File "main\.py", line 1\n/);
    assert.doesNotMatch(syntax.text, /ast\.py|Traceback/);
    // An HTML value as the last expression, and await at top level.
    const html = await run("import asyncio\nclass H:\n    def _repr_html_(self):\n        return '<i>hi</i>'\nawait asyncio.sleep(0)\nH()\n");
    assert.equal(html.state, "done");
    assert.equal(await sequence(), "[text/html]");
  });
});

describe("limits", () => {
  test("rich outputs count against the log's limit: the oldest leave the page and the note says so", async () => {
    const { state } = await run(PNG_PY + `
class P:
    def _repr_png_(self):
        return png(2, 2)
for i in range(130):
    display(P())
print("end")
`);
    assert.equal(state, "done");
    // 5,000 lines at 50 lines an output: the page keeps the last 100 (the text line "end" makes it 99).
    const n = await output(page).locator(".out-rich img").count();
    assert.ok(n >= 98 && n <= 100, `${n} images in the page`);
    assert.match(await page.locator(".output-truncated").textContent(), new RegExp(`nor ${130 - n} earlier images or other outputs`));
    assert.match(await output(page).textContent(), /end\n$/);
  });
});

describe("HTML output", () => {
  test("renders in a sandboxed frame of the preview origin that cannot reach the playground", async () => {
    await page.evaluate(() => {
      localStorage.setItem("pyplay-secret", "s3cret-storage");
      document.cookie = "pyplay_secret=s3cret-cookie; path=/";
    });
    const probe = `
<div id="tall" style="height: 300px">A pandas-like table:
<table><thead><tr><th></th><th>a</th></tr></thead><tbody><tr><th>0</th><td>1</td></tr></tbody></table></div>
<p id="report">pending</p>
<script>
const r = [];
const tryIt = (name, f) => { try { r.push(name + ":" + f()); } catch (e) { r.push(name + ":blocked"); } };
tryIt("dom", () => parent.document.title);
tryIt("write", () => { parent.document.body.innerHTML = "pwned"; return "done"; });
tryIt("cookie", () => parent.document.cookie);
tryIt("own-cookie", () => document.cookie);
tryIt("storage", () => localStorage.getItem("pyplay-secret"));
tryIt("parent-storage", () => parent.localStorage.getItem("pyplay-secret"));
tryIt("origin", () => origin);
document.getElementById("report").textContent = r.join(" ");
parent.postMessage({ type: "size", height: 1e9 }, "*");
</script>`;
    const { state } = await run(`class H:\n    def _repr_html_(self):\n        return ${JSON.stringify(probe)}\nprint("first")\ndisplay(H())\nprint("last")\n`);
    assert.equal(state, "done");
    assert.equal(await sequence(), "first\n[text/html]last\n");
    const frameEl = output(page).locator("iframe.rich-frame");
    assert.equal(await frameEl.getAttribute("sandbox"), "allow-scripts");
    const src = new URL(await frameEl.getAttribute("src"));
    assert.equal(src.origin, new URL(server.previewUrl).origin);
    assert.equal(src.pathname, "/display");
    const frame = await frameEl.contentFrame();
    await frame.locator("#report").filter({ hasNotText: "pending" }).waitFor({ timeout: 20000 });
    const report = await frame.locator("#report").textContent();
    assert.equal(report, "dom:blocked write:blocked cookie:blocked own-cookie:blocked storage:blocked parent-storage:blocked origin:null");
    assert.doesNotMatch(report, /s3cret/);
    // The playground is untouched, its secrets still there.
    assert.equal(await page.evaluate(() => localStorage.getItem("pyplay-secret")), "s3cret-storage");
    assert.match(await page.locator("#run").textContent(), /Run/);
    // The frame took its content's height, but no more than the limit (640 + border).
    await page.waitForFunction(() => document.querySelector("iframe.rich-frame").getBoundingClientRect().height > 300, null, { timeout: 10000 });
    const h = await frameEl.evaluate((f) => f.getBoundingClientRect().height);
    assert.ok(h > 300 && h <= 642, `frame height ${h}`);
    assert.deepEqual(errors, []);
  });

  test("an SVG's script does not run", async () => {
    await page.evaluate(() => {
      window.__msgs = [];
      window.addEventListener("message", (e) => window.__msgs.push(String(e.data)));
    });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="30" height="10" onload="top.document.title='svg-onload'"><script>top.document.title = "svg-ran"; top.postMessage("svg-ran", "*");</script><rect width="30" height="10" fill="navy"/></svg>`;
    const title = await page.title();
    const { state } = await run(`class S:\n    def _repr_svg_(self):\n        return ${JSON.stringify(svg)}\nS()\n`);
    assert.equal(state, "done");
    await page.waitForFunction(() => document.querySelector("#output .out-rich img")?.naturalWidth === 30, null, { timeout: 10000 });
    await page.waitForTimeout(300);
    assert.equal(await page.title(), title);
    assert.deepEqual(await page.evaluate(() => window.__msgs.filter((m) => m.includes("svg"))), []);
    assert.equal(await output(page).locator("svg").count(), 0, "the SVG is never inlined");
  });
});

describe("matplotlib", () => {
  test("plt.show() and a Figure as the last expression render PNGs through display; figures are closed", async () => {
    const fake = `
import os, sys
os.makedirs("/tmp/fakempl/matplotlib", exist_ok=True)
files = {
    "__init__.py": "",
    "figure.py": '''
class Figure:
    def __init__(self, png):
        self.png = png
    def savefig(self, buf, format=None, **kw):
        assert format == "png", format
        buf.write(self.png)
''',
    "pyplot.py": '''
from matplotlib.figure import Figure
_figs = {}
def figure(num=None, png=None):
    if num in _figs:
        return _figs[num]
    n = max(_figs, default=0) + 1
    _figs[n] = Figure(png)
    return _figs[n]
def get_fignums():
    return sorted(_figs)
def close(which=None):
    _figs.clear()
def show(*args, **kwargs):
    print("the real show() ran")
''',
}
for name, text in files.items():
    with open("/tmp/fakempl/matplotlib/" + name, "w") as f:
        f.write(text)
sys.path.insert(0, "/tmp/fakempl")
`;
    const first = await run(
      PNG_PY +
        fake +
        `
print(os.environ["MPLBACKEND"])
import matplotlib.pyplot as plt
plt.figure(png=png(11, 4))
plt.figure(png=png(12, 4))
plt.show()
print(plt.get_fignums())
plt.figure(png=png(13, 4))
`,
    );
    assert.equal(first.state, "done");
    assert.equal(await sequence(), "agg\n[image/png][image/png][]\n[image/png]");
    await page.waitForFunction(() => [...document.querySelectorAll("#output .out-rich img")].every((i) => i.naturalWidth > 0), null, { timeout: 10000 });
    const widths = await output(page).locator(".out-rich img").evaluateAll((l) => l.map((i) => i.naturalWidth));
    assert.deepEqual(widths, [11, 12, 13]);
    assert.doesNotMatch(first.text, /real show/);
    // The figure left open by the last run was closed when it ended.
    assert.equal((await run("import matplotlib.pyplot as plt\nprint(plt.get_fignums())\n")).text, "[]\n");
  });
});

describe("MicroPython", () => {
  test("display() shows _repr_svg_ and _repr_png_ as images and falls back to repr", async () => {
    await page.getByRole("combobox", { name: "Runtime" }).selectOption({ label: "MicroPython" });
    await waitReady(page, 60000);
    const { state } = await run(`
class S:
    def _repr_svg_(self):
        return '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="12"><rect width="24" height="12" fill="olive"/></svg>'
class P:
    def _repr_png_(self):
        return b"\\x89PNG\\r\\n\\x1a\\n" + b"not really"
class R:
    def __repr__(self):
        return "<r>"
print("a")
display(S(), R())
print("b")
display(P())
`);
    assert.equal(state, "done");
    assert.equal(await sequence(), "a\n[image/svg+xml]<r>\nb\n[image/png]");
    await page.waitForFunction(() => document.querySelector("#output .out-rich img")?.naturalWidth === 24, null, { timeout: 10000 });
  });
});

describe("screenshots", () => {
  for (const scheme of ["light", "dark"]) {
    test(`rich output at 390px, ${scheme}`, async () => {
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: scheme, deviceScaleFactor: 2 });
      try {
        const { page: p } = await openPage(ctx, server.url + "/");
        await waitReady(p, 120000);
        page = p;
        const { state } = await run(
          PNG_PY +
            `
class P:
    def _repr_png_(self):
        return png(600, 120, (40, 120, 200))
class T:
    def _repr_html_(self):
        return "<table><thead><tr><th></th><th>name</th><th>score</th></tr></thead><tbody>" + "".join(
            f"<tr><th>{i}</th><td>row {i}</td><td>{i * 1.5}</td></tr>" for i in range(4)) + "</tbody></table>"
class M:
    def _repr_markdown_(self):
        return "# Title\\n\\n*some* markdown"
print("A wide image scales down:")
display(P())
print("Markdown shows as its source:")
display(M())
print("A table:")
T()
`,
        );
        assert.equal(state, "done");
        const frame = await output(p).locator("iframe.rich-frame").contentFrame();
        await frame.locator("table").waitFor({ timeout: 20000 });
        await p.waitForFunction(() => document.querySelector("iframe.rich-frame").getBoundingClientRect().height > 60, null, { timeout: 10000 });
        assert.equal(await output(p).locator('.out-rich[data-mime="text/markdown"] pre').textContent(), "# Title\n\n*some* markdown");
        const box = await output(p).locator(".out-rich img").boundingBox();
        assert.ok(box.width <= 390, `image width ${box.width}`);
        assert.equal(await p.evaluate(() => document.documentElement.scrollWidth <= 390), true, "nothing scrolls sideways");
        mkdirSync("/tmp/rich", { recursive: true });
        await output(p).scrollIntoViewIfNeeded();
        await p.screenshot({ path: `/tmp/rich/display-390-${scheme}.png`, fullPage: true });
      } finally {
        await ctx.close();
      }
    });
  }
});
