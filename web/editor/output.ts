// The Output log: appends streamed text, keeps stderr distinguishable
// (data-stream="stderr"), follows the end unless the reader scrolled up, and
// caps its size so a runaway print loop cannot exhaust the page.

const MAX_CHARS = 1_000_000;

export type OutputKind = "stdout" | "stderr" | "stdin" | "info";

export class Output {
  private chars = 0;
  private truncated = false;

  constructor(private readonly el: HTMLElement) {}

  append(kind: OutputKind, text: string): void {
    if (!text) return;
    const follow = this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 40;
    const last = this.el.lastElementChild as HTMLElement | null;
    if (last && last.dataset.stream === kind && kind !== "info") {
      last.append(text);
    } else {
      const span = document.createElement("span");
      span.dataset.stream = kind;
      span.className = `out-${kind}`;
      span.textContent = text;
      this.el.append(span);
    }
    this.chars += text.length;
    if (this.chars > MAX_CHARS) this.trim();
    if (follow) this.el.scrollTop = this.el.scrollHeight;
  }

  /** A line of the playground's own (not the program's), on its own line. */
  info(text: string): void {
    const last = this.el.lastElementChild;
    const needsBreak = last !== null && !(last.textContent ?? "").endsWith("\n");
    this.append("info", (needsBreak ? "\n" : "") + text + "\n");
  }

  clear(): void {
    this.el.replaceChildren();
    this.chars = 0;
    this.truncated = false;
  }

  text(): string {
    return this.el.textContent ?? "";
  }

  private trim(): void {
    while (this.chars > MAX_CHARS / 2 && this.el.firstElementChild) {
      const first = this.el.firstElementChild;
      this.chars -= first.textContent?.length ?? 0;
      first.remove();
    }
    if (!this.truncated) {
      this.truncated = true;
      const note = document.createElement("span");
      note.dataset.stream = "info";
      note.className = "out-info";
      note.textContent = "… earlier output was dropped to keep the page responsive\n";
      this.el.prepend(note);
    }
  }
}
