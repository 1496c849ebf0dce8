// Browser tests of turtle graphics (issue 14, part 4): `import turtle` draws
// SVG in the Output log, in Pyodide and MicroPython. The tests read the
// drawn elements (paths, polygons, circles, texts), never pixels. SVG y is
// turtle's -y: forward(100) then left(90) and forward(100) ends at (100, -100).
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { openPage, output, setCode, waitReady, waitState, withServerAndBrowser } from "./helpers.mjs";

let server, browser;
let context, page, errors;

const runButton = () => page.getByRole("button", { name: "Run", exact: true });
const drawing = () => output(page).locator("svg");

/** Runs code; text is what it printed (not the drawing's texts). */
async function run(code, states = ["done", "error", "stopped"]) {
  await setCode(page, code);
  await runButton().click();
  const state = await waitState(page, states, 60000);
  const text = (await output(page).locator(".out-block").allTextContents()).join("");
  return { state, text };
}

/** The drawn paths: d and segment count. */
function paths() {
  return drawing()
    .locator("g.turtle-drawing path")
    .evaluateAll((ps) => ps.map((p) => ({ d: p.getAttribute("d"), segments: Number(p.dataset.segments), stroke: p.getAttribute("stroke") })));
}

withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

beforeEach(async () => {
  context = await browser.newContext();
  ({ page, errors } = await openPage(context, server.url + "/"));
  await waitReady(page);
});

afterEach(async () => {
  await context?.close();
});

const SQUARE = "import turtle\nt = turtle.Turtle()\nfor _ in range(4):\n    t.forward(100)\n    t.left(90)\nturtle.done()\n";

describe("turtle in Pyodide", () => {
  test("a flood of printed text does not lose the drawing: it comes back, whole, after the text", async () => {
    // 20,000 lines in one go fill the log (5,000 lines) many times over, which
    // empties the page of older blocks, the drawing among them.
    const { state } = await run(
      "import turtle\nturtle.speed(0)\nturtle.forward(50)\nprint('\\n'.join(str(i) for i in range(20000)))\nturtle.left(90)\nturtle.forward(50)\n",
    );
    assert.equal(state, "done");
    assert.equal(await drawing().count(), 1, "the drawing is in the Output");
    assert.deepEqual(await paths(), [{ d: "M0 0L50 0L50 -50", segments: 2, stroke: "#000000" }]);
    // It follows the flood's last lines.
    const last = await output(page).evaluate((log) => log.lastElementChild?.querySelector("svg") !== null || log.lastElementChild?.tagName === "svg");
    assert.ok(last, "the drawing is the last thing in the log");
    assert.deepEqual(errors, []);
  });

  test("a square is one closed path of 4 segments at turtle's coordinates, drawn at the default speed", async () => {
    const { state, text } = await run(SQUARE);
    assert.equal(state, "done", text);
    assert.deepEqual(await paths(), [{ d: "M0 0L100 0L100 -100L0 -100L0 0", segments: 4, stroke: "#000000" }]);
    // The canvas is turtle's 400×400 window, white, with the turtle on top.
    assert.equal(await drawing().getAttribute("viewBox"), "-200 -200 400 400");
    assert.equal(await drawing().locator("rect.turtle-bg").getAttribute("fill"), "#ffffff");
    assert.equal(await drawing().locator("g.turtle-sprite polygon").count(), 1);
    assert.equal(text, "");
    assert.deepEqual(errors, []);
  });

  test("begin_fill/end_fill fills a polygon with the fill colour, under its outline", async () => {
    const { state } = await run(
      "import turtle\nturtle.speed(0)\nturtle.color('red', 'yellow')\nturtle.begin_fill()\n" +
        "for _ in range(3):\n    turtle.forward(100)\n    turtle.left(120)\nturtle.end_fill()\n",
    );
    assert.equal(state, "done");
    const shapes = await drawing()
      .locator("g.turtle-drawing > *")
      .evaluateAll((es) => es.map((e) => ({ tag: e.tagName, fill: e.getAttribute("fill"), stroke: e.getAttribute("stroke"), points: e.getAttribute("points") })));
    assert.equal(shapes.length, 2);
    assert.equal(shapes[0].tag, "polygon");
    assert.equal(shapes[0].fill, "#ffff00");
    assert.equal(shapes[0].points, "0,0 100,0 50,-86.6 0,0");
    assert.equal(shapes[1].tag, "path");
    assert.equal(shapes[1].stroke, "#ff0000");
  });

  test("circle draws a path; penup moves draw nothing; dot, write and colours", async () => {
    const { state, text } = await run(
      [
        "import turtle",
        "t = turtle.Turtle()",
        "t.speed('fastest')",
        "t.penup()",
        "t.goto(0, -50)",
        "t.pendown()",
        "t.pencolor(0, 0.5, 1)",
        "t.pensize(3)",
        "t.circle(50)",
        "t.penup()",
        "t.goto(-100, 100)",
        "t.dot(20, 'blue')",
        "t.write('Hello, turtle!', align='center', font=('Arial', 16, 'bold'))",
        "print(t.pos(), t.heading(), t.pencolor())",
      ].join("\n") + "\n",
    );
    assert.equal(state, "done", text);
    assert.equal(text, "(-100.00,100.00) 0.0 (0.0, 0.5019607843137255, 1.0)\n");
    const ps = await paths();
    assert.equal(ps.length, 1);
    assert.equal(ps[0].stroke, "#0080ff");
    assert.ok(ps[0].segments >= 20, `a circle of ${ps[0].segments} segments`);
    assert.match(ps[0].d, /^M0 50L/); // starts at (0, -50): the pen-up move left no line
    const box = await drawing().locator("g.turtle-drawing path").evaluate((p) => {
      const b = p.getBBox();
      return [b.x, b.y, b.width, b.height].map(Math.round);
    });
    assert.deepEqual(box, [-50, -50, 100, 100]);
    const dot = drawing().locator("circle");
    assert.deepEqual(await dot.evaluate((c) => [c.getAttribute("cx"), c.getAttribute("cy"), c.getAttribute("r"), c.getAttribute("fill")]), ["-100", "-100", "10", "#0000ff"]);
    const label = drawing().locator("text");
    assert.equal(await label.textContent(), "Hello, turtle!");
    assert.equal(await label.getAttribute("text-anchor"), "middle");
    assert.equal(await label.getAttribute("font-weight"), "bold");
  });

  test("speed(0) with a 2000-step loop finishes and draws every segment", async () => {
    const { state, text } = await run(
      "import turtle\nturtle.speed(0)\nturtle.hideturtle()\nfor i in range(2000):\n    turtle.forward(i * 0.2)\n    turtle.left(91)\nprint('drawn')\n",
    );
    assert.equal(state, "done", text);
    assert.equal(text, "drawn\n");
    const ps = await paths();
    assert.equal(ps.reduce((n, p) => n + p.segments, 0), 2000);
  });

  test("a drawing stops at 50,000 items with a note saying so; the program runs on", async () => {
    const { state, text } = await run(
      "import turtle\nturtle.tracer(0)\nturtle.hideturtle()\nfor i in range(50100):\n    turtle.goto(i % 100, i // 100 % 100)\nprint('ran to the end')\n",
    );
    assert.equal(state, "done", text);
    assert.equal(text, "ran to the end\n");
    const ps = await paths();
    assert.equal(ps.reduce((n, p) => n + p.segments, 0), 50000);
    assert.ok(ps.every((p) => p.segments <= 500), "segments merge into paths of at most 500");
    const note = output(page).getByRole("note");
    assert.match(await note.textContent(), /reached the limit of 50,000 lines, dots, fills, texts and stamps/);
  });

  test("Stop during a slow drawing stops it at once and the page stays usable", async () => {
    await setCode(page, "import turtle\nturtle.speed(1)\nfor i in range(100):\n    turtle.forward(150)\n    turtle.left(170)\n");
    await runButton().click();
    await waitState(page, ["running"]);
    // The first line grows (animated), then more follow.
    await page.waitForFunction(() => Number(document.querySelector("#output svg path")?.dataset.segments) >= 2, null, { timeout: 30000 });
    await page.getByRole("button", { name: "Stop" }).click();
    assert.equal(await waitState(page, ["stopped"], 10000), "stopped");
    assert.match(await output(page).textContent(), /KeyboardInterrupt/);
    const count = async () => (await paths()).reduce((n, p) => n + p.segments, 0);
    const n = await count();
    assert.ok(n < 100, `${n} segments drawn before Stop`);
    assert.equal(await drawing().locator("line.turtle-moving").count(), 0);
    await page.waitForTimeout(1500);
    assert.equal(await count(), n, "nothing is drawn after Stop");
    const again = await run("print('still here')\n");
    assert.equal(again.text, "still here\n");
    assert.equal(await drawing().count(), 0, "a new Run clears the old drawing");
  });

  test("printed text and drawing appear in the order the program made them", async () => {
    const { state } = await run("import turtle\nprint('before')\nturtle.speed(0)\nturtle.forward(50)\nprint('after')\n");
    assert.equal(state, "done");
    const order = await output(page).evaluate((log) =>
      [...log.children].map((c) => (c.classList.contains("turtle") ? "<drawing>" : c.textContent)),
    );
    assert.deepEqual(order, ["before\n", "<drawing>", "after\n"]);
  });

  test("tracer(0) draws nothing until update(); bgcolor and title", async () => {
    await setCode(
      page,
      "import turtle, time\ns = turtle.Screen()\ns.tracer(0)\ns.bgcolor('black')\ns.title('Night')\nt = turtle.Turtle()\nt.color('white')\nt.forward(80)\n" +
        "print('held')\ntime.sleep(2)\ns.update()\nprint('shown')\nwhile True:\n    time.sleep(0.1)\n",
    );
    await runButton().click();
    await output(page).getByText("held").waitFor({ timeout: 30000 });
    assert.equal(await drawing().locator("path").count(), 0);
    await output(page).getByText("shown").waitFor({ timeout: 30000 });
    assert.deepEqual(await paths(), [{ d: "M0 0L80 0", segments: 1, stroke: "#ffffff" }]);
    assert.equal(await drawing().locator("rect.turtle-bg").getAttribute("fill"), "#000000");
    assert.equal(await output(page).locator(".turtle-title").textContent(), "Night");
    await page.getByRole("button", { name: "Stop" }).click();
    await waitState(page, ["stopped"]);
  });

  test("an unsupported function and a bad colour give clear errors", async () => {
    const a = await run("import turtle\nturtle.forward(10)\nturtle.onkey(lambda: None, 'Up')\n");
    assert.equal(a.state, "error");
    assert.match(a.text, /NotImplementedError: turtle\.onkey\(\) is not supported: pyplay's turtle draws in the Output and cannot take keyboard or mouse events/);
    assert.match(a.text, /File "main\.py", line 3/);
    const b = await run("import turtle\nturtle.pencolor('blurple')\n");
    assert.equal(b.state, "error");
    assert.match(b.text, /TurtleGraphicsError: bad color string: blurple/);
  });
});

describe("turtle in MicroPython", () => {
  test("the same square program draws the same path", async () => {
    await page.getByRole("combobox", { name: "Runtime" }).selectOption({ label: "MicroPython" });
    await waitReady(page);
    const { state, text } = await run(SQUARE.replace("turtle.done()\n", "print(t.pos(), t.heading())\nturtle.done()\n"));
    assert.equal(state, "done", text);
    assert.equal(text, "(0.0, 0.0) 0.0\n");
    assert.deepEqual(await paths(), [{ d: "M0 0L100 0L100 -100L0 -100L0 0", segments: 4, stroke: "#000000" }]);
    // A second run starts from a fresh turtle module.
    const again = await run("import turtle\nprint(turtle.pos(), len(turtle.Screen().turtles()))\n");
    assert.equal(again.text, "(0.0, 0.0) 1\n");
  });
});
