// The editor page's layout preferences, remembered per browser: the split
// between the editor and the console (a separator dragged with a pointer or
// moved with the arrow keys), the code's text size, and the Settings
// popover, which stays inside the viewport and closes like a menu.

/** Where the preferences are kept (localStorage). */
export const LAYOUT_KEY = "pyplay.layout.v1";

/** The page's narrow layout (style.css uses the same breakpoint): one column, the separator between rows. */
const NARROW = "(max-width: 800px)";

const FONT_MIN = 10;
const FONT_MAX = 24;
const FONT_DEFAULT = 14;
/** The editor's share of the split, in percent: its bounds and one arrow key's step. */
const SPLIT_MIN = 20;
const SPLIT_MAX = 80;
const SPLIT_STEP = 5;

interface Prefs {
  /** The editor's width in percent of the split (side by side). */
  split?: number;
  /** The editor's height in percent of the viewport (narrow screens, one column). */
  rows?: number;
  /** The code's text size in px. */
  font?: number;
}

function load(): Prefs {
  try {
    const p = JSON.parse(localStorage.getItem(LAYOUT_KEY) ?? "{}") as Prefs;
    return typeof p === "object" && p !== null ? p : {};
  } catch {
    return {};
  }
}

function save(p: Prefs): void {
  try {
    localStorage.setItem(LAYOUT_KEY, JSON.stringify(p));
  } catch {
    // Private mode or full: the layout simply is not remembered.
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export class Layout {
  private prefs = load();
  private readonly narrow = window.matchMedia(NARROW);

  constructor(
    private readonly split: HTMLElement,
    private readonly separator: HTMLElement,
    /** Called after the layout changed size (CodeMirror measures itself again). */
    private readonly resized: () => void,
  ) {
    this.applySplit();
    this.applyFont();
    this.narrow.addEventListener("change", () => this.applySplit());
    separator.addEventListener("keydown", (e) => this.onKey(e));
    separator.addEventListener("pointerdown", (e) => this.onPointerDown(e));
    separator.addEventListener("dblclick", () => this.setSplit(50));
  }

  /** The editor's share in percent: of the width side by side, of the viewport's height on narrow screens. */
  get splitPercent(): number {
    return this.narrow.matches ? (this.prefs.rows ?? 55) : (this.prefs.split ?? 50);
  }

  setSplit(percent: number): void {
    const v = Math.round(clamp(percent, SPLIT_MIN, SPLIT_MAX));
    if (this.narrow.matches) this.prefs.rows = v;
    else this.prefs.split = v;
    save(this.prefs);
    this.applySplit();
  }

  private applySplit(): void {
    const v = this.splitPercent;
    this.split.style.setProperty("--split", `${v}%`);
    this.split.style.setProperty("--split-rows", `${v}vh`);
    this.separator.setAttribute("aria-orientation", this.narrow.matches ? "horizontal" : "vertical");
    this.separator.setAttribute("aria-valuenow", String(v));
    this.separator.setAttribute("aria-valuetext", `editor ${v}%`);
    this.resized();
  }

  private onKey(e: KeyboardEvent): void {
    const v = this.splitPercent;
    const grow = this.narrow.matches ? "ArrowDown" : "ArrowRight";
    const shrink = this.narrow.matches ? "ArrowUp" : "ArrowLeft";
    let next: number;
    if (e.key === grow) next = v + SPLIT_STEP;
    else if (e.key === shrink) next = v - SPLIT_STEP;
    else if (e.key === "Home") next = SPLIT_MIN;
    else if (e.key === "End") next = SPLIT_MAX;
    else if (e.key === "Enter") next = 50;
    else return;
    e.preventDefault();
    this.setSplit(next);
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    e.preventDefault();
    const sep = this.separator;
    sep.setPointerCapture(e.pointerId);
    sep.classList.add("dragging");
    const move = (ev: PointerEvent) => {
      if (this.narrow.matches) {
        const top = this.split.getBoundingClientRect().top;
        this.setSplit((100 * (ev.clientY - top)) / window.innerHeight);
      } else {
        const r = this.split.getBoundingClientRect();
        this.setSplit((100 * (ev.clientX - r.left)) / r.width);
      }
    };
    const up = () => {
      sep.classList.remove("dragging");
      sep.removeEventListener("pointermove", move);
      sep.removeEventListener("pointerup", up);
      sep.removeEventListener("pointercancel", up);
    };
    sep.addEventListener("pointermove", move);
    sep.addEventListener("pointerup", up);
    sep.addEventListener("pointercancel", up);
  }

  get fontSize(): number {
    return this.prefs.font ?? FONT_DEFAULT;
  }

  /** Sets the code's (and the output's) text size in px, within FONT_MIN..FONT_MAX. */
  setFontSize(px: number): void {
    this.prefs.font = clamp(Math.round(px), FONT_MIN, FONT_MAX);
    save(this.prefs);
    this.applyFont();
  }

  /** Wires the Settings' A− / A+ buttons and the size they show. */
  bindFontControls(smaller: HTMLButtonElement, larger: HTMLButtonElement, shown: HTMLOutputElement): void {
    const update = () => {
      shown.value = `${this.fontSize} px`;
      smaller.disabled = this.fontSize <= FONT_MIN;
      larger.disabled = this.fontSize >= FONT_MAX;
    };
    smaller.addEventListener("click", () => (this.setFontSize(this.fontSize - 1), update()));
    larger.addEventListener("click", () => (this.setFontSize(this.fontSize + 1), update()));
    update();
  }

  private applyFont(): void {
    document.documentElement.style.setProperty("--code-size", `${this.fontSize}px`);
    this.resized();
  }
}

/**
 * Makes a <details> a popover that behaves like one: opened, its body is
 * moved left as far as it must to stay inside the viewport; a click outside
 * or Escape closes it (Escape returns focus to its summary).
 */
export function popover(details: HTMLDetailsElement, body: HTMLElement): void {
  const place = () => {
    body.style.left = "0px";
    const r = body.getBoundingClientRect();
    const margin = 8;
    const over = r.right - (document.documentElement.clientWidth - margin);
    if (over > 0) body.style.left = `${-Math.min(over, r.left - margin)}px`;
  };
  details.addEventListener("toggle", () => {
    if (details.open) place();
  });
  window.addEventListener("resize", () => {
    if (details.open) place();
  });
  document.addEventListener("pointerdown", (e) => {
    if (details.open && !details.contains(e.target as Node)) details.open = false;
  });
  document.addEventListener("focusin", (e) => {
    if (details.open && !details.contains(e.target as Node)) details.open = false;
  });
  details.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !details.open) return;
    e.preventDefault();
    e.stopPropagation(); // Escape here closes the popover, it does not stop the program
    details.open = false;
    details.querySelector("summary")?.focus();
  });
}
