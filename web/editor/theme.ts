// The editor's colours: a light and a dark theme, each a CodeMirror theme
// (background, gutter, active line, selection, cursor) plus a highlight
// style for Python's tokens, following the page's colour scheme
// (prefers-color-scheme) as the rest of the page does.
//
// Every token colour has a contrast of at least 4.5:1 (WCAG AA for text)
// against the editor's background and against the active line, selection
// included (web/e2e/theme.test.mjs measures the rendered page). CodeMirror's
// own defaults do not: f-strings, for one, are #e40 on white (3.7:1), and it
// has no dark highlight style at all.

import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { Compartment, type Extension } from "@codemirror/state";
import { EditorView, ViewPlugin } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";

interface Palette {
  bg: string;
  fg: string;
  gutterFg: string;
  gutterBorder: string;
  activeLine: string; // translucent: the selection layer shows through it
  activeGutter: string;
  selection: string;
  selectionFocused: string;
  cursor: string;
  matchingBracket: string;
  keyword: string;
  string: string;
  special: string; // f-strings, escapes
  number: string;
  atom: string; // True, False, None, self
  fn: string; // function names
  cls: string; // class names
  property: string;
  operator: string;
  punctuation: string;
  comment: string;
  invalid: string;
}

const light: Palette = {
  bg: "#ffffff",
  fg: "#1d2330",
  gutterFg: "#5d6577",
  gutterBorder: "#d9dde5",
  activeLine: "rgb(31 78 121 / 6%)",
  activeGutter: "#e8edf5",
  selection: "#d7e3f4",
  selectionFocused: "#c9dbf5",
  cursor: "#1d2330",
  matchingBracket: "#d3ecd3",
  keyword: "#7a1fa2",
  string: "#a31515",
  special: "#9c3b00",
  number: "#116644",
  atom: "#1f3fb0",
  fn: "#0b55b8",
  cls: "#0f6b6b",
  property: "#5b3c99",
  operator: "#5d6577",
  punctuation: "#4a5160",
  comment: "#6b5200",
  invalid: "#b3261e",
};

const dark: Palette = {
  bg: "#1b1f27",
  fg: "#e3e6ec",
  gutterFg: "#949cae",
  gutterBorder: "#2b303a",
  activeLine: "rgb(255 255 255 / 4%)",
  activeGutter: "#252a34",
  selection: "#27364f",
  selectionFocused: "#2a3b57",
  cursor: "#e3e6ec",
  matchingBracket: "#2f4a33",
  keyword: "#d09cf0",
  string: "#a5d68a",
  special: "#e5c07b",
  number: "#e5a874",
  atom: "#e5a874",
  fn: "#74b8f5",
  cls: "#ecc97f",
  property: "#ef8e96",
  operator: "#6fcdd8",
  punctuation: "#c0c6d2",
  comment: "#9aa4b6",
  invalid: "#ff8a80",
};

function theme(p: Palette, isDark: boolean): Extension {
  const view = EditorView.theme(
    {
      "&": { color: p.fg, backgroundColor: p.bg },
      ".cm-content": { caretColor: p.cursor },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: p.cursor },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground": { backgroundColor: p.selectionFocused },
      ".cm-selectionBackground, .cm-content ::selection": { backgroundColor: p.selection },
      ".cm-activeLine": { backgroundColor: p.activeLine },
      ".cm-gutters": { backgroundColor: p.bg, color: p.gutterFg, borderRight: `1px solid ${p.gutterBorder}` },
      ".cm-activeLineGutter": { backgroundColor: p.activeGutter, color: p.fg },
      "&.cm-focused .cm-matchingBracket": { backgroundColor: p.matchingBracket, color: "inherit" },
      "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "transparent", color: p.invalid },
      ".cm-foldPlaceholder": { backgroundColor: "transparent", border: "none", color: p.gutterFg },
      ".cm-tooltip": { backgroundColor: p.bg, color: p.fg, border: `1px solid ${p.gutterBorder}` },
      ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: p.selectionFocused, color: p.fg },
      ".cm-panels": { backgroundColor: p.bg, color: p.fg },
      ".cm-searchMatch": { backgroundColor: p.matchingBracket, outline: `1px solid ${p.gutterFg}` },
      ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: p.selectionFocused },
      ".cm-selectionMatch": { backgroundColor: p.selection },
    },
    { dark: isDark },
  );
  const highlight = HighlightStyle.define(
    [
      { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword, t.modifier], color: p.keyword },
      { tag: [t.string, t.deleted], color: p.string },
      { tag: [t.special(t.string), t.escape, t.regexp], color: p.special },
      { tag: [t.number, t.integer, t.float], color: p.number },
      { tag: [t.bool, t.null, t.atom, t.self], color: p.atom },
      { tag: [t.function(t.variableName), t.function(t.definition(t.variableName)), t.function(t.propertyName)], color: p.fn },
      { tag: [t.definition(t.className), t.className, t.typeName], color: p.cls },
      { tag: [t.propertyName, t.definition(t.propertyName)], color: p.property },
      { tag: [t.operator, t.arithmeticOperator, t.compareOperator, t.bitwiseOperator, t.updateOperator, t.definitionOperator], color: p.operator },
      { tag: [t.punctuation, t.separator, t.paren, t.squareBracket, t.brace, t.derefOperator], color: p.punctuation },
      { tag: [t.variableName, t.definition(t.variableName)], color: p.fg },
      { tag: t.meta, color: p.fn }, // decorators' @
      { tag: t.comment, color: p.comment, fontStyle: "italic" },
      { tag: t.invalid, color: p.invalid },
    ],
    { themeType: isDark ? "dark" : "light" },
  );
  return [view, syntaxHighlighting(highlight)];
}

const lightTheme = theme(light, false);
const darkTheme = theme(dark, true);

/**
 * An extension chosen by a media query, switched whenever the query's answer
 * changes, for as long as the view lives: the colour scheme here, line
 * wrapping on narrow screens in editor.ts.
 */
export function followMedia(media: string, choose: (matches: boolean) => Extension): Extension {
  const slot = new Compartment();
  const query = window.matchMedia(media);
  return [
    slot.of(choose(query.matches)),
    ViewPlugin.define((view) => {
      const listener = () => view.dispatch({ effects: slot.reconfigure(choose(query.matches)) });
      query.addEventListener("change", listener);
      return { destroy: () => query.removeEventListener("change", listener) };
    }),
  ];
}

/** The theme for the page's colour scheme, switching when the scheme does. */
export function colorScheme(): Extension {
  return followMedia("(prefers-color-scheme: dark)", (dark) => (dark ? darkTheme : lightTheme));
}
