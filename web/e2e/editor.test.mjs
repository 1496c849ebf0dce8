// Browser tests of the editor page (issue: foundation): real binary, real
// Chromium, real Pyodide and MicroPython. One server and one browser for the
// file; every test has a page of its own in a fresh browser context (no
// drafts, caches or runtime choice left by another test), so each stands
// alone and they may run in any order.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { appReady, launchBrowser, openPage, output, setCode, startServer, waitReady, waitState } from "./helpers.mjs";

let server, browser;
/** The current test's context, page, and what the page requested and logged as errors. */
let context, page, requests, errors;

const status = () => page.getByRole("status").textContent();
const runButton = () => page.getByRole("button", { name: "Run", exact: true });

async function run(code, states = ["done", "error", "stopped"]) {
  await setCode(page, code);
  await runButton().click();
  const state = await waitState(page, states);
  return { state, text: await output(page).textContent() };
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

beforeEach(async () => {
  context = await browser.newContext();
  ({ page, requests, errors } = await openPage(context, server.url + "/"));
  await waitReady(page);
});

afterEach(async () => {
  await context?.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

describe("Pyodide", () => {
  test("page is cross-origin isolated and says what is loaded", async () => {
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.match(await status(), /Ready: Pyodide 314\.0\.7 \(Python 3\.\d+/);
    assert.equal(await page.locator("#notice").isHidden(), true);
  });

  test("the editor is CodeMirror with the starter program", async () => {
    await appReady(page);
    const editor = page.getByRole("textbox", { name: "Code" });
    assert.equal(await editor.evaluate((e) => e.classList.contains("cm-content")), true);
    assert.match(await editor.textContent(), /print\("Hello from Python"/);
  });

  test("hello world prints to the Output log", async () => {
    const { state, text } = await run('print("hello, world")\n');
    assert.equal(state, "done");
    assert.equal(text, "hello, world\n");
    assert.match(await status(), /Finished in/);
  });

  test("an exception shows a traceback on stderr pointing at the user's lines", async () => {
    const { state, text } = await run("def f():\n    return 1/0\n\nf()\n");
    assert.equal(state, "error");
    assert.match(text, /File "main\.py", line 4, in <module>/);
    assert.match(text, /File "main\.py", line 2, in f/);
    assert.match(text, /ZeroDivisionError: division by zero/);
    assert.doesNotMatch(text, /_pyodide|_pyplay_run|<exec>/);
    const stderr = await page.locator('[role="log"] [data-stream="stderr"]').allTextContents();
    assert.match(stderr.join(""), /ZeroDivisionError/);
  });

  test("a syntax error names the line", async () => {
    const { state, text } = await run("print('ok')\nif True print(1)\n");
    assert.equal(state, "error");
    assert.match(text, /File "main\.py", line 2/);
    assert.match(text, /SyntaxError/);
  });

  test("output streams while the program runs", async () => {
    await setCode(page, "import time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second')\n");
    await runButton().click();
    await page.getByRole("log", { name: "Output" }).getByText("first").waitFor({ timeout: 1200 });
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "running");
    assert.doesNotMatch(await output(page).textContent(), /second/);
    assert.equal(await waitState(page, ["done", "error"]), "done");
    assert.equal(await output(page).textContent(), "first\nsecond\n");
  });

  test("each run starts from a clean namespace", async () => {
    assert.equal((await run("leftover = 42\n")).state, "done");
    const { state, text } = await run("print(leftover)\n");
    assert.equal(state, "error");
    assert.match(text, /NameError: name 'leftover' is not defined/);
  });

  test("Stop interrupts an infinite loop with KeyboardInterrupt, and Run works after", async () => {
    await setCode(page, "n = 0\nwhile True:\n    n += 1\n");
    await runButton().click();
    await waitState(page, ["running"]);
    await page.waitForTimeout(300);
    await page.getByRole("button", { name: "Stop" }).click();
    assert.equal(await waitState(page, ["stopped"], 5000), "stopped");
    const text = await output(page).textContent();
    assert.match(text, /KeyboardInterrupt/);
    // Interrupted in place (not by replacing the worker): the status says so.
    assert.match(await status(), /Stopped \(KeyboardInterrupt\)/);
    const again = await run("print('still alive')\n");
    assert.equal(again.state, "done");
    assert.equal(again.text, "still alive\n");
  });

  test("input() round trip", async () => {
    await setCode(page, "name = input('Your name? ')\nprint('Hello,', name)\n");
    await runButton().click();
    const field = page.getByRole("textbox", { name: "Your name?" });
    await field.waitFor();
    assert.equal(await page.getByRole("status").getAttribute("data-state"), "input");
    await field.fill("Ada Lovelace");
    await field.press("Enter");
    assert.equal(await waitState(page, ["done", "error"]), "done");
    assert.equal(await output(page).textContent(), "Your name? Ada Lovelace\nHello, Ada Lovelace\n");
  });

  test("Stop works while the program waits for input()", async () => {
    await setCode(page, "input('wait: ')\nprint('not reached')\n");
    await runButton().click();
    await page.getByRole("textbox", { name: "wait:" }).waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    assert.equal(await waitState(page, ["stopped"], 5000), "stopped");
    const text = await output(page).textContent();
    assert.match(text, /File "main\.py", line 1, in <module>/);
    assert.match(text, /KeyboardInterrupt/);
    assert.equal((await run("print(1)\n")).text, "1\n");
  });

  test("a missing package fails with a clear offline message", async () => {
    const { state, text } = await run("import numpy\n");
    assert.equal(state, "error");
    assert.match(text, /ModuleNotFoundError: No module named 'numpy'/);
    assert.match(text, /only the Python standard library/);
  });

  test("Restart gives a fresh interpreter", async () => {
    assert.equal((await run("import sys\nsys.pyplay_marker = 1\nprint(hasattr(sys, 'pyplay_marker'))\n")).text, "True\n");
    await page.getByRole("button", { name: "Restart" }).click();
    await waitReady(page);
    assert.equal((await run("import sys\nprint(hasattr(sys, 'pyplay_marker'))\n")).text, "False\n");
  });
});

async function switchToMicroPython() {
  await page.getByRole("combobox", { name: "Runtime" }).selectOption({ label: "MicroPython" });
  await waitReady(page);
}

describe("MicroPython", () => {
  test("runs a program, shows its traceback, and Stop terminates a loop", async () => {
    await switchToMicroPython();
    assert.match(await status(), /Ready: MicroPython 1\.27/);
    const ok = await run("import sys\nprint(sys.implementation.name, 6 * 7)\n");
    assert.equal(ok.state, "done");
    assert.equal(ok.text, "micropython 42\n");
    const bad = await run("def g():\n    raise ValueError('boom')\ng()\n");
    assert.equal(bad.state, "error");
    assert.match(bad.text, /File "main\.py", line 3/);
    assert.match(bad.text, /ValueError: boom/);
    await setCode(page, "while True:\n    pass\n");
    await runButton().click();
    await waitState(page, ["running"]);
    await page.getByRole("button", { name: "Stop" }).click();
    // MicroPython cannot be interrupted: the worker is replaced at once.
    await page.getByRole("log", { name: "Output" }).getByText("KeyboardInterrupt").waitFor({ timeout: 5000 });
    await waitReady(page);
    assert.equal((await run("print('after stop')\n")).text, "after stop\n");
    const inp = await (async () => {
      await setCode(page, "print('got', input('mp? '))\n");
      await runButton().click();
      const f = page.getByRole("textbox", { name: "mp?" });
      await f.fill("x");
      await f.press("Enter");
      await waitState(page, ["done", "error"]);
      return output(page).textContent();
    })();
    assert.equal(inp, "mp? x\ngot x\n");
  });
});

describe("the page as a whole", () => {
  test("no request leaves the origin and nothing errors in the console", async () => {
    // Both runtimes load and run a program.
    assert.equal((await run("print('pyodide')\n")).text, "pyodide\n");
    await switchToMicroPython();
    assert.equal((await run("print('micropython')\n")).text, "micropython\n");
    const origin = new URL(server.url).origin;
    const foreign = requests.filter((u) => new URL(u).origin !== origin);
    assert.deepEqual(foreign, []);
    assert.ok(requests.some((u) => u.includes("/runtime/pyodide/")), "Pyodide files came from pyplay");
    assert.ok(requests.some((u) => u.includes("/runtime/micropython/")), "MicroPython files came from pyplay");
    assert.deepEqual(errors, []);
  });
});
