// The code box: the server-rendered <textarea> first, upgraded to the
// CodeMirror editor (its own bundle, editor.ts) a moment later.
//
// CodeMirror is most of the page's JavaScript (about 450 KB). Evaluating it
// while the runtime worker starts costs the worker a share of this machine's
// cores and delays its start (a new worker needs the page's main thread), so
// the editor bundle is loaded only once the runtime is ready (or, on a slow
// start, UPGRADE_AT_MS after navigation), but never while a run pressed
// during start-up waits for its output; and at once when the visitor
// reaches for the editor. Until then the textarea is the editor: it holds
// the code, takes typing, and Run, Ctrl+Enter and Share work on what it
// holds. (main.ts decides when; this module does the swap.)

import { difference } from "./diff";
import type { Editor, EditorOptions } from "./editor";

/** Milliseconds after navigation after which the editor is upgraded even if the runtime is still starting. */
export const UPGRADE_AT_MS = 1000;

type EditorModule = typeof import("./editor");

// Whether the focus that is arriving came with the Tab key: a keyboard user
// passing through, who should not find Tab indenting the code.
let arrivedByTab = false;
document.addEventListener("keydown", (e) => (arrivedByTab = e.key === "Tab"), true);
document.addEventListener("pointerdown", () => (arrivedByTab = false), true);

export class CodeBox {
  private editor: Editor | null = null;
  private loading: Promise<void> | null = null;
  /** The line marked as the error's (editor.ts), kept for CodeMirror when it takes over. */
  private errorLine: number | null = null;
  /** Resolves once CodeMirror has replaced the textarea (or failed to load: the textarea stays). */
  readonly upgraded: Promise<boolean>;
  private settle!: (ok: boolean) => void;

  constructor(
    private readonly textarea: HTMLTextAreaElement,
    private readonly editorURL: string,
    private readonly opts: EditorOptions,
  ) {
    this.upgraded = new Promise((r) => (this.settle = r));
    textarea.addEventListener("input", () => {
      this.errorLine = null;
      opts.onChange(textarea.value);
    });
    textarea.setAttribute("aria-describedby", opts.hintId);
    // Tab indents, as in CodeMirror; Escape then Tab leaves the box, so a
    // keyboard user is never trapped in it (CodeMirror's rule too). Who
    // tabbed in moves on with Tab until they type (as editor.ts does).
    let tabIndents = true;
    textarea.addEventListener("focus", () => (tabIndents = !arrivedByTab));
    textarea.addEventListener("keydown", (e) => {
      // Ctrl+Enter is the page's own shortcut; Shift+Enter runs as in CodeMirror.
      if (e.key === "Enter" && e.shiftKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        opts.onRun();
      } else if (e.key === "Tab" && tabIndents && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        textarea.setRangeText("    ", textarea.selectionStart, textarea.selectionEnd, "end");
        opts.onChange(textarea.value);
      }
      if (e.key !== "Tab" && e.key !== "Shift") tabIndents = e.key !== "Escape";
    });
    // Whoever reaches for the editor (a click or a key, not the page's own
    // focus() calls) gets CodeMirror at once; otherwise the page calls
    // upgrade() when the runtime leaves it the time.
    for (const ev of ["pointerdown", "keydown"]) textarea.addEventListener(ev, () => void this.upgrade(), { once: true });
  }

  get isCodeMirror(): boolean {
    return this.editor !== null;
  }

  get code(): string {
    return this.editor ? this.editor.code : this.textarea.value;
  }

  set code(text: string) {
    this.errorLine = null;
    if (this.editor) this.editor.code = text;
    else this.textarea.value = text;
  }

  focus(): void {
    if (this.editor) this.editor.focus();
    else this.textarea.focus();
  }

  /** Lets CodeMirror measure itself again after the layout changed (the split moved, the text size changed). */
  measure(): void {
    this.editor?.view.requestMeasure();
  }

  /** Replaces the code as one change that keeps what did not change, the caret included (Format). */
  replace(text: string): void {
    if (this.editor) return this.editor.replace(text);
    const { from, to, insert } = difference(this.textarea.value, text);
    const { selectionStart, selectionEnd } = this.textarea;
    this.textarea.setRangeText(insert, from, to, "preserve");
    if (selectionStart >= to) this.textarea.setSelectionRange(selectionStart + insert.length - (to - from), selectionEnd + insert.length - (to - from));
    this.opts.onChange(this.textarea.value);
  }

  /** Loads CodeMirror and puts it in the textarea's place, keeping the code, caret and focus. */
  upgrade(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const mod = (await import(/* @vite-ignore */ this.editorURL)) as EditorModule;
        const focused = document.activeElement === this.textarea;
        const { selectionStart, selectionEnd } = this.textarea;
        this.editor = new mod.Editor(this.textarea, this.opts, { anchor: selectionStart, head: selectionEnd });
        const view = this.editor.view;
        view.contentDOM.addEventListener("focus", () => {
          if (arrivedByTab) this.editor?.tabPassesThrough();
        });
        if (focused) this.editor.focus();
        if (this.errorLine !== null) this.editor.markError(this.errorLine);
        this.settle(true);
      } catch (err) {
        // The textarea keeps working: code, Run and Share need nothing more.
        console.warn("pyplay: the code editor could not be loaded; editing in a plain text box:", err);
        this.settle(false);
      }
    })();
    return this.loading;
  }

  /** Marks the 1-based line a traceback ends in (null clears it); the next edit clears it too. */
  markError(line: number | null): void {
    this.errorLine = line;
    this.editor?.markError(line);
  }

  /** Moves the cursor to the start of a 1-based line and focuses the editor. */
  goToLine(line: number): void {
    if (this.editor) return this.editor.goToLine(line);
    const lines = this.textarea.value.split("\n");
    const n = Math.min(Math.max(1, line), lines.length);
    const at = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
    this.textarea.focus();
    this.textarea.setSelectionRange(at, at);
  }
}
