// Browser tests of the small things (issue 12, item 9): snippets named by
// what their code says, an undo for picking an example, a Settings popover
// that stays on screen and closes like one, a 404 that says what is wrong
// with the ID it shows, the runtime in the address, and the input() line
// right under the prompt it answers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { appReady, output, setCode, waitReady, withServerAndBrowser } from "./helpers.mjs";

let server, browser, context, page;

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
});

afterEach(async () => {
  await context?.close();
});

async function share(code, runtime = "pyodide") {
  const res = await fetch(`${server.url}/api/snippets`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, runtime }),
  });
  return (await res.json()).id;
}

test("an untitled snippet is named by its first comment or docstring: page title, heading, dashboards, /bench", async () => {
  const id = await share("# fib\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n");
  await page.goto(`${server.url}/s/${id}`);
  assert.equal(await page.title(), "fib · pyplay");
  assert.equal(await page.locator("#snippet-title").textContent(), "fib");
  await page.goto(`${server.url}/bench/${id}`);
  assert.equal(await page.title(), "Benchmarks of fib · pyplay");
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Benchmarks of fib");

  const doc = await share('"""Bank account demo.\n\nMore text."""\nclass Account: ...\n');
  await page.goto(`${server.url}/s/${doc}`);
  assert.equal(await page.title(), "Bank account demo. · pyplay");

  // /bench lists benchmarked snippets by name: store a run of the first
  // (from the dashboard: the overview, once computed, is kept for a while).
  await page.evaluate(async (snippet) => {
    const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/ws`);
    await new Promise((r) => (ws.onopen = r));
    const acked = new Promise((r) => (ws.onmessage = (e) => JSON.parse(e.data).payload?.ack === 4 && r()));
    const run = crypto.randomUUID();
    const send = (seq, type, payload) => ws.send(JSON.stringify({ v: 1, type, seq, payload }));
    send(1, "hello", { role: "producer", client: "pyplay-e2e/1.0" });
    send(2, "run.start", { run: { id: run, snippet, runtime: "pyodide", env: { browser: "Chrome", cores: 2 } } });
    send(3, "samples", { run, batch: 0, samples: [1, 2, 3].map((i) => ({ seq: i, warmup: false, ns: 1e6 + i, iters: 1 })) });
    send(4, "run.end", { run, status: "done" });
    await acked;
    ws.close();
  }, id);
  await page.goto(`${server.url}/bench`);
  await page.getByRole("link", { name: "fib", exact: true }).waitFor();
  assert.equal(await page.getByRole("link", { name: "fib", exact: true }).getAttribute("href"), `/bench/${id}`);
});

test("sharing names the page after what the code says", async () => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  await page.goto(`${server.url}/?runtime=micropython`);
  await setCode(page, "# Squares of small numbers\nprint([i * i for i in range(5)])\n");
  await page.getByRole("button", { name: "Share" }).click();
  await page.getByRole("alert").filter({ hasText: "Link copied" }).waitFor();
  assert.equal(await page.title(), "Squares of small numbers · pyplay");
  assert.equal(await page.locator("#snippet-title").textContent(), "Squares of small numbers");
});

test("picking an example says so, with an Undo that brings the code back", async () => {
  await page.goto(`${server.url}/?runtime=micropython`);
  await setCode(page, "print('my own work')\n");
  await page.getByRole("combobox", { name: "Examples" }).selectOption({ label: "Reading input" });
  const note = page.locator("#editor-note");
  await note.waitFor();
  assert.match(await note.textContent(), /Example “Reading input” loaded/);
  assert.match(await page.evaluate(() => window.pyplay.editor.code), /input\("What is your name/);
  await note.getByRole("button", { name: "Undo" }).click();
  assert.equal(await page.evaluate(() => window.pyplay.editor.code), "print('my own work')\n");
  assert.equal(await note.isVisible(), false);
  // Once the example is edited, its Undo is withdrawn: it would throw the edits away.
  await page.getByRole("combobox", { name: "Examples" }).selectOption({ label: "Reading input" });
  await note.waitFor();
  await page.keyboard.type("# mine\n");
  assert.equal(await note.isVisible(), false);
});

for (const width of [1280, 390]) {
  test(`at ${width} px the Settings popover stays on screen and closes on a click outside and on Escape`, async () => {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(`${server.url}/?runtime=micropython`);
    const settings = page.locator("#settings");
    const summary = settings.locator("summary");
    await summary.click();
    const body = page.locator("#settings-body");
    await body.waitFor();
    const b = await body.boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= width, `the popover spans ${b.x}..${b.x + b.width} in ${width}px`);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), width);
    await page.mouse.click(width / 2, 790); // the code or the console, well away from the popover
    assert.equal(await settings.evaluate((d) => d.open), false, "a click outside closes it");
    await summary.click();
    assert.equal(await settings.evaluate((d) => d.open), true);
    await page.keyboard.press("Escape");
    assert.equal(await settings.evaluate((d) => d.open), false, "Escape closes it");
    assert.equal(await summary.evaluate((s) => s === document.activeElement), true, "and the focus is back on Settings");
  });
}

test("the 404 page says what is wrong with the ID it shows; every page answers a browser with a page", async () => {
  for (const [id, why] of [
    ["abcdefghijk-", "this one ends in '-'"],
    ["abc", "this one has 3 characters"],
    ["abcdefghijklm", "its character 11, 'k', is not '-' or '_'"],
  ]) {
    const res = await page.goto(`${server.url}/s/${id}`);
    assert.equal(res.status(), 404);
    const text = await page.locator("main").textContent();
    assert.ok(text.includes(why), `${id}: ${text}`);
    assert.match(text, /do not end in '-' or '_'/);
  }
  // An ID of the right form that nobody shared is not blamed on its form.
  await page.goto(`${server.url}/s/AAAAAAAAAAA`);
  assert.match(await page.locator("main").textContent(), /the link may be incomplete/);
  // The lab's pages and any other page answer a browser with a page too, not JSON.
  for (const [path, title, why] of [
    ["/bench/abc", "Page not found", /No snippet with ID "abc": .*this one has 3 characters/],
    ["/bench/ab/xyz", "Page not found", /No A\/B benchmark with ID "xyz": IDs are 16 letters/],
    ["/no/such/page", "Page not found", /Not Found\./],
  ]) {
    const res = await page.goto(server.url + path);
    assert.equal(res.status(), 404, path);
    assert.match(res.headers()["content-type"], /^text\/html/, path);
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), title, path);
    assert.match(await page.locator("main").textContent(), why, path);
    assert.equal(await page.getByRole("link", { name: "Open the playground" }).getAttribute("href"), "/", path);
  }
  // Programs asking the API still get JSON.
  const api = await fetch(`${server.url}/api/bench/ab/xyz`, { headers: { accept: "text/html" } });
  assert.equal(api.status, 404);
  assert.equal((await api.json()).error.code, "not_found");
});

test("the runtime is in the address and survives a reload, on the scratch page and on a snippet", async () => {
  await page.goto(`${server.url}/`);
  await page.getByRole("combobox", { name: "Runtime" }).selectOption("micropython");
  assert.equal(new URL(page.url()).searchParams.get("runtime"), "micropython");
  await page.reload();
  assert.equal(await page.getByRole("combobox", { name: "Runtime" }).inputValue(), "micropython");
  await waitReady(page);
  assert.match(await page.getByRole("status").textContent(), /MicroPython/);

  const id = await share("print('hi')\n");
  await page.goto(`${server.url}/s/${id}`);
  await page.getByRole("combobox", { name: "Runtime" }).selectOption("micropython");
  assert.equal(page.url(), `${server.url}/s/${id}?runtime=micropython`);
  await page.reload();
  assert.equal(await page.getByRole("combobox", { name: "Runtime" }).inputValue(), "micropython");
  assert.equal(await page.locator("#dirty").isVisible(), true, "another runtime than the shared one is an edit");
  await page.getByRole("combobox", { name: "Runtime" }).selectOption("pyodide");
  assert.equal(page.url(), `${server.url}/s/${id}`);
});

test("the input() line sits right under the prompt it answers", async () => {
  await page.goto(`${server.url}/?runtime=micropython`);
  await waitReady(page);
  await appReady(page);
  await setCode(page, 'print("Hello")\nname = input("What is your name? ")\nprint("Hi", name)\n');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const field = page.getByLabel("What is your name?");
  await field.waitFor();
  // Measured as painted: a new block of output (content-visibility: auto)
  // has its placeholder height until the frame's first rendering update.
  const gap = await page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const log = document.getElementById("output");
    const range = document.createRange();
    range.selectNodeContents(log);
    const rects = [...range.getClientRects()];
    const lastLine = Math.max(...rects.map((r) => r.bottom));
    return document.getElementById("input-form").getBoundingClientRect().top - lastLine;
  });
  assert.ok(gap >= 0 && gap < 30, `the input line is ${gap}px below the prompt`);
  await field.fill("Ada");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /Hi Ada/.test(document.getElementById("output").textContent));
  assert.match(await output(page).textContent(), /What is your name\? Ada\nHi Ada\n/);
});
