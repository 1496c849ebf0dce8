// The line a traceback ends in, marked in CodeMirror: a tinted line and a
// red line number, as the Go playground marks its errors. The mark goes
// with the next edit (the line may no longer be the one that failed) and
// with the next run (main.ts clears it).

import { EditorSelection, type Extension, RangeSet, StateEffect, StateField, type EditorState } from "@codemirror/state";
import { Decoration, EditorView, GutterMarker, gutterLineClass } from "@codemirror/view";

/** Marks a 1-based line (null clears the mark). */
export const setErrorLine = StateEffect.define<number | null>();

class ErrorGutter extends GutterMarker {
  override elementClass = "cm-error-gutter";
}
const gutterMark = new ErrorGutter();
const lineMark = Decoration.line({
  class: "cm-error-line",
  attributes: { title: "The traceback ends on this line" },
});

/** The marked line's start position, or null. */
const errorField = StateField.define<number | null>({
  create: () => null,
  update(pos, tr) {
    if (tr.docChanged) pos = null;
    for (const e of tr.effects) {
      if (!e.is(setErrorLine)) continue;
      const n = e.value;
      pos = n !== null && n >= 1 && n <= tr.state.doc.lines ? tr.state.doc.line(n).from : null;
    }
    return pos;
  },
  provide: (f) => [
    EditorView.decorations.from(f, (pos) => (pos === null ? Decoration.none : Decoration.set([lineMark.range(pos)]))),
    gutterLineClass.from(f, (pos) => (pos === null ? RangeSet.empty : RangeSet.of([gutterMark.range(pos)]))),
  ],
});

const theme = EditorView.baseTheme({
  // Translucent, so that the line's text keeps its contrast on whatever background the theme has.
  "&light .cm-error-line": { backgroundColor: "rgba(179, 38, 30, 0.12)", boxShadow: "inset 3px 0 #b3261e" },
  "&dark .cm-error-line": { backgroundColor: "rgba(255, 138, 128, 0.16)", boxShadow: "inset 3px 0 #ff8a80" },
  "&light .cm-error-gutter": { color: "#b3261e", fontWeight: "700" },
  "&dark .cm-error-gutter": { color: "#ff8a80", fontWeight: "700" },
});

/** The extension that shows the mark. */
export function errorLine(): Extension {
  return [errorField, theme];
}

/** The marked line (1-based), or null. */
export function markedLine(state: EditorState): number | null {
  const pos = state.field(errorField, false);
  return pos == null ? null : state.doc.lineAt(pos).number;
}

/** Puts the cursor at the start of a 1-based line's text, scrolled into view, and focuses the editor. */
export function goToLine(view: EditorView, n: number): void {
  const doc = view.state.doc;
  const line = doc.line(Math.min(Math.max(1, n), doc.lines));
  const at = line.from + (/^\s*/.exec(line.text)?.[0].length ?? 0);
  view.dispatch({ selection: EditorSelection.cursor(at), effects: EditorView.scrollIntoView(at, { y: "center" }) });
  view.focus();
}
