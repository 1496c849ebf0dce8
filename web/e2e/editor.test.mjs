// Browser tests of the editor page (issue: foundation): real binary, real
// Chromium, real Pyodide and MicroPython. One server and one browser for the
// file; every test has a page of its own in a fresh browser context (no
// drafts, caches or runtime choice left by another test), so each stands
// alone and they may run in any order.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { appReady, openPage, output, setCode, waitReady, waitState, withServerAndBrowser } from "./helpers.mjs";

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

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

beforeEach(async () => {
  context = await browser.newContext();
  ({ page, requests, errors } = await openPage(context, server.url + "/"));
  await waitReady(page);
});

afterEach(async () => {
  await context?.close();
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
    await setCode(page, "import time\nprint('first', flush=True)\ntime.sleep(3)\nprint('second')\n");
    await runButton().click();
    // Shown while the program sleeps (with room for a slow machine).
    await page.getByRole("log", { name: "Output" }).getByText("first").waitFor({ timeout: 2500 });
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

  test("Stop during the program's last statement, a time.sleep, ends it as stopped", async () => {
    await setCode(page, "import time\nprint('sleeping')\ntime.sleep(30)\n");
    await runButton().click();
    await output(page).getByText("sleeping").waitFor();
    await page.waitForTimeout(200);
    await page.getByRole("button", { name: "Stop" }).click();
    assert.equal(await waitState(page, ["stopped", "done"], 5000), "stopped");
    // The signal is spent: the next run is not interrupted by it.
    const again = await run("import time\ntime.sleep(0.2)\nprint('next')\n");
    assert.equal(again.state, "done");
    assert.equal(again.text, "next\n");
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

  test("the program is a real __main__ module: doctest.testmod() tests it, pickle finds its classes", async () => {
    const code = [
      "import doctest, pickle, sys",
      "",
      "def double(x):",
      '    """',
      "    >>> double(2)",
      "    4",
      "    >>> double(3)",
      "    7",
      '    """',
      "    return 2 * x",
      "",
      "class Point:",
      "    def __init__(self, x, y):",
      "        self.x, self.y = x, y",
      "",
      "main = sys.modules['__main__']",
      "print(__name__, __file__, main is sys.modules[__name__], main.double is double, sys.argv)",
      "p = pickle.loads(pickle.dumps(Point(1, 2)))",
      "print('unpickled', type(p).__name__, p.x, p.y)",
      "print(doctest.testmod())",
      "",
    ].join("\n");
    const { state, text } = await run(code);
    assert.equal(state, "done", text);
    assert.match(text, /^__main__ main\.py True True \['main\.py'\]\nunpickled Point 1 2\n/);
    assert.match(text, /File "main\.py", line 7, in __main__\.double\nFailed example:\n    double\(3\)\nExpected:\n    7\nGot:\n    6\n/);
    assert.match(text, /TestResults\(failed=1, attempted=2\)\n$/);
    // The next run is a fresh module again: nothing of this one is left.
    const again = await run("import sys\nprint(hasattr(sys.modules['__main__'], 'Point'), 'double' in globals())\n");
    assert.equal(again.text, "False False\n");
  });

  test("top-level await works, and a traceback after it points at main.py", async () => {
    const ok = await run("import asyncio\nawait asyncio.sleep(0)\nprint('awaited', __name__)\n");
    assert.equal(ok.state, "done", ok.text);
    assert.equal(ok.text, "awaited __main__\n");
    const bad = await run("import asyncio\n\nawait asyncio.sleep(0.01)\nprint('before')\n1 / 0\n");
    assert.equal(bad.state, "error");
    assert.match(bad.text, /^before\nTraceback \(most recent call last\):\n  File "main\.py", line 5, in <module>\n/);
    assert.match(bad.text, /ZeroDivisionError: division by zero\n$/);
    assert.doesNotMatch(bad.text, /_pyplay|asyncio|webloop/);
  });

  test("Stop interrupts a program awaiting at top level in place", async () => {
    await setCode(page, "import asyncio\nprint('waiting', flush=True)\nawait asyncio.sleep(30)\nprint('not reached')\n");
    await runButton().click();
    await output(page).getByText("waiting").waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    assert.equal(await waitState(page, ["stopped"], 5000), "stopped");
    // KeyboardInterrupt at the await, not a replaced interpreter.
    assert.match(await status(), /Stopped \(KeyboardInterrupt\)/);
    const text = await output(page).textContent();
    assert.match(text, /^waiting\nTraceback \(most recent call last\):\n  File "main\.py", line 3, in <module>\n/);
    assert.match(text, /\nKeyboardInterrupt\n$/);
    assert.doesNotMatch(text, /File "[^"]*asyncio/);
    assert.equal((await run("print('next')\n")).text, "next\n");
  });

  test("the traceback's line is marked in the editor, and its lines lead there (click or keyboard)", async () => {
    const { state } = await run("def f():\n    return 1/0\n\nf()\n");
    assert.equal(state, "error");
    const marked = page.locator(".cm-error-line");
    assert.equal(await marked.count(), 1);
    assert.equal(await marked.textContent(), "    return 1/0");
    assert.equal(await page.locator(".cm-lineNumbers .cm-error-gutter").textContent(), "2");
    const activeLine = () => page.locator(".cm-activeLine").textContent();
    // A click on `File "main.py", line 4` puts the cursor on line 4.
    await output(page).getByRole("link", { name: 'File "main.py", line 4' }).click();
    assert.equal(await activeLine(), "f()");
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("cm-content")), true);
    // The keyboard: the links are in the tab order and Enter follows them.
    const link2 = output(page).getByRole("link", { name: 'File "main.py", line 2' });
    await link2.focus();
    await page.keyboard.press("Enter");
    assert.equal(await activeLine(), "    return 1/0");
    // An edit clears the mark (the line may no longer be the one that failed)…
    await page.keyboard.type("  ");
    assert.equal(await marked.count(), 0);
    // …and so does the next run.
    assert.equal((await run("def f():\n    return 1/0\n\nf()\n")).state, "error");
    assert.equal(await marked.count(), 1);
    assert.equal((await run("print('fixed')\n")).state, "done");
    assert.equal(await marked.count(), 0);
  });

  test("ANSI colours are shown as colours, never as raw escape codes", async () => {
    const code =
      'print("\\x1b[31mred\\x1b[0m plain \\x1b[1;32mbold green\\x1b[0m\\x1b]0;a title\\x07\\x1b[2K\\x1b[94mbright\\x1b[39m end")\n' +
      'import sys\nprint("\\x1b[33mwarning\\x1b[0m", file=sys.stderr)\n';
    const { state, text } = await run(code);
    assert.equal(state, "done");
    assert.equal(text, "red plain bold greenbright end\nwarning\n");
    assert.doesNotMatch(await output(page).innerHTML(), /\x1b|\[31m/);
    const style = (t) =>
      output(page)
        .getByText(t, { exact: true })
        .evaluate((e) => ({ cls: e.className, color: getComputedStyle(e).color, weight: getComputedStyle(e).fontWeight }));
    const red = await style("red");
    assert.match(red.cls, /\bansi-fg1\b/);
    const plain = await style(" plain ");
    assert.notEqual(red.color, plain.color);
    const green = await style("bold green");
    assert.match(green.cls, /\bansi-fg2\b.*\bansi-bold\b/);
    assert.equal(green.weight, "700");
    assert.match((await style("bright")).cls, /\bansi-fg12\b/);
    const warning = await style("warning");
    assert.match(warning.cls, /\bout-stderr\b.*\bansi-fg3\b/);
    assert.equal(await output(page).getByText("warning", { exact: true }).getAttribute("data-stream"), "stderr");
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

describe("MicroPython's missing modules", () => {
  test("a standard-library module it lacks says so (and names Pyodide); a third-party one is what it is", async () => {
    await switchToMicroPython();
    for (const mod of ["doctest", "fractions", "__future__"]) {
      const { state, text } = await run(`import ${mod}\n`);
      assert.equal(state, "error", mod);
      assert.match(text, new RegExp(`ImportError: no module named '${mod}'`), mod);
      assert.match(text, new RegExp(`${mod} is part of Python's standard library, but not available in MicroPython: switch the Runtime to Pyodide`), mod);
      assert.doesNotMatch(text, /third-party/, mod);
    }
    const numpy = await run("import numpy\n");
    assert.match(numpy.text, /no module named 'numpy'/);
    assert.match(numpy.text, /third-party packages such as this one are not available/);
    assert.doesNotMatch(numpy.text, /switch the Runtime/);
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
