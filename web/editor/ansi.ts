// ANSI escape sequences in program output: SGR sequences (colours and bold)
// become styles, every other escape sequence is dropped, so that output
// meant for a terminal never shows raw "\x1b[31m" in the page.

/** A terminal's text attributes: 16-colour palette indices (-1 = default) and bold. */
export interface AnsiStyle {
  fg: number;
  bg: number;
  bold: boolean;
}

export const PLAIN: AnsiStyle = { fg: -1, bg: -1, bold: false };

/** The CSS classes for a style ("" for plain text); output.css defines them. */
export function styleClass(s: AnsiStyle): string {
  let c = "";
  if (s.fg >= 0) c += ` ansi-fg${s.fg}`;
  if (s.bg >= 0) c += ` ansi-bg${s.bg}`;
  if (s.bold) c += " ansi-bold";
  return c.trim();
}

/** Applies one SGR sequence's parameters ("1;31", "" = reset) to a style. */
export function applySGR(style: AnsiStyle, params: string): AnsiStyle {
  const s = { ...style };
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) Object.assign(s, PLAIN);
    else if (c === 1) s.bold = true;
    else if (c === 22) s.bold = false;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) s.fg = -1;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) s.bg = -1;
    else if (c === 38 || c === 48) {
      // 256-colour (5;n) and true-colour (2;r;g;b) forms: the first 16 of
      // the 256 are the basic palette; the rest fall back to the default.
      const mode = codes[i + 1];
      const value = mode === 5 && codes[i + 2] < 16 ? codes[i + 2] : -1;
      if (c === 38) s.fg = value;
      else s.bg = value;
      i += mode === 5 ? 2 : mode === 2 ? 4 : 1;
    }
    // Anything else (italic, underline, blink, …) is ignored.
  }
  return s;
}

/** One piece of text in one style. */
export interface StyledText {
  style: AnsiStyle;
  text: string;
}

/**
 * Splits a stream's text into styled pieces, keeping the style and any
 * incomplete escape sequence at the end for the stream's next text.
 */
export class AnsiParser {
  style: AnsiStyle = PLAIN;
  private carry = "";

  parse(input: string): StyledText[] {
    const text = this.carry + input;
    this.carry = "";
    const out: StyledText[] = [];
    // Fast path: no escape character (and no BEL) at all.
    if (text.indexOf("\x1b") < 0 && text.indexOf("\x07") < 0) {
      if (text) out.push({ style: this.style, text });
      return out;
    }
    let start = 0;
    let i = 0;
    const push = (end: number) => {
      if (end > start) {
        const last = out[out.length - 1];
        if (last && last.style === this.style) last.text += text.slice(start, end);
        else out.push({ style: this.style, text: text.slice(start, end) });
      }
    };
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (ch === 0x07) {
        // A lone BEL: nothing to show.
        push(i);
        start = i = i + 1;
        continue;
      }
      if (ch !== 0x1b) {
        i++;
        continue;
      }
      push(i);
      const end = sequenceEnd(text, i);
      if (end < 0) {
        // Incomplete: wait for the rest (a runaway one is dropped).
        const rest = text.slice(i);
        if (rest.length < 256) this.carry = rest;
        start = i = text.length;
        break;
      }
      if (text[i + 1] === "[" && text[end - 1] === "m") this.style = applySGR(this.style, text.slice(i + 2, end - 1));
      start = i = end;
    }
    push(text.length);
    return out;
  }

  reset(): void {
    this.style = PLAIN;
    this.carry = "";
  }
}

/**
 * The index just past the escape sequence starting at text[i] (an ESC), or
 * -1 when the text ends before it does.
 */
function sequenceEnd(text: string, i: number): number {
  if (i + 1 >= text.length) return -1;
  const kind = text[i + 1];
  if (kind === "[") {
    // CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E.
    for (let j = i + 2; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) return j + 1;
      if (c < 0x20 || c > 0x3f) return j; // malformed: drop what came so far
    }
    return -1;
  }
  if (kind === "]" || kind === "P" || kind === "_" || kind === "^") {
    // OSC / DCS / APC / PM: up to BEL or ST (ESC \).
    for (let j = i + 2; j < text.length; j++) {
      if (text[j] === "\x07") return j + 1;
      if (text[j] === "\x1b" && j + 1 < text.length) return text[j + 1] === "\\" ? j + 2 : j;
    }
    return -1;
  }
  // ESC, any intermediates (0x20–0x2F), one final byte: charset designations and the like.
  let j = i + 1;
  while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  return j < text.length ? j + 1 : -1;
}
