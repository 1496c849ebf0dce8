// The Output log: shows streamed program output, keeps stderr
// distinguishable (data-stream="stderr"), follows the end unless the reader
// scrolled up, renders ANSI colours, and makes a traceback's
// `File "main.py", line N` a link to that line.
//
// Its cost does not grow with the output's length, so that a print loop
// cannot freeze the page: text is appended once per animation frame (all
// that arrived meanwhile at once), in blocks of BLOCK_LINES lines, so the
// browser lays out only the newest block; the page holds at most MAX_LINES
// lines (older blocks are dropped, and a note above the log says so); the
// whole text is kept aside, up to MAX_KEPT_CHARS, for "show all" and
// "download". rendered() tells the runner when a batch is on screen: the
// worker waits for that before sending more (runtime/worker.ts), as a
// program writing to a terminal waits for the terminal.

import "./output.css";
import { AnsiParser, PLAIN, styleClass } from "./ansi";
import { el } from "../dom";
import { TurtleCanvas } from "./turtle";
import { renderDisplay } from "./richoutput";
import type { DisplayItem } from "../runtime/messages";

/** Lines the log holds in the page; earlier ones are dropped from it (but kept for download). */
export const MAX_LINES = 5000;
/** Lines per block element: the unit of layout and of dropping. */
const BLOCK_LINES = 100;
/** Characters the log holds in the page, for output with very long lines. */
const MAX_DOM_CHARS = 1_000_000;
/** Characters kept for "show all" and "download"; what comes after is only counted. */
export const MAX_KEPT_CHARS = 10_000_000;
/** Lines a block element (rich output, appendBlock) counts as: at most MAX_LINES / this of them stay in the page. */
export const BLOCK_ELEMENT_LINES = 50;
/** Bytes of rich output (images, HTML) the log holds in the page; older blocks are dropped beyond it. */
export const MAX_DOM_RICH_BYTES = 50 * 1024 * 1024;

export type OutputKind = "stdout" | "stderr" | "stdin" | "info";

export interface OutputOptions {
  /** A traceback's `File "main.py", line N` link was activated. */
  goToLine?(line: number): void;
  /** URL of the preview origin's /display document for HTML output (richoutput.ts); none: HTML shows as source. */
  displayFrame?: string | null;
}

/** How a block element counts against the log's limits (appendBlock). */
export interface BlockOptions {
  /** Bytes it holds (MAX_DOM_RICH_BYTES). */
  bytes?: number;
  /** What stands for it in the text of "show all" and "download". */
  text?: string;
  /** Called once it leaves the page (dropped or cleared). */
  dispose?(): void;
}

/** Text waiting for the next frame, in one stream and style. */
interface Run {
  kind: OutputKind;
  cls: string;
  text: string;
}

interface Block {
  el: HTMLElement;
  lines: number;
  chars: number;
  /** A block element of appendBlock, not text. */
  element?: BlockOptions;
}

const MAIN_LINE = /File "main\.py", line (\d+)/g;

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

const formatCount = (n: number) => n.toLocaleString("en-US");

export class Output {
  private pending: Run[] = [];
  private pendingLines = 0;
  private pendingChars = 0;
  private blocks: Block[] = [];
  private span: HTMLElement | null = null;
  private spanCls = "";
  private domLines = 0;
  private domChars = 0;
  /** The text in the page ends a line (a new block may start). */
  private atLineStart = true;
  /** Everything appended so far ends a line (for info()). */
  private endsLine = true;
  /** Lines not in the page: dropped from it, or never put in. */
  private hiddenLines = 0;
  private kept: string[] = [];
  private keptChars = 0;
  private overflowLines = 0;
  private stderrTail = "";
  private readonly parsers = { stdout: new AnsiParser(), stderr: new AnsiParser() };
  private scheduled = false;
  private frame = 0;
  private waiters: (() => void)[] = [];
  private readonly channel = new MessageChannel();
  private readonly notice: HTMLElement;
  private readonly noticeText: HTMLElement;
  private blobURL: string | null = null;
  /** This run's turtle drawing (editor/turtle.ts), created by its first op. */
  private turtle: TurtleCanvas | null = null;
  private domBytes = 0; // of block elements in the page
  private hiddenElements = 0; // block elements dropped from the page
  private displays = 0; // rich outputs since the last clear (names their files)
  /** The reader is at the end of the log: content that grows later (an image loads) keeps it there. */
  private stick = true;
  private readonly resized = new ResizeObserver(() => {
    if (this.stick) this.log.scrollTop = this.log.scrollHeight;
  });

  constructor(
    private readonly log: HTMLElement,
    private readonly opts: OutputOptions = {},
  ) {
    // Hidden pages get no animation frames: render on a task instead.
    this.channel.port1.onmessage = () => this.flush();
    document.addEventListener("visibilitychange", () => {
      if (document.hidden && this.scheduled) this.flush();
    });
    log.addEventListener("click", (e) => {
      const a = (e.target as Element | null)?.closest?.("a.tb-link") as HTMLAnchorElement | null;
      if (!a) return;
      e.preventDefault();
      this.opts.goToLine?.(Number(a.dataset.line));
    });
    const showAll = el("a", { href: "#", target: "_blank", rel: "noopener" }, "show all");
    const download = el("a", { href: "#", download: "output.txt" }, "download");
    // The links point at the text as it is when clicked.
    for (const a of [showAll, download]) a.addEventListener("click", () => (a.href = this.textURL()));
    this.noticeText = el("span");
    this.notice = el("div", { className: "output-truncated", hidden: true }, "Output truncated: ", this.noticeText, " — ", showAll, " · ", download);
    this.notice.setAttribute("role", "note");
    log.before(this.notice);
    log.addEventListener("scroll", () => (this.stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40), { passive: true });
  }

  /** Shows a rich output (display(), a last expression's value) after what was appended before it. */
  display(item: DisplayItem): void {
    const r = renderDisplay(item, ++this.displays, this.opts.displayFrame ?? null);
    this.appendBlock(r.el, r);
  }

  /**
   * Puts an element in the log after everything appended so far (which is
   * shown first). It counts as BLOCK_ELEMENT_LINES lines and opts.bytes
   * against the log's limits, and is dropped like old text beyond them.
   */
  appendBlock(element: HTMLElement, opts: BlockOptions = {}): void {
    this.flush();
    const follow = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    element.classList.add("out-element");
    this.log.append(element);
    this.blocks.push({ el: element, lines: BLOCK_ELEMENT_LINES, chars: 0, element: opts });
    this.domLines += BLOCK_ELEMENT_LINES;
    this.domBytes += opts.bytes ?? 0;
    this.span = null;
    this.atLineStart = this.endsLine = true;
    this.keep(opts.text ?? "");
    this.trim();
    this.updateNotice();
    this.resized.observe(element);
    if (follow) this.log.scrollTop = this.log.scrollHeight;
  }

  /** Adds text to the log; it shows on the next frame (flush() shows it now). */
  append(kind: OutputKind, text: string): void {
    if (!text) return;
    const pieces = kind === "stdout" || kind === "stderr" ? this.parsers[kind].parse(text) : [{ style: PLAIN, text }];
    for (const p of pieces) {
      const style = styleClass(p.style);
      const cls = style ? `out-${kind} ${style}` : `out-${kind}`;
      const last = this.pending[this.pending.length - 1];
      if (last && last.cls === cls) last.text += p.text;
      else this.pending.push({ kind, cls, text: p.text });
      this.pendingLines += countLines(p.text);
      this.pendingChars += p.text.length;
      this.keep(p.text);
      if (kind === "stderr") this.stderrTail = (this.stderrTail + p.text).slice(-8192);
      this.endsLine = p.text.endsWith("\n");
    }
    this.schedule();
  }

  /** A line of the playground's own (not the program's), on its own line. */
  info(text: string): void {
    this.append("info", (this.endsLine ? "" : "\n") + text + "\n");
  }

  /** Resolves once everything appended so far is in the page. */
  rendered(): Promise<void> {
    if (!this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Draws turtle graphics ops (runtime/turtle-worker.ts); resolves once they are drawn. */
  drawTurtle(ops: string[]): Promise<void> {
    if (!this.turtle) this.turtle = new TurtleCanvas();
    // The text printed before these ops goes in first (a flood of it may
    // drop the drawing from the page, the oldest blocks going first); a new
    // drawing, or one dropped since, then comes in, whole, after the text.
    this.flush();
    if (!this.turtle.el.isConnected) this.appendBlock(this.turtle.el, { text: "[turtle drawing]\n" });
    return this.turtle.apply(ops);
  }

  /** The run ended: its drawing is shown complete at once. */
  finishDrawing(): void {
    this.turtle?.finish();
  }

  clear(): void {
    this.turtle?.dispose();
    this.turtle = null;
    this.cancel();
    this.pending = [];
    this.pendingLines = this.pendingChars = 0;
    for (const b of this.blocks) this.release(b);
    this.log.replaceChildren();
    this.blocks = [];
    this.span = null;
    this.domLines = this.domChars = this.hiddenLines = 0;
    this.domBytes = this.hiddenElements = this.displays = 0;
    this.atLineStart = this.endsLine = true;
    this.kept = [];
    this.keptChars = this.overflowLines = 0;
    this.stderrTail = "";
    this.parsers.stdout.reset();
    this.parsers.stderr.reset();
    this.notice.hidden = true;
    if (this.blobURL) URL.revokeObjectURL(this.blobURL);
    this.blobURL = null;
    this.resolveWaiters();
  }

  /** All output since the last clear (the first MAX_KEPT_CHARS of it), escape sequences removed. */
  text(): string {
    if (this.kept.length > 1) this.kept = [this.kept.join("")];
    return this.kept[0] ?? "";
  }

  /** The line of main.py the last traceback on stderr ends in, or null. */
  errorLine(): number | null {
    let line: number | null = null;
    for (const m of this.stderrTail.matchAll(MAIN_LINE)) line = Number(m[1]);
    return line;
  }

  /** Puts everything appended so far in the page now. */
  flush(): void {
    this.cancel();
    if (this.pending.length > 0) this.render();
    this.resolveWaiters();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (document.hidden) this.channel.port2.postMessage(null);
    else this.frame = requestAnimationFrame(() => this.flush());
  }

  private cancel(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.scheduled = false;
  }

  private resolveWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private keep(text: string): void {
    const room = MAX_KEPT_CHARS - this.keptChars;
    if (text.length <= room) {
      this.kept.push(text);
      this.keptChars += text.length;
      return;
    }
    if (room > 0) {
      this.kept.push(text.slice(0, room));
      this.keptChars = MAX_KEPT_CHARS;
    }
    this.overflowLines += countLines(room > 0 ? text.slice(room) : text);
  }

  private render(): void {
    const log = this.log;
    const follow = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    let runs = this.pending;
    this.pending = [];
    if (this.pendingLines >= MAX_LINES || this.pendingChars >= MAX_DOM_CHARS) {
      // This frame's text alone fills the log: what the page holds goes,
      // and only the end of the new text comes in.
      runs = this.tail(runs);
      for (const b of this.blocks) this.hide(b);
      log.replaceChildren();
      this.blocks = [];
      this.span = null;
      this.domLines = this.domChars = this.domBytes = 0;
      this.atLineStart = true;
    }
    this.pendingLines = this.pendingChars = 0;
    for (const run of runs) this.write(run);
    this.trim();
    this.updateNotice();
    if (follow) log.scrollTop = log.scrollHeight;
  }

  /** Drops the oldest blocks while the page holds more than its limits. */
  private trim(): void {
    while (
      this.blocks.length > 1 &&
      (this.domLines > MAX_LINES || this.domChars > MAX_DOM_CHARS || this.domBytes > MAX_DOM_RICH_BYTES)
    ) {
      const b = this.blocks.shift()!;
      b.el.remove();
      this.domLines -= b.lines;
      this.domChars -= b.chars;
      this.domBytes -= b.element?.bytes ?? 0;
      this.hide(b);
    }
  }

  /** Counts a block that left the page as hidden, and frees what it held. */
  private hide(b: Block): void {
    if (b.element) this.hiddenElements++;
    else this.hiddenLines += b.lines;
    this.release(b);
  }

  private release(b: Block): void {
    if (!b.element) return;
    this.resized.unobserve(b.el);
    b.element.dispose?.();
  }

  /** The end of runs that fits the page (MAX_LINES lines, MAX_DOM_CHARS characters); the rest counts as hidden. */
  private tail(runs: Run[]): Run[] {
    const out: Run[] = [];
    let lines = 0;
    let chars = 0;
    for (let r = runs.length - 1; r >= 0; r--) {
      const { text } = runs[r];
      let cut = 0; // where the kept part of this run starts
      let full = true;
      let c = 0; // newlines after position i
      for (let i = text.lastIndexOf("\n"); i >= 0; i = i > 0 ? text.lastIndexOf("\n", i - 1) : -1) {
        if (lines + c >= MAX_LINES) {
          cut = i + 1;
          full = false;
          break;
        }
        c++;
      }
      if (chars + text.length - cut > MAX_DOM_CHARS) {
        cut = text.length - (MAX_DOM_CHARS - chars);
        full = false;
      }
      const piece = cut > 0 ? text.slice(cut) : text;
      out.unshift({ ...runs[r], text: piece });
      lines += countLines(piece);
      chars += piece.length;
      if (!full) {
        this.hiddenLines += countLines(text.slice(0, cut));
        for (let s = 0; s < r; s++) this.hiddenLines += countLines(runs[s].text);
        break;
      }
    }
    return out;
  }

  /** Puts one run in the page, in blocks of at most BLOCK_LINES lines. */
  private write(run: Run): void {
    let text = run.text;
    while (text) {
      let b = this.blocks[this.blocks.length - 1];
      if (!b || b.element || (this.atLineStart && b.lines >= BLOCK_LINES)) {
        b = { el: document.createElement("div"), lines: 0, chars: 0 };
        b.el.className = "out-block";
        this.blocks.push(b);
        this.log.append(b.el);
      }
      const room = Math.max(1, BLOCK_LINES - b.lines);
      let n = 0;
      let end = 0;
      for (let i = text.indexOf("\n"); i >= 0 && n < room; i = text.indexOf("\n", i + 1)) {
        n++;
        end = i + 1;
      }
      const piece = n === room ? text.slice(0, end) : text;
      if (!this.span || this.span.parentNode !== b.el || this.spanCls !== run.cls) {
        this.span = document.createElement("span");
        this.span.className = run.cls;
        this.span.dataset.stream = run.kind;
        this.spanCls = run.cls;
        b.el.append(this.span);
      }
      this.appendText(this.span, piece);
      b.lines += n;
      b.chars += piece.length;
      this.domLines += n;
      this.domChars += piece.length;
      this.atLineStart = piece.endsWith("\n");
      text = text.slice(piece.length);
    }
  }

  /** Appends text, with each `File "main.py", line N` a link to that line. */
  private appendText(span: HTMLElement, text: string): void {
    if (!text.includes('File "main.py", line ')) {
      span.append(text);
      return;
    }
    let at = 0;
    for (const m of text.matchAll(MAIN_LINE)) {
      const a = el("a", { href: "#", className: "tb-link", title: `Go to line ${m[1]} in the editor` }, m[0]);
      a.dataset.line = m[1];
      span.append(text.slice(at, m.index), a);
      at = m.index! + m[0].length;
    }
    span.append(text.slice(at));
  }

  private updateNotice(): void {
    if (this.hiddenLines === 0 && this.overflowLines === 0 && this.hiddenElements === 0) return;
    let text = `${formatCount(this.hiddenLines)} earlier lines are not shown`;
    if (this.hiddenElements > 0) text += ` (nor ${formatCount(this.hiddenElements)} earlier images or other outputs)`;
    if (this.overflowLines > 0) {
      text += `; the first ${MAX_KEPT_CHARS / 1e6} MB are kept, ${formatCount(this.overflowLines)} more lines were only counted`;
    }
    this.noticeText.textContent = text;
    this.notice.hidden = false;
  }

  private textURL(): string {
    if (this.blobURL) URL.revokeObjectURL(this.blobURL);
    this.blobURL = URL.createObjectURL(new Blob([this.text()], { type: "text/plain;charset=utf-8" }));
    return this.blobURL;
  }
}
