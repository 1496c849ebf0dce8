// The page's duration format (web/dom.ts formatNs) against the shared
// table in web/testdata/format.json, which the server's stats.FormatNs is
// held to as well: warnings and verdicts written by the server sit next to
// the dashboard's numbers, so both must write a duration the same way.
// No browser: dom.ts is plain TypeScript, compiled here with tsc's
// transpiler and imported as a module.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import ts from "typescript";
import { ROOT } from "./helpers.mjs";

async function importTS(path) {
  const { outputText } = ts.transpileModule(readFileSync(path, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputText).toString("base64")}`);
}

const { formatNs } = await importTS(`${ROOT}web/dom.ts`);
const table = JSON.parse(readFileSync(`${ROOT}web/testdata/format.json`, "utf8"));

test("formatNs writes every duration of the shared table as the table says", () => {
  assert.ok(table.formatNs.length > 0);
  for (const { ns, text } of table.formatNs) assert.equal(formatNs(ns), text, `formatNs(${ns})`);
});

test("formatNs says a duration that is not a number is unknown", () => {
  for (const ns of [NaN, Infinity, -Infinity]) assert.equal(formatNs(ns), "–");
});
