// The code editor: CodeMirror 6 with Python support, replacing the
// server-rendered <textarea> (which shows the code before scripts load).
// A bundle of its own, loaded by codebox.ts once the runtime has started.

import { indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { indentUnit } from "@codemirror/language";
import { EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { errorLine, goToLine, setErrorLine } from "./errorline";
import { difference } from "./diff";
import { colorScheme, followMedia } from "./theme";

export interface EditorOptions {
  onRun(): void;
  onChange(code: string): void;
  /** The id of the element that says how to leave the editor (aria-describedby). */
  hintId: string;
}

/** Screens this narrow wrap long lines instead of scrolling sideways (the page's own breakpoint). */
export const NARROW = "(max-width: 800px)";

export class Editor {
  readonly view: EditorView;

  constructor(textarea: HTMLTextAreaElement, opts: EditorOptions, selection?: { anchor: number; head: number }) {
    // The page's other shortcuts (Format, Stop) work anywhere on the page (main.ts).
    const pageKeys = keymap.of([
      { key: "Mod-Enter", run: () => (opts.onRun(), true), preventDefault: true },
      { key: "Shift-Enter", run: () => (opts.onRun(), true), preventDefault: true },
    ]);
    const extensions: Extension[] = [
      pageKeys,
      basicSetup,
      keymap.of([indentWithTab]),
      python(),
      indentUnit.of("    "),
      errorLine(),
      colorScheme(),
      followMedia(NARROW, (narrow) => (narrow ? EditorView.lineWrapping : [])),
      EditorView.contentAttributes.of({ "aria-label": "Code", "aria-describedby": opts.hintId }),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) opts.onChange(u.state.doc.toString());
      }),
    ];
    this.view = new EditorView({
      state: EditorState.create({
        doc: textarea.value,
        extensions,
        selection: selection && selection.head <= textarea.value.length ? selection : undefined,
      }),
    });
    textarea.replaceWith(this.view.dom);
  }

  get code(): string {
    return this.view.state.doc.toString();
  }

  set code(text: string) {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text } });
  }

  /**
   * Replaces the code with text as one undoable change that touches only
   * what differs, so the cursor and scroll position stay where they were
   * (Format).
   */
  replace(text: string): void {
    const { from, to, insert } = difference(this.code, text);
    if (from === to && insert === "") return;
    this.view.dispatch({ changes: { from, to, insert }, userEvent: "input.format", scrollIntoView: false });
  }

  focus(): void {
    this.view.focus();
  }

  /** Marks the 1-based line a traceback ends in (null clears it); the next edit clears it too. */
  markError(line: number | null): void {
    this.view.dispatch({ effects: setErrorLine.of(line) });
  }

  /** Moves the cursor to a 1-based line and focuses the editor. */
  goToLine(line: number): void {
    goToLine(this.view, line);
  }

  /**
   * Keyboard users who tabbed in: until they type, Tab moves on instead of
   * indenting, so that tabbing through the page never changes the code.
   */
  tabPassesThrough(): void {
    this.view.setTabFocusMode(60 * 60 * 1000);
  }
}
